"""The "Surat dan Laporan Penyelesaian Tugas" (SOP steps 8-10): report.json, report.md, report.html and a DOCX letter per changed allocation.

The input is the report dict of one apply-and-verify run (schemas/report.schema.json). Text that comes from request files
(agency, letter number, names, purpose) is escaped for every output: escape.markdown, escape.html_text, and plain runs
without control characters in the DOCX. The only @mentions are requester GitHub logins that match GitHub's pattern.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from collections import Counter
from functools import cache
from typing import NamedTuple

from bandwidth.model import DIRECTIONS
from bandwidth.paths import SCHEMA_DIR

SCHEMA = SCHEMA_DIR / "report.schema.json"
VERDICT = {"pass": "Lulus", "fail": "Gagal", "not_measured": "Tidak diukur", "not_applied": "Belum diterapkan"}
MODE = {"lab": "lab (replika jaringan produksi)", "production": "produksi"}
GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](-?[A-Za-z0-9]){0,38}")

# A PR comment holds at most 65,536 characters; a job summary 1 MiB. Rows beyond this go to report.html only.
MAX_MARKDOWN = 60_000
MAX_DRIFT_LINES = 50
MAX_NOT_APPLIED_LINES = 20
MAX_REASON = 200  # characters of an apply error shown in report.md (report.html and report.json hold it whole)
MAX_MENTIONS = 50
MAX_REASONS_SHOWN = 5  # distinct reasons for not measuring named in the result line
FAMILY = {"ipv4": "IPv4", "ipv6": "IPv6"}

# The SOP's ten steps: number, short description, Mutu Baku (standard time).
STEPS = (
    (1, "Surat Permohonan dari Pengguna Bandwidth", "15 menit"),
    (2, "Menyampaikan surat untuk mendapatkan disposisi", "1-2 jam"),
    (3, "Menindaklanjuti disposisi", "1-2 jam"),
    (4, "Memberikan pengarahan kepada Tim Teknis", "1-2 jam"),
    (5, "Pengecekan ketersediaan bandwidth", "1 hari"),
    (6, "Melaporkan kesediaan bandwidth", "15 menit"),
    (7, "Konfigurasi penyediaan bandwidth dan pembaruan data", "1 hari"),
    (8, "Pengecekan kembali penyelesaian tugas", "1-2 jam"),
    (9, "Meminta pembuatan laporan penyelesaian tugas", "15 menit"),
    (10, "Membuat laporan dan tembusan kepada Pengguna Bandwidth", "1 hari"),
)
# Per SOP step: the moment of the allocation's timeline that is its actual time, and its duration: from the latest known of
# the moments `since` to the moment `until`. "finished" is the report's own time; "disposition.N" the time of the chain's Nth
# role (timeline.dispositions, in chain order). Step 1's duration runs from the request to the pull request opened.
STEP_TIMES = (
    (1, "requested", ("requested",), "opened"),  # the intake issue opened, else the request file's own first commit
    (2, "disposition.0", ("opened",), "disposition.0"),  # each role of the disposition chain approves in turn
    (3, "disposition.1", ("disposition.0",), "disposition.1"),
    (4, "disposition.2", ("disposition.1",), "disposition.2"),
    (5, "checked", ("opened", "head_committed"), "checked"),  # `bandwidth check` on the approved head, from when it was pushed
    (6, "availability_reported", ("checked",), "availability_reported"),  # its form on the pull request
    (7, "applied", ("merged",), "applied"),  # the merge applies the allocations to the gateways
    (8, "verified", ("applied",), "verified"),  # read-back and measured throughput
    (9, "finished", ("verified",), "finished"),  # this report written
    (10, "copied", ("finished",), "copied"),  # the report on the pull request: the copy to the requester
)


class StepTime(NamedTuple):
    step: int
    moment: dt.datetime | None  # when it happened (None: unknown)
    seconds: float | None  # how long it took (None: an end unknown)
    by: str | None = None  # who acted: the approver of steps 2-4


# --- validation -------------------------------------------------------------------------------------------------------


@cache
def _validator():
    import jsonschema_rs

    return jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")), validate_formats=True)


def validate(report) -> dict:
    """The report as plain JSON data, or ValueError naming every problem (schemas/report.schema.json)."""
    try:
        data = json.loads(json.dumps(report, ensure_ascii=False, allow_nan=False))
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as error:  # a datetime, a set, NaN, infinity, a lone surrogate
        raise ValueError(f"report is not JSON data: {error}") from None
    problems = []
    for error in _validator().iter_errors(data):
        where = ".".join(str(p) for p in error.instance_path) or "(top level)"
        problems.append(f"{where}: {error.message}")
    if not problems:
        problems += _bad_times(data)
        ids = Counter(a["id"] for a in data["allocations"])
        problems += [f"allocations: id {i} appears {n} times" for i, n in sorted(ids.items()) if n > 1]
        problems += _passed_unapplied(data)
        problems += _unsupported_passes(data)
        problems += _foreign_families(data)
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise ValueError(f"report does not match schemas/{SCHEMA.name}: " + "; ".join(shown))
    return data


def _passed_unapplied(data: dict) -> list[str]:
    """An allocation on a gateway whose apply failed has the verdict not_applied, whatever was measured."""
    names = {g["name"] for g in not_applied(data)}
    return [
        f'allocations.{i}.verdict: {json.dumps(a["verdict"])} on gateway {a["gateway"]}, which was not applied (expected "not_applied")'
        for i, a in enumerate(data["allocations"])
        if a["gateway"] in names and a["verdict"] != "not_applied"
    ]


def _unsupported_passes(data: dict) -> list[str]:
    """A pass is what its own figures say against the report's tolerance: nothing unmeasured passes, quietly or otherwise."""
    problems = []
    for i, allocation in enumerate(data["allocations"]):
        if allocation["verdict"] != "pass":
            continue
        if allocation.get("not_measured_reason") is not None:
            problems.append(f'allocations.{i}.verdict: "pass" with a not_measured_reason')
        elif (found := verdict(allocation, data.get("tolerance"))) != "pass":
            problems.append(f'allocations.{i}.verdict: "pass", but its figures say {json.dumps(found)} against the tolerance')
    return problems


