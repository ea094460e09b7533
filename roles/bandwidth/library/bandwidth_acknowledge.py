#!/usr/bin/python
"""Forget the differences a controller has recorded, so that no later run reports them again."""

from __future__ import annotations

DOCUMENTATION = r"""
module: bandwidth_acknowledge
short_description: Mark a gateway's applied runs as recorded by the controller
description:
  - M(bandwidth_tc) keeps what each run applied in C(<state_dir>/unreported.json) until a controller
    has recorded it; every run reports all of those runs. This module drops the given runs, under the
    gateway's lock, once the controller's record is written.
  - If the controller dies before this, the next run reports those differences again: a change is
    never lost from the completion report, at worst named twice.
options:
  runs: {description: Run ids returned by M(bandwidth_tc) in C(runs)., type: list, elements: str, required: true}
  state_dir: {description: The gateway's state folder., type: path, default: /var/lib/bandwidth}
  lock_timeout_seconds: {description: How long to wait for another run's lock., type: int, default: 300}
author: [Pemprov Kaltim Bidang TIK]
"""

EXAMPLES = r"""
- name: Acknowledge what was recorded
  bandwidth_acknowledge:
    runs: "{{ bandwidth_result.runs }}"
"""

RETURN = r"""
acknowledged: {description: How many runs were dropped., type: int, returned: always}
"""

from ansible.module_utils.bandwidth_converge import ConvergeError, GatewayLock, acknowledge
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec={
            "runs": {"type": "list", "elements": "str", "required": True},
            "state_dir": {"type": "path", "default": "/var/lib/bandwidth"},
            "lock_timeout_seconds": {"type": "int", "default": 300},
        },
        supports_check_mode=True,
    )
    p = module.params
    if module.check_mode or not p["runs"]:
        module.exit_json(changed=False, acknowledged=0)
    try:
        with GatewayLock(p["state_dir"], exclusive=True, owner={"purpose": "acknowledge"}, timeout=p["lock_timeout_seconds"]):
            dropped = acknowledge(p["state_dir"], p["runs"])
    except (ConvergeError, OSError) as exc:
        module.fail_json(msg=f"cannot acknowledge runs in {p['state_dir']}: {exc}")
    # A note in the gateway's state folder, not a change of its shaping.
    module.exit_json(changed=False, acknowledged=dropped)


if __name__ == "__main__":
    main()
