#!/usr/bin/python
"""Converge a gateway's tc state to the desired device specs, in one tc batch, atomically."""

from __future__ import annotations

DOCUMENTATION = r"""
module: bandwidth_tc
short_description: Shape a gateway's allocations with HTB, converging with the fewest tc changes
description:
  - Reads the live qdiscs, HTB classes and u32 filters of every device, computes the minimal
    difference to the desired state and applies it in one C(tc -batch).
  - Classes of unchanged allocations are never deleted or re-created, so their counters keep counting.
  - If any command fails, every device is put back as it was read before the run and the module fails,
    naming the device, the failing command and what tc said.
  - In check mode nothing is changed; with C(--diff) the planned tc commands are shown.
options:
  gateway: {description: Name of the gateway; the plan must be for it., type: str, required: true}
  plan: {description: "The gateway's plan from C(bandwidth render --output-dir), as JSON text (keys gateway, devices, redirects, ifbs).", type: str, required: true}
  leaf_qdisc: {description: Leaf qdisc of every class, with options (fq_codel in production, pfifo in the lab)., type: str, default: fq_codel}
  tc: {description: Path of the tc binary., type: str, default: tc}
author: [Pemprov Kaltim Bidang TIK]
"""

EXAMPLES = r"""
- name: Shape the gateway
  bandwidth_tc:
    gateway: "{{ inventory_hostname }}"
    plan: "{{ lookup('ansible.builtin.file', plan_dir ~ '/' ~ inventory_hostname ~ '.json') }}"
    leaf_qdisc: pfifo
"""

RETURN = r"""
commands: {description: The tc batch lines planned (in check mode; on failure, those that were tried)., type: list, returned: check mode or failure}
count: {description: How many tc batch lines were applied (or planned)., type: int, returned: always}
differences: {description: "Per command: device, allocation (id or null) and the command; in check mode, the drift from the plan.", type: list, returned: always}
created_ifbs: {description: ifb devices created by this run., type: list, returned: always}
"""

import contextlib
import json
import os
import tempfile

from ansible.module_utils.bandwidth_tcstate import differences, parse_classes, parse_filters, parse_qdiscs, plan_device, plan_redirect, restore_commands
from ansible.module_utils.basic import AnsibleModule

DIFFERENCES_AS_DATA = 1000  # above this, `differences` is returned only as `differences_json` (outside check mode)


def read_device(module, tc, device):
    def run(*args):
        rc, out, err = module.run_command([tc, *args])
        if rc != 0:
            module.fail_json(msg=f"cannot read tc state of {device}: {' '.join([tc, *args])}: {err.strip()}")
        return out

    return {
        "qdiscs": parse_qdiscs(run("-j", "qdisc", "show", "dev", device)),
        "classes": parse_classes(run("-d", "class", "show", "dev", device)),
        "filters": parse_filters(run("-j", "filter", "show", "dev", device, "parent", "1:")),
        "ingress_filters": run("-j", "filter", "show", "dev", device, "parent", "ffff:"),
    }


def device_exists(device):
    return os.path.exists(f"/sys/class/net/{device}")


def run_batch(module, tc, commands, force=False):
    """Run commands through one tc -batch; returns (ok, failing command, tc's message)."""
    with tempfile.NamedTemporaryFile("w", prefix="bandwidth-tc-", suffix=".batch", delete=False) as handle:
        handle.write("\n".join(commands) + "\n")
        path = handle.name
    try:
        argv = [tc, "-force", "-batch", path] if force else [tc, "-batch", path]
        rc, _out, err = module.run_command(argv)
    finally:
        os.unlink(path)
    if rc == 0:
        return True, None, None
    failed = None
    for line in err.splitlines():  # "Command failed <file>:<line>"
        if line.startswith("Command failed") and ":" in line:
            with contextlib.suppress(ValueError, IndexError):
                failed = commands[int(line.rsplit(":", 1)[1]) - 1]
    return False, failed, err.strip()