def _foreign_families(data: dict) -> list[str]:
    """Figures per family and the RTT's family are families of the allocation's subnets (where the report lists them)."""
    problems = []
    for i, allocation in enumerate(data["allocations"]):
        if "families" not in allocation:
            continue
        own = set(allocation["families"])
        for name in DIRECTIONS:
            foreign = [key for key in allocation[name].get("by_family") or {} if key not in own]
            problems += [f"allocations.{i}.{name}.by_family: {json.dumps(key)} is not one of its families {allocation['families']}" for key in foreign]
        rtt = allocation.get("rtt_ms")
        if rtt and rtt["family"] not in own:
            problems.append(f"allocations.{i}.rtt_ms.family: {json.dumps(rtt['family'])} is not one of its families {allocation['families']}")
    return problems


def _bad_times(data: dict) -> list[str]:
    """Times the pattern lets through but the calendar does not (2026-13-45T25:00:00)."""
    found = [(key, data[key]) for key in ("started", "finished")]
    for i, allocation in enumerate(data["allocations"]):
        timeline = allocation.get("timeline") or {}
        found += [(f"allocations.{i}.timeline.{key}", value) for key, value in timeline.items() if isinstance(value, str)]
        dispositions = timeline.get("dispositions") or []
        found += [(f"allocations.{i}.timeline.dispositions.{j}.time", d["time"]) for j, d in enumerate(dispositions) if isinstance(d.get("time"), str)]
    problems = []
    for where, value in found:
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            problems.append(f"{where}: {json.dumps(value)} is not a valid date and time")
    return problems


# --- verdict ----------------------------------------------------------------------------------------------------------

# The pass band, as ratios. The wire rate (layer 2: the bytes the allocation's HTB class counts, Ethernet header included,
# which is what the shaper limits): alone within [wire_max_low, wire_max_high] x max_mbps, with every allocation of the
# uplink at once at least wire_guaranteed_min x guaranteed_mbps. The goodput band (TCP payload, about 95% of the wire
# rate) judges a figure without a wire rate: reports written before the wire rates were read. goodput_wire_max: goodput
# and wire rate are read over the same window, and payload is less than the frames that carry it (95.6% for IPv4, 94.3%
# for IPv6 at MTU 1500), so more goodput than wire rate means traffic of the allocation went around its class.
TOLERANCE = {
    "max_low": 0.85, "max_high": 1.05, "guaranteed_min": 0.90,
    "wire_max_low": 0.97, "wire_max_high": 1.03, "wire_guaranteed_min": 0.97, "goodput_wire_max": 1.0,
}  # fmt: skip
# Rates have 3 decimals, the band is a product of floats: 0.97 * 6.9 is 6.6930000000000005, and 6.693 Mbit/s is 97% of 6.9.
_EPSILON = 1e-9


def families(subnets) -> list[str]:
    """The address families of subnets (text or ipaddress networks), ipv4 first: the report's `families`."""
    found = {ipaddress.ip_network(str(s), strict=False).version for s in subnets}
    return [f"ipv{version}" for version in (4, 6) if version in found]


