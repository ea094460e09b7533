"""The policy rules that need more than one file: references, capacity, subnets, dates."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from bandwidth.allocations import capacity
from bandwidth.model import DIRECTIONS, Allocation, Inventory, Problem
from bandwidth.units import kbit_to_mbps_text as mbps

MAX_NAMED = 8  # allocations named in one capacity message before "and N more"


def check(inventory: Inventory, allocations: list[Allocation], today: dt.date) -> list[Problem]:
    problems: list[Problem] = []
    problems += duplicate_ids(allocations)
    placed = []
    for allocation in allocations:
        found = references(inventory, allocation)
        problems += found
        if not found:
            placed.append(allocation)
        problems += dates(allocation, today)
    problems += subnet_overlaps(placed)
    problems += capacity_sums(inventory, placed, today)
    return problems


def duplicate_ids(allocations: list[Allocation]) -> list[Problem]:
    by_id = defaultdict(list)
    for allocation in allocations:
        by_id[allocation.id].append(allocation)
    problems = []
    for same in by_id.values():
        if len(same) > 1:
            for allocation in same:
                others = ", ".join(a.path for a in same if a is not allocation)
                problems.append(Problem(allocation.path, allocation.line("id"), f"duplicate id {allocation.id}: also used by {others}", rule="naming"))
    return problems


def references(inventory: Inventory, allocation: Allocation) -> list[Problem]:
    """The gateway, uplink and subnets must exist on the inventory; max rates must fit the uplink."""
    gateway = inventory.gateways.get(allocation.gateway)
    if gateway is None:
        known = ", ".join(sorted(inventory.gateways)) or "none"
        return [Problem(allocation.path, allocation.line("gateway"), f"unknown gateway {allocation.gateway} (gateways in {inventory.path}: {known})", rule="inventory")]
    uplink = gateway.uplinks.get(allocation.uplink)
    if uplink is None:
        known = ", ".join(sorted(gateway.uplinks))
        return [Problem(allocation.path, allocation.line("uplink"), f"unknown uplink {allocation.uplink} on {gateway.name} (its uplinks: {known})", rule="inventory")]
    problems = []
    for direction in DIRECTIONS:
        rate = allocation.rate(direction)
        if rate.max_kbit > uplink.capacity(direction):
            problems.append(
                Problem(
                    allocation.path,
                    allocation.line(f"{direction}.max_mbps"),
                    f"{direction}.max_mbps {mbps(rate.max_kbit)} is more than the {direction} capacity of {gateway.name}/{uplink.name} ({mbps(uplink.capacity(direction))} Mbit/s)",
                    rule="capacity",
                )
            )
    for index, net in enumerate(allocation.subnets):
        if not any(lan.contains(net) for lan in gateway.lan_networks):
            lans = ", ".join(str(lan) for lan in gateway.lan_networks)
            problems.append(Problem(allocation.path, allocation.line(f"subnets.{index}"), f"subnet {net} is outside the networks behind {gateway.name} ({lans})", rule="subnets"))
    return problems


def dates(allocation: Allocation, today: dt.date) -> list[Problem]:
    problems = []
    if allocation.end is not None and allocation.end < today:
        problems.append(Problem(allocation.path, allocation.line("end"), f"expired on {allocation.end}: remove this file (git rm {allocation.path})", severity="warning", rule="dates"))
    if allocation.letter_date > today:
        problems.append(Problem(allocation.path, allocation.line("letter.date"), f"letter.date {allocation.letter_date} is in the future", severity="warning", rule="dates"))
    return problems


def _periods_overlap(a: Allocation, b: Allocation) -> bool:
    return (a.end is None or b.start <= a.end) and (b.end is None or a.start <= b.end)


def subnet_overlaps(allocations: list[Allocation]) -> list[Problem]:
    """Two allocations on one gateway may not share addresses while both are in force.

    CIDR blocks are either nested or disjoint, so after sorting by start address and
    prefix length every block's containers are on a stack: one pass, no pairwise scan.
    """
    problems = []
    by_gateway = defaultdict(list)
    for allocation in allocations:
        for index, net in enumerate(allocation.subnets):
            by_gateway[allocation.gateway].append((net, index, allocation))
    for entries in by_gateway.values():
        entries.sort(key=lambda e: e[0])  # version, address, prefix length: containers first
        stack = []
        for net, index, allocation in entries:
            while stack and not stack[-1][0].contains(net):
                stack.pop()
            for outer, outer_index, other in stack:
                if other is not allocation and _periods_overlap(allocation, other):
                    problems.append(Problem(allocation.path, allocation.line(f"subnets.{index}"), f"subnet {net} overlaps {outer} of {other.id} ({other.path}) in the same period", rule="subnets"))
                    problems.append(
                        Problem(other.path, other.line(f"subnets.{outer_index}"), f"subnet {outer} overlaps {net} of {allocation.id} ({allocation.path}) in the same period", rule="subnets")
                    )
            stack.append((net, index, allocation))
    return problems


def capacity_sums(inventory: Inventory, allocations: list[Allocation], today: dt.date) -> list[Problem]:
    """Per gateway, uplink and direction, the guarantees in force at any moment must fit."""
    problems = []
    for (gateway_name, uplink_name), group in group_by_uplink(allocations).items():
        uplink = inventory.gateways[gateway_name].uplinks[uplink_name]
        for direction in DIRECTIONS:
            limit = uplink.guaranteeable(direction)
            for overflow in capacity.overflows(group, direction, limit, today):
                problems += _overflow_problems(gateway_name, uplink, direction, overflow)
    return problems


def group_by_uplink(allocations: list[Allocation]) -> dict[tuple[str, str], list[Allocation]]:
    groups = defaultdict(list)
    for allocation in allocations:
        groups[(allocation.gateway, allocation.uplink)].append(allocation)
    return dict(groups)


def describe_period(first: dt.date, last: dt.date | None) -> str:
    if last is None:
        return f"from {first} on"
    if first == last:
        return f"on {first}"
    return f"from {first} to {last}"


def _overflow_problems(gateway_name, uplink, direction, overflow) -> list[Problem]:
    active = sorted(overflow.active, key=lambda a: a.rate(direction).guaranteed_kbit, reverse=True)
    named = ", ".join(f"{a.id} {mbps(a.rate(direction).guaranteed_kbit)}" for a in active[:MAX_NAMED])
    if len(active) > MAX_NAMED:
        named += f" and {len(active) - MAX_NAMED} more"
    # Blame the requests this change brings; without a base, the newest request.
    blamed = [a for a in active if a.change] or [max(active, key=lambda a: a.id)]
    over = overflow.peak_kbit - overflow.limit_kbit
    problems = []
    for allocation in blamed:
        free = overflow.limit_kbit - (overflow.peak_kbit - allocation.rate(direction).guaranteed_kbit)
        message = (
            f"{direction} capacity of {gateway_name}/{uplink.name} exceeded {describe_period(overflow.first, overflow.last)}: "
            f"guaranteed rates sum to {mbps(overflow.peak_kbit)} Mbit/s (on {overflow.peak_day}), "
            f"but only {mbps(overflow.limit_kbit)} can be guaranteed ({mbps(uplink.capacity(direction))} minus {uplink.reserve_percent}% reserve), "
            f"{mbps(over)} over; {mbps(max(free, 0))} Mbit/s is free for {allocation.id}; taken by: {named}"
        )
        problems.append(Problem(allocation.path, allocation.line(f"{direction}.guaranteed_mbps"), message, rule="capacity"))
    return problems