def main():
    module = AnsibleModule(
        argument_spec={
            "gateway": {"type": "str", "required": True},
            # JSON text, not a structure: Ansible templates nested data slowly, and a plan
            # for thousands of allocations is large.
            "plan": {"type": "str", "required": True},
            "leaf_qdisc": {"type": "str", "default": "fq_codel"},
            "tc": {"type": "str", "default": "tc"},
        },
        supports_check_mode=True,
    )
    p = dict(module.params)
    try:
        plan = json.loads(p["plan"])
    except ValueError as exc:
        module.fail_json(msg=f"{p['gateway']}: the plan is not JSON: {exc}")
    if plan.get("gateway") != p["gateway"]:
        module.fail_json(msg=f"the plan is for {plan.get('gateway')!r}, not for {p['gateway']}")
    p.update(devices=plan["devices"], redirects=plan["redirects"], ifbs=plan["ifbs"])
    tc = module.get_bin_path(p["tc"], required=True)
    ip = module.get_bin_path("ip", required=True)

    missing_ifbs = [name for name in p["ifbs"] if not device_exists(name)]
    missing = [spec["device"] for spec in p["devices"] if spec["device"] not in missing_ifbs and not device_exists(spec["device"])]
    if missing:
        module.fail_json(msg=f"{p['gateway']}: devices missing: {', '.join(missing)} (check lan_interface in host_vars)")
    created = []
    if not module.check_mode:
        for name in missing_ifbs:
            for argv in ([ip, "link", "add", "name", name, "type", "ifb"], [ip, "link", "set", "dev", name, "up"]):
                rc, _out, err = module.run_command(argv)
                if rc != 0:
                    module.fail_json(msg=f"{p['gateway']}: cannot create ifb {name}: {err.strip()}")
            created.append(name)

    empty = {"qdiscs": [], "classes": {}, "filters": {"tables": set(), "links": {}, "leaves": {}}, "ingress_filters": "[]"}
    before = {}
    commands, per_device, found = [], {}, []
    for spec in p["devices"]:
        device = spec["device"]
        state = empty if device in missing_ifbs and module.check_mode else read_device(module, tc, device)
        before[device] = state
        planned = plan_device(spec, p["leaf_qdisc"], state["qdiscs"], state["classes"], state["filters"])
        per_device[device] = planned
        commands += planned
        found += differences(spec, planned)
    for redirect in p["redirects"]:
        device = redirect["device"]
        state = before.get(device) or read_device(module, tc, device)
        before.setdefault(device, state)
        planned = plan_redirect(device, redirect["ifb"], state["qdiscs"], state["ingress_filters"])
        per_device.setdefault(device, [])
        per_device[device] = per_device[device] + planned
        commands += planned
        found += differences({"device": device}, planned)

    # Only what is asked for: with thousands of allocations every copy of the command list costs
    # seconds of JSON between the gateway and the controller (differences carry every command).
    result = {"changed": bool(commands) or bool(created), "created_ifbs": created, "count": len(commands)}
    # As JSON text as well as data: the controller copies one string far faster than thousands of dicts.
    result["differences_json"] = json.dumps(found, separators=(",", ":"))
    if module.check_mode or len(found) <= DIFFERENCES_AS_DATA:
        result["differences"] = found
    if module.check_mode:
        result["commands"] = commands
    if module._diff:
        result["diff"] = {"before": "", "after": "".join(f"# {p['gateway']} {d}\n" + "".join(f"tc {c}\n" for c in cmds) for d, cmds in per_device.items() if cmds)}
    if module.check_mode or not commands:
        module.exit_json(**result)

    ok, failed, message = run_batch(module, tc, commands)
    if ok:
        module.exit_json(**result)

    # Roll back: every device as it was read, then remove the ifbs this run made.
    restore = []
    for device, state in before.items():
        if device in created:
            continue
        restore += restore_commands(device, state["qdiscs"], state["classes"], state["filters"])
        redirect = next((r for r in p["redirects"] if r["device"] == device), None)
        if redirect and plan_redirect(device, redirect["ifb"], state["qdiscs"], state["ingress_filters"]):
            restore.append(f"qdisc del dev {device} handle ffff: ingress")  # it had no redirect before
    restored, _f, restore_message = run_batch(module, tc, restore, force=True)
    for name in created:
        module.run_command([ip, "link", "del", "dev", name])
    module.fail_json(
        msg=f"{p['gateway']}: tc failed at: tc {failed or '?'}: {message}; " + ("the gateway was rolled back to its state before this run" if restored else f"ROLLBACK INCOMPLETE: {restore_message}"),
        commands=commands,
        failed_command=failed,
        rolled_back=restored,
    )


if __name__ == "__main__":
    main()
