"""The tc core, planner: the desired tree of a device from its plan, and the fewest commands to reach it.

Standard library only (Python 3.10+, as the gateways have): it runs on the gateways (the Ansible modules, the boot restore)
and in the CLI (`bandwidth render`, `measure`, `monitor`), which imports it from this folder, its
single home (scripts/bandwidth/shaping/tc.py).

A device's plan (one entry of `devices` in .plans/<gateway>.json, schemas/plan.schema.json): device,
direction, capacity_kbit, default_kbit, classes [{minor, rate_kbit, ceil_kbit, prio, label}],
filters [{family, prefix, minor}].
"""

from __future__ import annotations

import re

# The names are listed twice on purpose: Ansible ships a module_util to the gateway only when it finds a literal
# `from ansible.module_utils.<name> import` line, and the CLI and the boot restore import the same file by its bare name.
try:  # on a gateway, under Ansible
    from ansible.module_utils.bandwidth_tc_build import (
        DEFAULT_MINOR,
        NODE_LAST,
        PARENT_MINOR,
        TABLES,
        buckets,
        burst,
        classid,
        filter_delete,
        filter_leaf,
        filter_link,
        filter_redirect,
        filter_table,
        hash_key,
        htb_class,
        qdisc_ingress,
        qdisc_leaf,
        qdisc_root,
        quantum,
        rate_text,
        u32_matches,
    )
except ImportError:  # the boot restore and the CLI: this folder is on sys.path
    from bandwidth_tc_build import (  # type: ignore[no-redef]
        DEFAULT_MINOR,
        NODE_LAST,
        PARENT_MINOR,
        TABLES,
        buckets,
        burst,
        classid,
        filter_delete,
        filter_leaf,
        filter_link,
        filter_redirect,
        filter_table,
        hash_key,
        htb_class,
        qdisc_ingress,
        qdisc_leaf,
        qdisc_root,
        quantum,
        rate_text,
        u32_matches,
    )
try:  # on a gateway, under Ansible
    from ansible.module_utils.bandwidth_tc_parse import redirect_targets
except ImportError:  # the boot restore and the CLI: this folder is on sys.path
    from bandwidth_tc_parse import redirect_targets  # type: ignore[no-redef]


def desired_classes(spec: dict) -> dict[int, dict]:
    """minor -> class attributes, from a device spec (see bandwidth.shaping.render)."""
    capacity = spec["capacity_kbit"]
    classes = {
        PARENT_MINOR: _htb("root", capacity, capacity, None, None),
        DEFAULT_MINOR: _htb("1:1", spec["default_kbit"], capacity, 7, quantum(spec["default_kbit"])),
    }
    for item in spec["classes"]:
        classes[item["minor"]] = {**_htb("1:1", item["rate_kbit"], item["ceil_kbit"], item["prio"], quantum(item["rate_kbit"])), "label": item.get("label")}
    return classes


def _htb(parent: str, rate_kbit: int, ceil_kbit: int, prio: int | None, quantum_bytes: int | None) -> dict:
    """A class's attributes as parse_classes reads them back."""
    return {
        "parent": parent,
        "rate": rate_text(rate_kbit),
        "ceil": rate_text(ceil_kbit),
        "prio": prio,
        "quantum": quantum_bytes,
        "burst": burst(rate_kbit),
        "cburst": burst(ceil_kbit),
    }


def class_command(verb: str, device: str, minor: int, item: dict) -> str:
    parent = "1:" if minor == PARENT_MINOR else "1:1"
    return htb_class(verb, device, parent, minor, item["rate"], item["ceil"], item["prio"], item["quantum"], item["burst"], item["cburst"])


def class_differs(live: dict, wanted: dict) -> bool:
    if any(live[k] != wanted[k] for k in ("rate", "ceil", "prio", "quantum")):
        return True
    return not (_same_size(live.get("burst"), wanted["burst"]) and _same_size(live.get("cburst"), wanted["cburst"]))


def _same_size(live: int | None, wanted: int) -> bool:
    """A burst read back from tc equals the one set, but for tc's rounding through time units."""
    return live is not None and abs(live - wanted) <= max(16, wanted // 100)


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


def full_build(spec: dict, leaf: str) -> list[str]:
    """Every command that builds the device's tree from nothing (also the dry-run text)."""
    device, field = spec["device"], field_of(spec)
    commands = [qdisc_root(device, spec["capacity_kbit"])]
    classes = desired_classes(spec)
    for minor, item in sorted(classes.items()):
        commands.append(class_command("replace", device, minor, item))
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
        mask, offset = hash_key(version, field)
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
            deletes.append(f"class del dev {device} classid {classid(minor)}")
    for minor, item in sorted(want_classes.items()):
        live = classes.get(minor)
        if live is None:
            changes.append(class_command("add", device, minor, item))
        elif class_differs(live, item) or (minor != PARENT_MINOR and live["parent"] != "1:1"):
            changes.append(class_command("change", device, minor, item))
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


def plan_redirect(device: str, ifb: str, qdiscs: list[dict], filters_text: str) -> list[str]:
    """Ingress on the LAN interface, redirected to the ifb that shapes upload."""
    has_ingress = any(q.get("kind") == "ingress" for q in qdiscs)
    if has_ingress and ifb in redirect_targets(filters_text):
        return []
    commands = [] if not has_ingress else [f"qdisc del dev {device} handle ffff: ingress"]
    return [*commands, qdisc_ingress(device), filter_redirect(device, ifb)]


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
