#!/usr/bin/python
"""Converge a gateway's tc state to the desired device specs, in one tc batch, atomically."""

from __future__ import annotations

DOCUMENTATION = r"""
module: bandwidth_tc
short_description: Shape a gateway's allocations with HTB, converging with the fewest tc changes
description:
  - Takes the gateway's lock (C(<state_dir>/lock), exclusive; shared in check mode), waiting for
    another run to finish, then reads the live qdiscs, HTB classes and u32 filters of every device,
    computes the minimal difference to the desired state and applies it in one C(tc -batch).
  - Classes of unchanged allocations are never deleted or re-created, so their counters keep counting.
  - If any command fails, every device is put back as it was read before the run (an ifb this run
    made is removed, one deleted meanwhile is made again), the result is read back and compared,
    and the module fails naming the device, the failing command, what tc said and whether the
    rollback completed.
  - Once tc is being changed the run finishes by itself: a dropped connection or a killed controller
    does not stop it half way. What it applied is kept on the gateway until a controller records it
    (see M(bandwidth_acknowledge)), so every later run reports it until then.
  - After a successful run the applied plan is kept in C(<state_dir>/applied.json) for boot restore, and the
    agencies and commit of the plan in C(<state_dir>/monitoring.json) for the collector's labels.
  - In check mode nothing is changed; with C(--diff) the planned tc commands are shown.
options:
  gateway: {description: Name of the gateway; the plan must be for it., type: str, required: true}
  plan: {description: "The gateway's plan from C(bandwidth render --output-dir), as JSON text (keys gateway, devices, redirects, ifbs).", type: str, required: true}
  leaf_qdisc: {description: Leaf qdisc of every class, with options (fq_codel in production, pfifo in the lab)., type: str, default: fq_codel}
  tc: {description: Path of the tc binary., type: str, default: tc}
  state_dir: {description: The gateway's own state folder (lock, applied plan, unrecorded runs)., type: path, default: /var/lib/bandwidth}
  lock_timeout_seconds: {description: How long to wait for another run's lock before failing with its owner., type: int, default: 300}
author: [Pemprov Kaltim Bidang TIK]
"""

EXAMPLES = r"""
- name: Shape the gateway
  bandwidth_tc:
    gateway: "{{ inventory_hostname }}"
    plan: "{{ lookup('ansible.builtin.file', plan_dir ~ '/' ~ inventory_hostname ~ '.json') }}"
    leaf_qdisc: pfifo
    state_dir: /var/lib/bandwidth
"""

RETURN = r"""
commands: {description: The tc batch lines planned (check mode only)., type: list, returned: check mode}
count: {description: How many tc batch lines this run applied (or planned)., type: int, returned: always}
differences:
  description: "Per command: device, allocation (id or null) and the command. In check mode the drift from the plan;
    otherwise every difference not yet recorded (returned as data up to 1000 entries)."
  type: list
  returned: when small
differences_json: {description: The same as JSON text (always, outside check mode too)., type: str, returned: always}
runs: {description: Ids of the runs whose differences are reported here and await M(bandwidth_acknowledge)., type: list, returned: always}
created_ifbs: {description: ifb devices created by this run., type: list, returned: always}
lock_seconds: {description: Seconds spent waiting for the lock., type: float, returned: always}
restore_version: {description: Version of the gateway's programs (boot restore, collector) installed in the state folder ('' if none)., type: str, returned: always}
failed_command: {description: The tc command that failed., type: str, returned: failure}
rolled_back: {description: Whether every device was read back as before the run., type: bool, returned: failure}
batch_file: {description: The failed batch, kept on the gateway., type: str, returned: failure}
"""

import json
import os
import uuid

from ansible.module_utils.bandwidth_converge import (
    ConvergeError,
    Gateway,
    GatewayLock,
    converge,
    failure_message,
    journal_run,
    keep_applied,
    keep_failed_batch,
    keep_monitoring_labels,
    unreported_runs,
)
from ansible.module_utils.basic import AnsibleModule

