#!/usr/bin/python
"""Sample the tc class counters of a gateway's devices over an interval; changes nothing."""

from __future__ import annotations

DOCUMENTATION = r"""
module: bandwidth_counters
short_description: Sample the byte, packet, drop and overlimit counters of every tc class, repeatedly
description:
  - Runs C(tc -s -j class show dev X) for every device every I(step_seconds) for I(duration_seconds),
    one sample being all devices read one after the other; the first sample is taken at once, so a run
    yields C(duration_seconds // step_seconds + 1) samples.
  - Sample times come from a monotonic clock, in seconds since the first sample, so a change of the
    wall clock during the interval cannot bend the rates computed from them.
  - Reads both the JSON that iproute2 prints for classes and the text that iproute2 6.1 prints for HTB
    classes even with C(-j).
  - Never changes anything, so check mode samples as well. A device that does not exist fails the module
    before the first sample, naming the device.
options:
  devices: {description: Names of the devices to read (the plan's LAN interfaces and ifbs)., type: list, elements: str, required: true}
  duration_seconds: {description: Length of the interval in seconds., type: int, default: 60}
  step_seconds: {description: Seconds between two samples; at most I(duration_seconds)., type: int, default: 5}
  tc: {description: Path of the tc binary., type: str, default: tc}
author: [Pemprov Kaltim Bidang TIK]
"""

EXAMPLES = r"""
- name: Sample the counters for a minute
  bandwidth_counters:
    devices: [eth1, ifb-eth1]
    duration_seconds: 60
    step_seconds: 5
  register: counters
"""

RETURN = r"""
samples:
  description: "One entry per sample: t (seconds since the first sample), devices: {device: {classid: {bytes, packets, drops, overlimits}}}
    and device_t: {device: seconds since the first sample when that device was read}."
  type: list
  returned: always
started: {description: UTC wall-clock time of the first sample (ISO 8601)., type: str, returned: always}
duration_seconds: {description: The interval asked for., type: int, returned: always}
step_seconds: {description: The step asked for., type: int, returned: always}
"""

import datetime
import os
import time

from ansible.module_utils.bandwidth_tc_parse import parse_counters
from ansible.module_utils.basic import AnsibleModule


def read_sample(module, tc, devices, origin):
    """(counters per device, when each device was read): a slow read of one device (a busy gateway)
    must not bend the rates of the others, so each keeps its own time."""
    sample, times = {}, {}
    for device in devices:
        argv = [tc, "-s", "-j", "class", "show", "dev", device]
        before = time.monotonic()
        rc, out, err = module.run_command(argv)
        if rc != 0:
            module.fail_json(msg=f"cannot read the tc counters of device {device}: {' '.join(argv)}: {err.strip()}")
        times[device] = round(max((before + time.monotonic()) / 2 - origin, 0.0), 4)
        sample[device] = parse_counters(out)
    return sample, times


def main():
    module = AnsibleModule(
        argument_spec={
            "devices": {"type": "list", "elements": "str", "required": True},
            "duration_seconds": {"type": "int", "default": 60},
            "step_seconds": {"type": "int", "default": 5},
            "tc": {"type": "str", "default": "tc"},
        },
        supports_check_mode=True,  # it only reads
    )
    devices = list(dict.fromkeys(module.params["devices"]))
    duration, step = module.params["duration_seconds"], module.params["step_seconds"]
    if not devices:
        module.fail_json(msg="devices: at least one device is needed")
    if step < 1 or duration < step:
        module.fail_json(msg=f"need 1 <= step_seconds <= duration_seconds, got step_seconds={step}, duration_seconds={duration}")
    missing = [name for name in devices if not os.path.exists(f"/sys/class/net/{name}")]
    if missing:
        module.fail_json(msg=f"device(s) missing on this gateway: {', '.join(missing)} (check lan_interface in host_vars; was playbooks/apply.yml run?)")
    tc = module.get_bin_path(module.params["tc"], required=True)

    started = datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017 - gateways may run Python < 3.11
    started = started.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    origin = time.monotonic()
    samples = []
    for index in range(duration // step + 1):
        # Sleep to a fixed grid, not "step after the last read": reading must not stretch the interval.
        delay = origin + index * step - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        before = time.monotonic()
        counters, device_t = read_sample(module, tc, devices, origin)
        middle = (before + time.monotonic()) / 2 - origin  # the sample's time; device_t: each device's own
        samples.append({"t": round(max(middle, 0.0), 4), "devices": counters, "device_t": device_t})
    module.exit_json(changed=False, samples=samples, started=started, duration_seconds=duration, step_seconds=step)


if __name__ == "__main__":
    main()