def alone_in_band(figure: dict, maximum: float, tolerance: dict | None = None) -> bool:
    """One figure measured alone ({"measured_mbps", "wire_mbps"}): its wire rate within [wire_max_low, wire_max_high] x
    maximum and its goodput not above goodput_wire_max x the wire rate; without a wire rate, its goodput within
    [max_low, max_high] x maximum."""
    band = _band(tolerance)
    wire, goodput = figure.get("wire_mbps"), figure.get("measured_mbps")
    if wire is None:
        return goodput is not None and _at_least(goodput, band["max_low"] * maximum) and _at_least(band["max_high"] * maximum, goodput)
    in_band = _at_least(wire, band["wire_max_low"] * maximum) and _at_least(band["wire_max_high"] * maximum, wire)
    return in_band and _in_class(goodput, wire, band)


def together_in_band(figure: dict, guaranteed: float, tolerance: dict | None = None) -> bool:
    """One figure measured with every allocation of the uplink at once ({"measured_mbps", "wire_mbps"}): its wire rate at
    least wire_guaranteed_min x guaranteed and its goodput not above goodput_wire_max x the wire rate; without a wire
    rate, its goodput at least guaranteed_min x guaranteed."""
    band = _band(tolerance)
    wire, goodput = figure.get("wire_mbps"), figure.get("measured_mbps")
    if wire is None:
        return goodput is None or _at_least(goodput, band["guaranteed_min"] * guaranteed)
    return _at_least(wire, band["wire_guaranteed_min"] * guaranteed) and _in_class(goodput, wire, band)


def _band(tolerance: dict | None) -> dict:
    if tolerance is None:
        return dict(TOLERANCE)
    # A report written before goodput and wire rate were read over one window has no goodput_wire_max: its iperf3
    # goodput counted seconds of its own, and is not held to the wire rate.
    return {**TOLERANCE, "goodput_wire_max": None, **tolerance}


def _in_class(goodput: float | None, wire: float, band: dict) -> bool:
    limit = band.get("goodput_wire_max")
    return goodput is None or limit is None or _at_least(limit * wire, goodput)


def verdict(allocation: dict, tolerance: dict | None = None) -> str:
    """The verdict pass, fail or not_measured from one allocation's figures; "not_applied" is the caller's (it depends on the apply).

    Measured: each direction has a figure alone (measured_mbps or wire_mbps), and so has each family in by_family; a
    dual-stack allocation (two `families`) whose directions carry by_family needs both families there. Each figure alone
    (the direction's, and each family's) is judged by alone_in_band against max_mbps, the contention figure by
    together_in_band against guaranteed_mbps (no contention figure: no contention test). A figure out of the band was
    measured once more: it fails only if its repeat fails too (the figure is the repeat, its `first` the first; the
    direction's own first is `first`, its contention figure's `contention_first`). `tolerance` is the report's; a key it
    lacks is taken from TOLERANCE.
    """
    band = _band(tolerance)
    dual = len(allocation.get("families") or ()) > 1
    alone = {}
    for name in DIRECTIONS:
        direction = allocation[name]
        by_family = direction.get("by_family")
        wanted = set(by_family or ()) | (set(allocation["families"]) if dual and by_family is not None else set())
        figures = [direction] + [(by_family or {}).get(family) or {} for family in sorted(wanted)]
        if not all(_measured(figure) for figure in figures):
            return "not_measured"
        alone[name] = figures
    for name in DIRECTIONS:
        direction = allocation[name]
        maximum, guaranteed = direction["max_mbps"], direction["guaranteed_mbps"]
        for figure in alone[name]:
            if not any(alone_in_band(attempt, maximum, band) for attempt in _attempts(figure, figure.get("first"))):
                return "fail"
        together = {"measured_mbps": direction.get("contention_mbps"), "wire_mbps": direction.get("contention_wire_mbps")}
        if together["measured_mbps"] is None and together["wire_mbps"] is None:
            continue
        if not any(together_in_band(attempt, guaranteed, band) for attempt in _attempts(together, direction.get("contention_first"))):
            return "fail"
    return "pass"


def _attempts(figure: dict, first: dict | None) -> list[dict]:
    return [figure] + ([first] if first else [])


def _measured(figure: dict) -> bool:
    return figure.get("measured_mbps") is not None or figure.get("wire_mbps") is not None


def _at_least(value: float, bound: float) -> bool:
    return value >= bound - _EPSILON * max(1.0, abs(bound), abs(value))


def counts(report: dict) -> dict[str, int]:
    found = dict.fromkeys(VERDICT, 0)
    for allocation in report["allocations"]:
        found[allocation["verdict"]] += 1
    return found


def not_applied(report: dict) -> list[dict]:
    """The gateways the last apply tried and did not configure (unreachable or failed), by name."""
    return sorted((g for g in report["gateways"] if g.get("applied") is False), key=lambda g: g["name"])


def ok(report: dict) -> bool:
    found = counts(report)
    return not report["drift"] and not found["fail"] and not found["not_applied"] and not not_applied(report)
