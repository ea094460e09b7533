"""Linux tc state for one gateway: builders, live-state readers and the minimal diff.

Standard library only: this file also runs on the gateways, inside the Ansible module
`bandwidth_tc` (roles/bandwidth/module_utils links to it).

The tree on each shaped device (the LAN interface for download, its ifb for upload):

    qdisc 1: htb default 2
      class 1:1      the uplink: rate = ceil = capacity
        class 1:2    unclassified traffic: rate = the reserve, ceil = capacity, prio 7
        class 1:<m>  one per allocation: rate = guaranteed, ceil = max, prio = priority
          qdisc <m>: the leaf (fq_codel in production, pfifo in the lab)
    filter prio 1 (IPv4) and prio 2 (IPv6): u32, the root table hashes one address byte
      into table 2: (IPv4) or 3: (IPv6) with 256 buckets; each bucket holds the matches of
      the subnets that fall in it, so classification scales past u32's 4,096 nodes per table.

Commands are lines for `tc -batch` (without the leading "tc").
"""

from __future__ import annotations

import ipaddress
import json
import re

PARENT_MINOR = 1
DEFAULT_MINOR = 2
MINOR_FIRST, MINOR_LAST = 0x10, 0xFFEF  # allocation classes; their leaf qdisc handle is <minor>:
TABLES = {4: 2, 6: 3}  # u32 hash table handle per IP version
PRIOS = {4: 1, 6: 2}  # filter priority per IP version
PROTOCOLS = {4: "ip", 6: "ipv6"}
NODE_LAST = 0xFFF  # u32 node ids per bucket: 1 .. 0xfff

# Where the address is in the packet, and which 32-bit word/mask feeds the hash:
# IPv4 hashes the third octet, IPv6 the eighth byte (the last of a /64 prefix).
ADDRESS_OFFSET = {(4, "dst"): 16, (4, "src"): 12, (6, "dst"): 24, (6, "src"): 8}
HASH_KEY = {4: (0x0000FF00, 0), 6: (0x000000FF, 4)}  # mask, byte offset from the address start


class TcError(Exception):
    """A tc command failed: the device, the command and what tc said."""


def minor_for(request_id: str) -> int:
    """A stable class minor from an id like BW-2026-0007 (collisions are probed by the caller)."""
    match = re.fullmatch(r"BW-(\d{4})-(\d{4})", request_id)
    number = int(match.group(1)) * 10000 + int(match.group(2)) if match else sum(request_id.encode())
    return MINOR_FIRST + number % (MINOR_LAST - MINOR_FIRST + 1)


def assign_minors(request_ids: list[str]) -> dict[str, int]:
    """Minors for the ids on one device; on a collision the newer id (sorting later) probes on."""
    taken: dict[int, str] = {}
    result = {}
    for request_id in sorted(request_ids):
        minor = minor_for(request_id)
        while minor in taken:
            minor = MINOR_FIRST if minor >= MINOR_LAST else minor + 1
        taken[minor] = request_id
        result[request_id] = minor
    return result


def rate_text(kbit: int) -> str:
    """A rate as `tc class show` prints it (iproute2's print_rate), for exact comparison."""
    rate = kbit * 1000
    units = ["", "K", "M", "G", "T"]
    index = 0
    while index < len(units) - 1:
        if rate < 1000 or (rate % 1000 != 0 and rate < 1000 * 1000):
            break
        rate //= 1000
        index += 1
    return f"{rate}{units[index]}bit"


