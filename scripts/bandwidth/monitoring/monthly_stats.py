"""The monthly figures from points of a range query: pure arithmetic, no I/O.

A point at time t is the rate of the interval [t - step, t) (the range query's points tile the month). Its day and
hour are those of the interval's start in WITA (UTC+8, no daylight saving); working hours are 08:00-16:00 WITA,
Monday to Friday (public holidays are not known here: they count as working days).

Per direction of an allocation: the month's average and peak, and per working day the peak, the 95th percentile
(linear between ranks, as Prometheus' quantile_over_time), the average and the hours at the maximum (points whose
rate is at least at_ceiling_percent of the maximum at that point). A working day "at the maximum" is one with more
than half of its working hours there. Candidates:

- penambahan (at_ceiling): at least at_ceiling_days such days in some direction;
- pengembalian (underused): in both directions every point of the period below underused_percent of the guaranteed
  rate at that point, with data on every day of the period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from bandwidth.model import DIRECTIONS
from bandwidth.reports.monitoring_md import percent, rate
from bandwidth.textid import ARAH, BULAN

WITA_OFFSET = 8 * 3600
WORK_FROM, WORK_TO = 8, 16  # hours, WITA
WORKING_HOURS = WORK_TO - WORK_FROM
AT_MAX_HOURS = WORKING_HOURS / 2  # "most of the working hours": more than this
EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Thresholds:
    at_ceiling_percent: float = 90.0
    at_ceiling_days: int = 5
    underused_percent: float = 10.0


@dataclass(frozen=True)
class Period:
    """The intervals reported: [start, end), in points every `step` seconds at start + step, ..., end."""

    month: str  # YYYY-MM
    start: int  # Unix seconds: 00:00 WITA of the month's first day
    end: int  # Unix seconds: 00:00 WITA of the next month's first day, or earlier for a month still running
    step: int

    def times(self) -> range:
        return range(self.start + self.step, self.end + 1, self.step)

    @cached_property
    def slots(self) -> list[tuple[int, dt.date, bool]]:
        """(time, WITA day, in working hours) of every point, computed once for all series."""
        found = []
        for t in self.times():
            day, hour = interval_of(t, self.step)
            found.append((t, day, in_working_hours(day, hour)))
        return found

    def days(self) -> list[dt.date]:
        first, last = local_day(self.start), local_day(self.end - 1)
        return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]

    def working_days(self) -> list[dt.date]:
        return [day for day in self.days() if day.weekday() < 5]


def local_day(t: int) -> dt.date:
    return EPOCH + dt.timedelta(days=(t + WITA_OFFSET) // 86400)


def interval_of(t: int, step: int) -> tuple[dt.date, int]:
    """The WITA day and hour of the interval a point at t stands for: [t - step, t)."""
    local = t - step + WITA_OFFSET
    return EPOCH + dt.timedelta(days=local // 86400), (local % 86400) // 3600


def in_working_hours(day: dt.date, hour: int) -> bool:
    return day.weekday() < 5 and WORK_FROM <= hour < WORK_TO


def quantile(values: list[float], q: float) -> float:
    """The q-quantile of values, linear between ranks (numpy's default, Prometheus' quantile_over_time)."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    below = int(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def kbit(bits: float | None) -> float | None:
    return None if bits is None else round(bits / 1000, 1)


def _share(value: float | None, of: float | None) -> float | None:
    """value as a percentage of `of` (None when either is unknown or `of` is 0)."""
    return round(100 * value / of, 1) if value is not None and of else None


