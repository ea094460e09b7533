"""Guaranteed-rate sums over time, by sweeping the start and end dates once (O(n log n))."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bandwidth.model import Allocation

ONE_DAY = dt.timedelta(days=1)


@dataclass
class Overflow:
    """A maximal period in which the guarantees on one uplink direction exceed what it can give."""

    first: dt.date
    last: dt.date | None  # None: open-ended
    peak_kbit: int
    peak_day: dt.date
    limit_kbit: int
    active: list[Allocation]  # the allocations in force on peak_day


def window(allocation: Allocation, today: dt.date) -> tuple[dt.date, dt.date | None] | None:
    """The part of an allocation's period from today on, or None when it is over."""
    if allocation.end is not None and allocation.end < today:
        return None
    return max(allocation.start, today), allocation.end


def peak(allocations: list[Allocation], direction: str, today: dt.date, only=None) -> int:
    """The highest guaranteed sum from today on (optionally only for those `only` accepts)."""
    best = 0
    for _first, _last, total in _segments(allocations, direction, today, only):
        best = max(best, total)
    return best


def _segments(allocations, direction, today, only=None):
    """Yield (first day, last day or None, sum) for every stretch with a constant sum."""
    deltas: dict[dt.date, int] = {}
    for allocation in allocations:
        if only is not None and not only(allocation):
            continue
        span = window(allocation, today)
        if span is None:
            continue
        kbit = allocation.rate(direction).guaranteed_kbit
        deltas[span[0]] = deltas.get(span[0], 0) + kbit
        if span[1] is not None:
            after = span[1] + ONE_DAY
            deltas[after] = deltas.get(after, 0) - kbit
    days = sorted(deltas)
    total = 0
    for index, day in enumerate(days):
        total += deltas[day]
        last = days[index + 1] - ONE_DAY if index + 1 < len(days) else None
        yield day, last, total


def overflows(allocations: list[Allocation], direction: str, limit_kbit: int, today: dt.date) -> list[Overflow]:
    """Every period from today on in which the guarantees exceed `limit_kbit`."""
    found: list[Overflow] = []
    current = None
    for first, last, total in _segments(allocations, direction, today):
        if total > limit_kbit:
            if current is None:
                current = Overflow(first, last, total, first, limit_kbit, [])
                found.append(current)
            else:
                current.last = last
                if total > current.peak_kbit:
                    current.peak_kbit, current.peak_day = total, first
        else:
            current = None
    for overflow in found:
        overflow.active = [a for a in allocations if a.active_on(overflow.peak_day)]
    return found