def quantum(kbit: int) -> int:
    """Bytes a class may send per round: rate/10 as HTB's default, kept within MTU..200000."""
    return min(200_000, max(1514, kbit * 125 // 10))


def buckets(version: int, prefix: str) -> list[int]:
    """The hash buckets a subnet's addresses fall in."""
    net = ipaddress.ip_network(prefix)
    address = int(net.network_address)
    if version == 4:
        fixed_bits = min(max(net.prefixlen - 16, 0), 8)  # of the third octet
        start = (address >> 8) & 0xFF
    else:
        fixed_bits = min(max(net.prefixlen - 56, 0), 8)  # of the eighth byte
        start = (address >> 64) & 0xFF
    count = 1 << (8 - fixed_bits)
    start &= ~(count - 1) & 0xFF
    return list(range(start, start + count))


def u32_matches(version: int, field: str, prefix: str) -> list[tuple[int, int, int]]:
    """(value, mask, offset) words that match a prefix, as the kernel stores them."""
    net = ipaddress.ip_network(prefix)
    base = ADDRESS_OFFSET[(version, field)]
    words = 1 if version == 4 else 4
    address, mask = int(net.network_address), int(net.netmask)
    bits = 32 * words
    found = []
    for index in range(words):
        shift = bits - 32 * (index + 1)
        word_mask = (mask >> shift) & 0xFFFFFFFF
        if word_mask:
            found.append(((address >> shift) & word_mask, word_mask, base + 4 * index))
    return found


def _hash_key(version: int, field: str) -> tuple[int, int]:
    mask, byte_offset = HASH_KEY[version]
    return mask, ADDRESS_OFFSET[(version, field)] + byte_offset


# ---- builders: one per tc object -------------------------------------------------------


def r2q(capacity_kbit: int) -> int:
    """HTB's rate-to-quantum divisor, so that the uplink class's quantum stays <= 200000 bytes
    (leaf classes set their quantum explicitly; this only keeps the kernel from warning)."""
    return max(10, -(-capacity_kbit * 125 // 200_000))


def qdisc_root(device: str, capacity_kbit: int) -> str:
    return f"qdisc replace dev {device} root handle 1: htb default {DEFAULT_MINOR:x} r2q {r2q(capacity_kbit)}"


def qdisc_leaf(device: str, minor: int, leaf: str) -> str:
    return f"qdisc replace dev {device} parent 1:{minor:x} handle {minor:x}: {leaf}"


def qdisc_ingress(device: str) -> str:
    return f"qdisc replace dev {device} handle ffff: ingress"


def htb_class(verb: str, device: str, parent: str, minor: int, rate: str, ceil: str, prio: int | None = None, quantum_bytes: int | None = None) -> str:
    command = f"class {verb} dev {device} parent {parent} classid 1:{minor:x} htb rate {rate} ceil {ceil}"
    if prio is not None:
        command += f" prio {prio}"
    if quantum_bytes is not None:
        command += f" quantum {quantum_bytes}"
    return command


def filter_table(device: str, version: int) -> str:
    return f"filter add dev {device} parent 1: prio {PRIOS[version]} handle {TABLES[version]:x}: protocol {PROTOCOLS[version]} u32 divisor 256"


def filter_link(device: str, version: int, field: str) -> str:
    mask, offset = _hash_key(version, field)
    match = f"ip {field} 0.0.0.0/0" if version == 4 else f"ip6 {field} ::/0"
    return f"filter add dev {device} parent 1: prio {PRIOS[version]} protocol {PROTOCOLS[version]} u32 match {match} hashkey mask 0x{mask:08x} at {offset} link {TABLES[version]:x}:"


def filter_leaf(device: str, version: int, bucket: int, node: int, matches, minor: int) -> str:
    table = TABLES[version]
    words = " ".join(f"match u32 0x{value:08x} 0x{mask:08x} at {offset}" for value, mask, offset in matches)
    return f"filter add dev {device} parent 1: prio {PRIOS[version]} handle {table:x}:{bucket:x}:{node:x} protocol {PROTOCOLS[version]} u32 ht {table:x}:{bucket:x}: {words} flowid 1:{minor:x}"


def filter_delete(device: str, version: int, handle: str) -> str:
    return f"filter del dev {device} parent 1: prio {PRIOS[version]} handle {handle} protocol {PROTOCOLS[version]} u32"


def filter_redirect(device: str, ifb: str) -> str:
    return f"filter add dev {device} parent ffff: prio 1 protocol all u32 match u32 0 0 action mirred egress redirect dev {ifb}"


# ---- desired state ---------------------------------------------------------------------


def desired_classes(spec: dict) -> dict[int, dict]:
    """minor -> class attributes, from a device spec (see render.py)."""
    capacity = spec["capacity_kbit"]
    classes = {
        PARENT_MINOR: {"parent": "root", "rate": rate_text(capacity), "ceil": rate_text(capacity), "prio": None, "quantum": None},
        DEFAULT_MINOR: {"parent": "1:1", "rate": rate_text(spec["default_kbit"]), "ceil": rate_text(capacity), "prio": 7, "quantum": quantum(spec["default_kbit"])},
    }
    for item in spec["classes"]:
        classes[item["minor"]] = {
            "parent": "1:1",
            "rate": rate_text(item["rate_kbit"]),
            "ceil": rate_text(item["ceil_kbit"]),
            "prio": item["prio"],
            "quantum": quantum(item["rate_kbit"]),
            "label": item.get("label"),
        }
    return classes


def desired_filters(spec: dict) -> set[tuple]:
    """(version, bucket, matches, minor) for every subnet on the device."""
    field = "dst" if spec["direction"] == "download" else "src"
    found = set()
    for item in spec["filters"]:
        version = item["family"]
        matches = tuple(u32_matches(version, field, item["prefix"]))
        for bucket in buckets(version, item["prefix"]):
            found.add((version, bucket, matches, item["minor"]))
    return found


def field_of(spec: dict) -> str:
    return "dst" if spec["direction"] == "download" else "src"


# ---- reading the live state --------------------------------------------------------------


def _json_with_repeats(text: str):
    """tc -j repeats the key "match" in one object; keep every value."""

    def pairs(items):
        result = {}
        for key, value in items:
            if key in result:
                if not isinstance(result[key], list) or key != "match":
                    result[key] = [result[key]]
                result[key].append(value)
            else:
                result[key] = [value] if key == "match" else value
        return result

    return json.loads(text or "[]", object_pairs_hook=pairs)


def parse_qdiscs(text: str) -> list[dict]:
    return _json_with_repeats(text)


def parse_classes(text: str) -> dict[int, dict]:
    """`tc -d class show dev X` (HTB prints classes only as text in iproute2 6.1)."""
    classes = {}
    for line in text.splitlines():
        tokens = line.split()
        if len(tokens) < 3 or tokens[0] != "class" or tokens[1] != "htb":
            continue
        major, minor = tokens[2].split(":")
        if major != "1":
            continue
        item = {"parent": None, "rate": None, "ceil": None, "prio": None, "quantum": None, "leaf": None}
        index = 3
        while index < len(tokens):
            token = tokens[index]
            if token == "root":  # noqa: S105 - a tc keyword, not a password
                item["parent"] = "root"
                index += 1
                continue
            if token in ("parent", "rate", "ceil", "leaf", "prio", "quantum") and index + 1 < len(tokens):
                value = tokens[index + 1]
                item[token] = int(value) if token in ("prio", "quantum") else value
                index += 2
                continue
            index += 1
        classes[int(minor, 16)] = item
    return classes


def parse_filters(text: str) -> dict:
    """Our u32 filters under parent 1: from `tc -j filter show dev X`."""
    state = {"tables": set(), "links": {}, "leaves": {}}  # leaves: handle -> (version, bucket, matches, minor)
    for entry in _json_with_repeats(text):
        options = entry.get("options")
        if entry.get("kind") != "u32" or not options or entry.get("parent", "1:") != "1:":
            continue
        version = 6 if entry.get("protocol") == "ipv6" else 4
        handle = options.get("fh", "")
        if "ht_divisor" in options:
            if options["ht_divisor"] == 256:
                state["tables"].add((version, handle))
            continue
        if "link" in options:
            state["links"][version] = (options["link"], int(options.get("hash_mask", "0"), 16), options.get("hash_off"), handle)
            continue
        parts = handle.split(":")
        if len(parts) == 3 and "flowid" in options:
            matches = tuple((int(m["value"], 16), int(m["mask"], 16), m["off"]) for m in options.get("match", []))
            minor = int(options["flowid"].split(":")[1], 16)
            table, bucket, node = (int(part or "0", 16) for part in parts)  # tc prints bucket 0 as "2::1"
            state["leaves"][f"{table:x}:{bucket:x}:{node:x}"] = (version, bucket, matches, minor)
    return state


# ---- the plan ------------------------------------------------------------------------------


def full_build(spec: dict, leaf: str) -> list[str]:
    """Every command that builds the device's tree from nothing (also the dry-run text)."""
    device, field = spec["device"], field_of(spec)
    commands = [qdisc_root(device, spec["capacity_kbit"])]
    classes = desired_classes(spec)
    for minor, item in sorted(classes.items()):
        parent = "1:" if minor == PARENT_MINOR else "1:1"
        commands.append(htb_class("replace", device, parent, minor, item["rate"], item["ceil"], item["prio"], item["quantum"]))
        if minor != PARENT_MINOR:
            commands.append(qdisc_leaf(device, minor, leaf))
    for version in (4, 6):
        commands += [filter_table(device, version), filter_link(device, version, field)]
    commands += _add_filters(device, sorted(desired_filters(spec)), {})
    return commands


def _add_filters(device: str, wanted, used_nodes: dict) -> list[str]:
    commands = []
    for version, bucket, matches, minor in wanted:
        used = used_nodes.setdefault((version, bucket), set())
        node = next(n for n in range(1, NODE_LAST + 1) if n not in used)
        used.add(node)
        commands.append(filter_leaf(device, version, bucket, node, matches, minor))
    return commands


def infrastructure_ok(spec: dict, qdiscs: list[dict], classes: dict, filters: dict) -> bool:
    """The parts every allocation hangs on: if one differs, the device is rebuilt whole."""
    root = next((q for q in qdiscs if q.get("root")), None)
    if not root or root.get("kind") != "htb" or root.get("handle") != "1:" or root.get("options", {}).get("default") != f"0x{DEFAULT_MINOR:x}":
        return False
    if PARENT_MINOR not in classes or classes[PARENT_MINOR]["parent"] != "root":
        return False
    field = field_of(spec)
    for version in (4, 6):
        if (version, f"{TABLES[version]:x}:") not in filters["tables"]:
            return False
        link = filters["links"].get(version)
        mask, offset = _hash_key(version, field)
        if not link or link[0] != f"{TABLES[version]:x}:" or link[1] != mask or link[2] != offset:
            return False
    return True


def plan_device(spec: dict, leaf: str, qdiscs: list[dict], classes: dict, filters: dict) -> list[str]:
    """The fewest commands that turn the live tree into the desired one."""
    device = spec["device"]
    if not infrastructure_ok(spec, qdiscs, classes, filters):
        root = next((q for q in qdiscs if q.get("root")), None)
        # A root of its own (non-zero handle) goes first; the kernel's default one is replaced.
        clear = [f"qdisc del dev {device} root"] if root and root.get("handle") not in ("0:", None) else []
        return clear + full_build(spec, leaf)
    want_classes = desired_classes(spec)
    want_filters = desired_filters(spec)
    leaf_kind = leaf.split(maxsplit=1)[0]
    leaves = {int(q["parent"].split(":")[1], 16): q for q in qdiscs if q.get("parent", "").startswith("1:")}

    deletes, changes, leaf_changes = [], [], []
    live_filters = filters["leaves"]
    keep, kept = {}, set()
    for handle, key in sorted(live_filters.items()):
        if key in want_filters and key not in kept:
            keep[handle] = key
            kept.add(key)
        else:
            deletes.append(filter_delete(device, key[0], handle))
    for minor in sorted(classes):
        if minor not in want_classes:
            deletes.append(f"class del dev {device} classid 1:{minor:x}")
    for minor, item in sorted(want_classes.items()):
        live = classes.get(minor)
        parent = "1:" if minor == PARENT_MINOR else "1:1"
        if live is None:
            changes.append(htb_class("add", device, parent, minor, item["rate"], item["ceil"], item["prio"], item["quantum"]))
        elif any(live[k] != item[k] for k in ("rate", "ceil", "prio", "quantum")) or (minor != PARENT_MINOR and live["parent"] != "1:1"):
            changes.append(htb_class("change", device, parent, minor, item["rate"], item["ceil"], item["prio"], item["quantum"]))
        if minor != PARENT_MINOR:
            current = leaves.get(minor)
            if live is None or current is None or current.get("kind") != leaf_kind or current.get("handle") != f"{minor:x}:":
                leaf_changes.append(qdisc_leaf(device, minor, leaf))
    used_nodes: dict = {}
    for handle in keep:
        table, bucket, node = handle.split(":")
        version = 4 if int(table, 16) == TABLES[4] else 6
        used_nodes.setdefault((version, int(bucket, 16)), set()).add(int(node, 16))
    additions = _add_filters(device, sorted(want_filters - kept), used_nodes)
    # Filters go before the classes they point at are deleted, and after new classes exist.
    return deletes + changes + leaf_changes + additions


def redirect_targets(filters_text: str) -> list[str]:
    """The devices an ingress redirects to (mirred egress redirect), from `tc -j filter show ... parent ffff:`."""
    found = set()
    for entry in _json_with_repeats(filters_text):
        for action in (entry.get("options") or {}).get("actions", []):
            if action.get("kind") == "mirred" and action.get("mirred_action") == "redirect" and action.get("to_dev"):
                found.add(action["to_dev"])
    return sorted(found)


def plan_redirect(device: str, ifb: str, qdiscs: list[dict], filters_text: str) -> list[str]:
    """Ingress on the LAN interface, redirected to the ifb that shapes upload."""
    has_ingress = any(q.get("kind") == "ingress" for q in qdiscs)
    if has_ingress and ifb in redirect_targets(filters_text):
        return []
    commands = [] if not has_ingress else [f"qdisc del dev {device} handle ffff: ingress"]
    return [*commands, qdisc_ingress(device), filter_redirect(device, ifb)]


def restore_commands(device: str, qdiscs: list[dict], classes: dict, filters: dict) -> list[str]:
    """Commands that rebuild a device as it was read before a change (rollback)."""
    commands = [f"qdisc del dev {device} root"]  # run with -force: it may have nothing to delete
    root = next((q for q in qdiscs if q.get("root")), None)
    if not root or root.get("kind") != "htb":
        if root and root.get("kind") not in ("noqueue", "pfifo_fast", "mq", None):
            commands.append(f"qdisc replace dev {device} root {root['kind']}")
        return commands
    default = root.get("options", {}).get("default", f"0x{DEFAULT_MINOR:x}")
    r2q_value = root.get("options", {}).get("r2q", 10)
    commands.append(f"qdisc replace dev {device} root handle 1: htb default {int(str(default), 16):x} r2q {r2q_value}")
    for minor, item in sorted(classes.items(), key=lambda kv: kv[1]["parent"] != "root"):
        parent = "1:" if item["parent"] == "root" else item["parent"]
        commands.append(htb_class("replace", device, parent, minor, item["rate"], item["ceil"], item["prio"], item["quantum"]))
    for q in qdiscs:
        if q.get("parent", "").startswith("1:") and q.get("kind"):
            commands.append(f"qdisc replace dev {device} parent {q['parent']} handle {q['handle']} {q['kind']}")
    for version, handle in sorted(filters["tables"]):
        commands.append(f"filter add dev {device} parent 1: prio {PRIOS[version]} handle {handle} protocol {PROTOCOLS[version]} u32 divisor 256")
    for version, (_link, mask, offset, _handle) in sorted(filters["links"].items()):
        field = next((f for f in ("dst", "src") if _hash_key(version, f) == (mask, offset)), None)
        if field is not None:  # any other link is not ours and is not restored
            commands.append(filter_link(device, version, field))
    for handle, (version, bucket, matches, minor) in sorted(filters["leaves"].items()):
        node = int(handle.split(":")[2], 16)
        commands.append(filter_leaf(device, version, bucket, node, matches, minor))
    return commands


def differences(spec: dict, commands: list[str]) -> list[dict]:
    """What each planned command says about drift: the device, the allocation it concerns
    (None for the uplink's own classes or objects main does not know), and the command."""
    labels = {item["minor"]: item["label"] for item in spec.get("classes", [])}
    found = []
    for command in commands:
        match = re.search(r"(?:classid|flowid) 1:([0-9a-f]+)", command) or re.search(r"parent 1:([0-9a-f]+)", command)
        minor = int(match.group(1), 16) if match else None
        found.append({"device": spec["device"], "allocation": labels.get(minor), "difference": command})
    return found