def direction_stats(period: Period, rates: dict[int, float], maxima: dict[int, float], guaranteed: dict[int, float], thresholds: Thresholds) -> dict:
    """One direction of one allocation over the period; rates, maxima and guaranteed in bit/s by point time."""
    hours_per_point = period.step / 3600
    working = {day: [] for day in period.working_days()}
    at_max = dict.fromkeys(working, 0)
    every, in_hours, seen_days = [], [], set()
    top_of_max = top_of_guaranteed = None
    for t, day, in_hours_now in period.slots:
        value = rates.get(t)
        if value is None:
            continue
        seen_days.add(day)
        every.append(value)
        ceiling, floor = maxima.get(t), guaranteed.get(t)
        if ceiling:
            top_of_max = max(top_of_max or 0.0, value / ceiling)
        if floor:
            top_of_guaranteed = max(top_of_guaranteed or 0.0, value / floor)
        if in_hours_now:
            working[day].append(value)
            in_hours.append(value)
            if ceiling and value >= thresholds.at_ceiling_percent / 100 * ceiling:
                at_max[day] += 1
    days = [_day(day, values, at_max[day] * hours_per_point, hours_per_point) for day, values in working.items()]
    latest_max = maxima[max(maxima)] if maxima else None
    latest_guaranteed = guaranteed[max(guaranteed)] if guaranteed else None
    average = sum(every) / len(every) if every else None
    expected = len(period.times())
    return {
        "guaranteed_kbit": kbit(latest_guaranteed),
        "max_kbit": kbit(latest_max),
        "average_kbit": kbit(average),
        "peak_kbit": kbit(max(every)) if every else None,
        "working_hours_average_kbit": kbit(sum(in_hours) / len(in_hours)) if in_hours else None,
        "working_hours_peak_kbit": kbit(max(in_hours)) if in_hours else None,
        "working_hours_p95_kbit": kbit(quantile(in_hours, 0.95)) if in_hours else None,
        "average_percent_of_guaranteed": _share(average, latest_guaranteed),
        "average_percent_of_max": _share(average, latest_max),
        "peak_percent_of_guaranteed": _share(top_of_guaranteed, 1),
        "peak_percent_of_max": _share(top_of_max, 1),
        "hours_at_max": round(sum(d["hours_at_max"] for d in days), 2),
        "days_at_max": sum(1 for d in days if d["hours_at_max"] > AT_MAX_HOURS),
        "days_with_data": len(seen_days),
        "coverage_percent": round(100 * len(every) / expected, 1) if expected else 0.0,
        "days": days,
    }


def _day(day: dt.date, values: list[float], hours_at_max: float, hours_per_point: float) -> dict:
    return {
        "date": day.isoformat(),
        "hours": round(len(values) * hours_per_point, 2),
        "average_kbit": kbit(sum(values) / len(values)) if values else None,
        "peak_kbit": kbit(max(values)) if values else None,
        "p95_kbit": kbit(quantile(values, 0.95)) if values else None,
        "hours_at_max": round(hours_at_max, 2),
    }


# --- the candidates and their reasons (Bahasa Indonesia) ----------------------------------------------------------------


def flag(entry: dict, period: Period, thresholds: Thresholds) -> None:
    """entry['flags'] and entry['reasons'] from its directions."""
    directions = {name: entry.get(name) for name in DIRECTIONS}
    complete = all(d is not None for d in directions.values())
    busy = [name for name, d in directions.items() if d is not None and d["days_at_max"] >= thresholds.at_ceiling_days]
    every_day = len(period.days())
    idle = complete and all(
        d["days_with_data"] == every_day and d["peak_percent_of_guaranteed"] is not None and d["peak_percent_of_guaranteed"] < thresholds.underused_percent for d in directions.values()
    )
    entry["flags"] = {
        "at_ceiling": bool(busy),
        "underused": idle,
        "incomplete": not complete or any(d["coverage_percent"] < 90 for d in directions.values() if d is not None),
    }
    reasons = {}
    if busy:
        reasons["at_ceiling"] = " ".join(at_ceiling_reason(name, directions[name], period, thresholds) for name in busy)
    if idle:
        reasons["underused"] = underused_reason(directions, period, thresholds)
    entry["reasons"] = reasons


def at_ceiling_reason(name: str, d: dict, period: Period, thresholds: Thresholds) -> str:
    return (
        f"{ARAH[name]}: pada {d['days_at_max']} dari {len(period.working_days())} hari kerja, laju mencapai {percent(thresholds.at_ceiling_percent)} "
        f"atau lebih dari maksimum ({rate(d['max_kbit'])} Mbit/s) selama lebih dari separuh jam kerja (lebih dari {AT_MAX_HOURS:g} jam "
        f"antara pukul 08.00 dan 16.00 WITA); kandidat penambahan mulai {thresholds.at_ceiling_days} hari kerja."
    )


def underused_reason(directions: dict, period: Period, thresholds: Thresholds) -> str:
    parts = [f"{ARAH[name].lower()} paling tinggi {rate(d['peak_kbit'])} Mbit/s dari jaminan {rate(d['guaranteed_kbit'])} Mbit/s" for name, d in directions.items()]
    return f"Sepanjang {period_text(period)} laju tidak pernah mencapai {percent(thresholds.underused_percent)} dari jaminan: {', '.join(parts)}."


def month_name(month: str) -> str:
    """'2026-11' -> 'November 2026'."""
    return f"{BULAN[int(month[5:7]) - 1]} {month[:4]}"


def period_text(period: Period) -> str:
    """'1-30 November 2026', or for a month still running '1-7 Desember 2026'."""
    days = period.days()
    return f"{days[0].day}-{days[-1].day} {month_name(period.month)}" if len(days) > 1 else f"{days[0].day} {month_name(period.month)}"
