"""The tc core, rollback: the commands that rebuild a device as it was read before a change.

Standard library only (Python 3.10+, as the gateways have): it runs on the gateways (the Ansible modules, the boot restore)
and in the CLI (`bandwidth render`, `measure`, `monitor`), which imports it from this folder, its
single home (scripts/bandwidth/shaping/tc.py).
"""

from __future__ import annotations

try:  # on a gateway, under Ansible
    from ansible.module_utils.bandwidth_tc_build import DEFAULT_MINOR, PRIOS, PROTOCOLS, filter_leaf, filter_link, hash_key, htb_class
except ImportError:  # the boot restore and the CLI: this folder is on sys.path
    from bandwidth_tc_build import DEFAULT_MINOR, PRIOS, PROTOCOLS, filter_leaf, filter_link, hash_key, htb_class  # type: ignore[no-redef]


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
        commands.append(htb_class("replace", device, parent, minor, item["rate"], item["ceil"], item["prio"], item["quantum"], item.get("burst"), item.get("cburst")))
    for q in qdiscs:
        if q.get("parent", "").startswith("1:") and q.get("kind"):
            commands.append(f"qdisc replace dev {device} parent {q['parent']} handle {q['handle']} {q['kind']}")
    for version, handle in sorted(filters["tables"]):
        commands.append(f"filter add dev {device} parent 1: prio {PRIOS[version]} handle {handle} protocol {PROTOCOLS[version]} u32 divisor 256")
    for version, (_link, mask, offset, _handle) in sorted(filters["links"].items()):
        field = next((f for f in ("dst", "src") if hash_key(version, f) == (mask, offset)), None)
        if field is not None:  # any other link is not ours and is not restored
            commands.append(filter_link(device, version, field))
    for handle, (version, bucket, matches, minor) in sorted(filters["leaves"].items()):
        node = int(handle.split(":")[2], 16)
        commands.append(filter_leaf(device, version, bucket, node, matches, minor))
    return commands