DIFFERENCES_AS_DATA = 1000  # above this, `differences` is returned only as `differences_json` (outside check mode)


def installed_version(state_dir, program):
    try:
        with open(os.path.join(state_dir, program, "VERSION"), encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def main():
    module = AnsibleModule(
        argument_spec={
            "gateway": {"type": "str", "required": True},
            # JSON text, not a structure: Ansible templates nested data slowly, and a plan
            # for thousands of allocations is large.
            "plan": {"type": "str", "required": True},
            "leaf_qdisc": {"type": "str", "default": "fq_codel"},
            "tc": {"type": "str", "default": "tc"},
            "state_dir": {"type": "path", "default": "/var/lib/bandwidth"},
            "lock_timeout_seconds": {"type": "int", "default": 300},
        },
        supports_check_mode=True,
    )
    p = module.params
    name = p["gateway"]
    try:
        plan = json.loads(p["plan"])
    except ValueError as exc:
        module.fail_json(msg=f"{name}: the plan is not JSON: {exc}")
    if plan.get("gateway") != name:
        module.fail_json(msg=f"the plan is for {plan.get('gateway')!r}, not for {name}")
    tc = module.get_bin_path(p["tc"], required=True)
    ip = module.get_bin_path("ip", required=True)
    state_dir = p["state_dir"]
    gateway = Gateway(module.run_command, tc, ip, state_dir)
    # Who runs this, for a run that waits: `bandwidth render` puts the controller in the plan.
    controller = plan.get("controller") if isinstance(plan.get("controller"), dict) else {}
    owner = {"controller": controller.get("host"), "controller_pid": controller.get("pid"), "purpose": "read-back" if module.check_mode else "apply"}

    result = {"changed": False, "created_ifbs": [], "count": 0, "runs": [], "restore_version": installed_version(state_dir, "restore")}
    failure = None
    try:
        with GatewayLock(state_dir, exclusive=not module.check_mode, owner=owner, timeout=p["lock_timeout_seconds"]) as lock:
            result["lock_seconds"] = round(lock.waited, 3)
            outcome = converge(gateway, plan, p["leaf_qdisc"], module.check_mode)
            result.update(created_ifbs=outcome.created_ifbs, count=len(outcome.commands))
            if module.check_mode:
                found = outcome.differences
                result.update(changed=bool(outcome.commands), commands=outcome.commands)
            elif outcome.ok:
                if outcome.commands:
                    journal_run(state_dir, uuid.uuid4().hex, outcome.differences)
                keep_applied(state_dir, plan, p["leaf_qdisc"])
                keep_monitoring_labels(state_dir, plan)
                runs = unreported_runs(state_dir)
                found = [d for run in runs for d in run.get("differences", [])]
                result.update(changed=bool(runs), runs=[run["run"] for run in runs])
            else:
                batch_file = keep_failed_batch(state_dir, outcome.commands)
                failure = {"msg": failure_message(name, outcome, batch_file), "failed_command": outcome.failed_command, "rolled_back": not outcome.rollback_problems, "batch_file": batch_file}
    except ConvergeError as exc:
        module.fail_json(msg=f"{name}: {exc}", **result)
    except OSError as exc:
        module.fail_json(msg=f"{name}: state folder {state_dir}: {exc}", **result)
    if failure:
        # Not the command list: 24,000 lines in a log hide the one line that matters.
        module.fail_json(**failure, **result)

    # As JSON text as well as data: the controller copies one string far faster than thousands of dicts.
    result["differences_json"] = json.dumps(found, separators=(",", ":"))
    if module.check_mode or len(found) <= DIFFERENCES_AS_DATA:
        result["differences"] = found
    if module._diff:
        result["diff"] = {"before": "", "after": "".join(f"# {name} {d}\n" + "".join(f"tc {c}\n" for c in cmds) for d, cmds in outcome.per_device.items() if cmds)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
