"""`bandwidth render`: what each gateway must look like today, as its plan (bandwidth.shaping.plan).

The Ansible module `bandwidth_tc` takes the plan and converges the live tc state to it.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path

from bandwidth.model import Allocation, Gateway, Inventory
from bandwidth.shaping.plan import Controller, GatewayPlan, PlanClass, PlanDevice, PlanFilter, Redirect
from bandwidth.shaping.tc import build
from bandwidth.shaping.tc import plan as planner

DEFAULT_CLASS_MIN_KBIT = 64  # the unclassified class keeps at least this, even with no reserve


def ifb_name(lan_interface: str, configured: str | None) -> str:
    return configured or f"ifb-{lan_interface}"[:15]


def gateway_spec(gateway: Gateway, allocations: list[Allocation], today: dt.date) -> GatewayPlan:
    """Devices, ifbs and redirects for one gateway, from the allocations in force today."""
    active = [a for a in allocations if a.gateway == gateway.name and a.active_on(today)]
    devices, redirects, ifbs = [], [], []
    for uplink in gateway.uplinks.values():
        mine = sorted((a for a in active if a.uplink == uplink.name), key=lambda a: a.id)
        minors = build.assign_minors([a.id for a in mine])
        ifb = ifb_name(uplink.lan_interface, uplink.ifb_interface)
        for direction, device in (("download", uplink.lan_interface), ("upload", ifb)):
            devices.append(PlanDevice(
                device=device,
                direction=direction,
                uplink=uplink.name,
                capacity_kbit=uplink.capacity(direction),
                default_kbit=max(uplink.reserve(direction), DEFAULT_CLASS_MIN_KBIT),
                classes=tuple(
                    PlanClass(minor=minors[a.id], label=a.id, rate_kbit=a.rate(direction).guaranteed_kbit, ceil_kbit=a.rate(direction).max_kbit, prio=a.priority)
                    for a in mine
                ),
                filters=tuple(PlanFilter(family=net.version, prefix=str(net), minor=minors[a.id]) for a in mine for net in a.subnets),
            ))  # fmt: skip
        redirects.append(Redirect(device=uplink.lan_interface, ifb=ifb))
        ifbs.append(ifb)
    agencies = tuple(sorted((a.id, a.agency) for a in active if a.uplink in gateway.uplinks))
    return GatewayPlan(gateway=gateway.name, devices=tuple(devices), redirects=tuple(redirects), ifbs=tuple(ifbs), agencies=agencies)


def render(inventory: Inventory, allocations: list[Allocation], today: dt.date) -> dict[str, GatewayPlan]:
    """gateway -> its plan for `today`, for every gateway of the inventory, sorted by name."""
    return {name: gateway_spec(gateway, allocations, today) for name, gateway in sorted(inventory.gateways.items())}


def batch_text(spec: GatewayPlan, leaf: str) -> str:
    """The full tc batch for one gateway (the dry run: what an empty gateway would get)."""
    doc = spec.to_json()  # the tc core takes the plan as the gateway reads it: JSON
    lines = []
    for device in doc["devices"]:
        lines += planner.full_build(device, leaf)
    for redirect in spec.redirects:  # last: upload reaches the ifb once its tree is there
        lines += [build.qdisc_ingress(redirect.device), build.filter_redirect(redirect.device, redirect.ifb)]
    return "\n".join(lines) + "\n"


def controller() -> Controller:
    """Who renders the plan: this host and the ansible-playbook run above us (else our parent).

    The module puts it in the gateway's lock, so that a run that has to wait can name the holder."""
    pid = os.getppid()
    probe = pid
    for _ in range(8):  # ansible-playbook -> worker -> module wrapper -> bandwidth
        try:
            cmdline = Path(f"/proc/{probe}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{probe}/stat").read_text()
        except OSError:
            break
        if any(part.endswith(b"ansible-playbook") for part in cmdline[:2]):
            pid = probe
            break
        probe = int(stat.rsplit(")", 1)[1].split()[1])
        if probe <= 1:
            break
    return Controller(host=socket.gethostname(), pid=pid)
