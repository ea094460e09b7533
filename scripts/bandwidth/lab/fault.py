"""`bandwidth lab fault ID`: break one allocation's shaping on a lab gateway by hand, as a slip of an
operator or a defect might, to prove that verification catches it (tests/test_verify.py,
bench/verify_stability.py). The next `playbooks/apply.yml` repairs it, as it repairs any drift.

--ceil-percent N    its class's ceil (and rate, where above it) lowered to N% of what the plan says
--without-filter F  its u32 filters of address family F (ipv4, ipv6) deleted: that traffic falls
                    into the default class 1:2, unshaped by the allocation's class

Both act on the devices of the chosen directions (default both), read from the plans of the last
`bandwidth render` (.plans/), through the same tc builders and parser the role uses.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from bandwidth.lab.errors import LabError
from bandwidth.lab.network import require_root
from bandwidth.lab.state import read_json
from bandwidth.model import DIRECTIONS
from bandwidth.shaping.plan import PlanError, PlanFolder
from bandwidth.shaping.tc import build, parse

FAMILIES = {"ipv4": 4, "ipv6": 6}


def fault(lab_dir: Path, plans_dir: Path, allocation: str, ceil_percent: int | None, without_filter: str | None, directions: tuple[str, ...] = DIRECTIONS) -> int:
    require_root()
    if (ceil_percent is None) == (without_filter is None):
        raise LabError("which fault? one of --ceil-percent N or --without-filter FAMILY")
    if ceil_percent is not None and not 1 <= ceil_percent <= 99:
        raise LabError(f"--ceil-percent {ceil_percent}: between 1 and 99")
    doc = read_json(lab_dir)
    if doc is None or doc.get("state") != "up":
        raise LabError(f"no lab up in {lab_dir} (`bandwidth lab up` builds one)")
    namespaces = {gw["name"]: gw["namespace"] for gw in doc["gateways"]}
    try:
        plans = PlanFolder(plans_dir).read_all()
    except PlanError as exc:
        raise LabError(str(exc)) from None
    found = [(name, device, item) for name, plan in plans.items() for device in plan.devices for item in device.classes if item.label == allocation]
    found = [(name, device, item) for name, device, item in found if device.direction in directions]
    if not found:
        raise LabError(f"{allocation}: no class of it in the plans in {plans_dir} ({'/'.join(directions)}); is it applied?")
    for name, device, item in found:
        if name not in namespaces:
            raise LabError(f"{name}: not a gateway of the lab in {lab_dir}")
        if ceil_percent is not None:
            ceil = max(1, item.ceil_kbit * ceil_percent // 100)
            rate = min(item.rate_kbit, ceil)
            burst = build.burst(ceil)
            command = build.htb_class("change", device.device, "1:1", item.minor, build.rate_text(rate), build.rate_text(ceil), item.prio, burst_bytes=burst, cburst_bytes=burst)
            _tc(namespaces[name], command)
            print(f"{name} {device.device} {allocation} ({device.direction}): ceil {item.ceil_kbit} -> {ceil} kbit/s ({ceil_percent}%)")
        else:
            version = FAMILIES[without_filter]
            filters = parse.parse_filters(_tc(namespaces[name], f"-j filter show dev {device.device} parent 1:"))
            handles = sorted(handle for handle, (family, _bucket, _matches, minor) in filters["leaves"].items() if family == version and minor == item.minor)
            for handle in handles:
                _tc(namespaces[name], build.filter_delete(device.device, version, handle))
            print(f"{name} {device.device} {allocation} ({device.direction}): {len(handles)} {without_filter} filter(s) deleted ({', '.join(handles) or 'none there'})")
    print("`ansible-playbook -i lab/inventory playbooks/apply.yml` repairs it")
    return 0


def _tc(namespace: str, command: str) -> str:
    argv = ["ip", "netns", "exec", namespace, "tc", *command.split()]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LabError(f"`tc {command}` in {namespace} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout
