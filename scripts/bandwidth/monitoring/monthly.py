"""`bandwidth monitor --prometheus URL --month YYYY-MM`: the Laporan Monitoring Bandwidth Bulanan from Prometheus.

It reads the raw metrics of docs/monitoring.md, not the recording rules, so that a month's report does not depend on the
rules having run all month. The queries, whatever the number of allocations:

1. one instant query at the period's end: which allocation and direction had a byte counter in the period;
2. one range query per metric family over the period, every `step` seconds (chunked below Prometheus' 11,000 points
   per series): the rate 8 * rate(bandwidth_allocation_sent_bytes_total[window]), and the maximum and guaranteed
   rates (max_over_time over the same window, so that a point never misses its gauge), times 8 as well: the gauges
   are in bytes per second, every figure of the report is in bits. The maximum's query keeps the labels gateway,
   uplink and agency: the report shows those of the newest series of each allocation.

Series are joined by (allocation, direction) with the larger value at each point: a second Prometheus job scraping
the same gateway, or an agency renamed during the month, does not count bytes twice. monthly_stats does the arithmetic.

Output: reports/monitoring/<UTC time>/monitoring.json, .md, .html and reports/monitoring/latest, as the daily snapshot.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bandwidth.errors import UsageError
from bandwidth.escape import printable
from bandwidth.model import DIRECTIONS
from bandwidth.monitoring import monthly_stats as stats
from bandwidth.monitoring.prometheus_api import Prometheus, Series, check_url
from bandwidth.outputs import utc_now, write_stamped
from bandwidth.reports import monitoring_forms
from bandwidth.textid import WITA

FORMAT = 2
KIND = "monthly"
TITLE = "Laporan Monitoring Bandwidth Bulanan"
BYTES = "bandwidth_allocation_sent_bytes_total"
MAXIMUM = "bandwidth_allocation_maximum_bytes_per_second"
GUARANTEED = "bandwidth_allocation_guaranteed_bytes_per_second"


@dataclass
class MonthlyOptions:
    prometheus: str  # the base URL, checked
    month: str  # YYYY-MM
    reports: Path
    step: int = 300
    rate_window: str = "5m"
    timeout: float = 30.0
    thresholds: stats.Thresholds = field(default_factory=stats.Thresholds)
    github_repo: str | None = None
    github_server: str = "https://github.com"


def run(args) -> int:
    repo = Path(args.repo)
    options = MonthlyOptions(
        prometheus=check_url(args.prometheus), month=args.month, reports=repo / args.reports, step=args.step,
        rate_window=args.rate_window, timeout=args.timeout,
        thresholds=stats.Thresholds(args.at_ceiling_percent, args.at_ceiling_days, args.underused_percent),
        github_repo=args.github_repo, github_server=args.github_server,
    )  # fmt: skip
    monitoring_forms.check_github(options.github_repo, options.github_server)
    client = Prometheus(options.prometheus, timeout=options.timeout)
    report = build(client, options, time.time())
    folder = write(report, options.reports / "monitoring")
    print("\n".join(summary(report, folder)))
    return 0


# --- the period -------------------------------------------------------------------------------------------------------


def month_bounds(month: str) -> tuple[int, int]:
    """YYYY-MM -> (00:00 WITA of its first day, 00:00 WITA of the next month's), Unix seconds."""
    year, number = int(month[:4]), int(month[5:7])
    start = dt.datetime(year, number, 1, tzinfo=WITA)
    following = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=WITA)
    return int(start.timestamp()), int(following.timestamp())


def period(month: str, step: int, now: float) -> stats.Period:
    """The month in WITA, up to now (rounded down to a step) while it is still running."""
    start, end = month_bounds(month)
    end = min(end, int(now) // step * step)
    if end - start < step:
        raise UsageError(f"--month {month}: the month has not begun yet (it begins {month}-01 00:00 WITA)")
    return stats.Period(month=month, start=start, end=end, step=step)


# --- the queries ------------------------------------------------------------------------------------------------------


def expressions(options: MonthlyOptions, span: stats.Period) -> dict[str, str]:
    window = options.rate_window
    return {
        "present": f"group by (allocation, direction) (last_over_time({BYTES}[{span.end - span.start}s]))",
        "rate": f"8 * max by (allocation, direction) (rate({BYTES}[{window}]))",
        "maximum": f"8 * max by (gateway, uplink, allocation, agency, direction) (max_over_time({MAXIMUM}[{window}]))",
        "guaranteed": f"8 * max by (allocation, direction) (max_over_time({GUARANTEED}[{window}]))",
    }


def _by_key(series: list[Series]) -> dict[tuple[str, str], dict[int, float]]:
    """(allocation, direction) -> {time: value}; series without those labels are not the exporter's and are left out."""
    found: dict[tuple[str, str], dict[int, float]] = {}
    for s in series:
        key = (s.labels.get("allocation", ""), s.labels.get("direction", ""))
        if key[0] and key[1] in DIRECTIONS:
            points = found.setdefault(key, {})
            for t, value in s.points:
                points[t] = max(value, points.get(t, value))
    return found


def _newest_labels(series: list[Series]) -> dict[tuple[str, str], dict[str, str]]:
    """(allocation, direction) -> the labels of its series seen last in the period (the larger label set on a tie)."""
    newest: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}
    for s in series:
        key = (s.labels.get("allocation", ""), s.labels.get("direction", ""))
        if not key[0] or key[1] not in DIRECTIONS or not s.points:
            continue
        seen = s.points[-1][0]
        if key not in newest or (seen, sorted(s.labels.items())) > (newest[key][0], sorted(newest[key][1].items())):
            newest[key] = (seen, s.labels)
    return {key: labels for key, (_seen, labels) in newest.items()}


def build(client: Prometheus, options: MonthlyOptions, now: float) -> dict:
    span = period(options.month, options.step, now)
    queries = expressions(options, span)
    started = time.monotonic()
    present = set(_by_key(client.query(queries["present"], span.end)))
    if not present:
        raise UsageError(
            f"Prometheus at {client.url}: no samples of {BYTES} in {options.month} "
            f"({dt.datetime.fromtimestamp(span.start, dt.UTC):%Y-%m-%d %H:%M} to {dt.datetime.fromtimestamp(span.end, dt.UTC):%Y-%m-%d %H:%M} UTC); "
            "is it the Prometheus that scrapes the gateways, and does it still keep that month (--storage.tsdb.retention.time)?"
        )
    first, last = span.start + span.step, span.end
    rates = _by_key(client.query_range(queries["rate"], first, last, span.step))
    maximum_series = client.query_range(queries["maximum"], first, last, span.step)
    labels, maxima = _newest_labels(maximum_series), _by_key(maximum_series)
    guaranteed = _by_key(client.query_range(queries["guaranteed"], first, last, span.step))
    seconds = time.monotonic() - started

    allocations: dict[str, dict] = {}
    for key in sorted(present):
        ident, direction = key
        entry = allocations.setdefault(ident, {"id": ident, "gateway": None, "uplink": None, "agency": None})
        found = labels.get(key)
        if found and (direction == "download" or entry["gateway"] is None):
            entry.update(gateway=found.get("gateway"), uplink=found.get("uplink"), agency=found.get("agency"))
        entry[direction] = stats.direction_stats(span, rates.get(key, {}), maxima.get(key, {}), guaranteed.get(key, {}), options.thresholds)
    entries = [allocations[i] for i in sorted(allocations)]
    for entry in entries:
        stats.flag(entry, span, options.thresholds)

    report = {
        "format": FORMAT,
        "kind": KIND,
        "title": TITLE,
        "month": options.month,
        "started": _iso(span.start),
        "ended": _iso(span.end),
        "complete": span.end == month_bounds(options.month)[1],
        "finished": utc_now(),
        "working_hours": {"from": f"{stats.WORK_FROM:02d}:00", "to": f"{stats.WORK_TO:02d}:00", "timezone": "WITA", "utc_offset_hours": 8, "weekdays": [1, 2, 3, 4, 5]},
        "days": len(span.days()),
        "working_days": [day.isoformat() for day in span.working_days()],
        "prometheus": {
            "url": client.url,
            "queries": client.queries,
            "query_seconds": round(seconds, 3),
            "step_seconds": span.step,
            "rate_window": options.rate_window,
            "expressions": queries,
            "warnings": client.warnings,
        },
        "thresholds": {
            "at_ceiling_percent": options.thresholds.at_ceiling_percent,
            "at_ceiling_days": options.thresholds.at_ceiling_days,
            "at_ceiling_hours": stats.AT_MAX_HOURS,
            "underused_percent": options.thresholds.underused_percent,
        },
        "allocations": entries,
        "candidates": {
            "at_ceiling": [a["id"] for a in entries if a["flags"]["at_ceiling"]],
            "underused": [a["id"] for a in entries if a["flags"]["underused"]],
        },
    }
    if options.github_repo:
        report["candidates"]["forms"] = form_urls(report, options.github_server, options.github_repo)
    return report


def _iso(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat().replace("+00:00", "Z")


def form_urls(report: dict, server: str, repo: str) -> dict[str, str]:
    """id -> its prefilled issue form (Perubahan for penambahan, Pengembalian), the reason from this report."""
    urls = {}
    by_id = {a["id"]: a for a in report["allocations"]}
    for key, (form, name) in monitoring_forms.FORMS.items():
        for request_id in report["candidates"][key]:
            reason = f"Menurut {TITLE} {stats.month_name(report['month'])}: {by_id[request_id]['reasons'][key]}"
            query = {"template": f"{form}.yml", "title": f"{name}: {request_id}", "id": request_id, "agency": by_id[request_id]["agency"] or "", "reason": reason}
            urls[request_id] = f"{server.rstrip('/')}/{repo}/issues/new?{urlencode(query)}"
    return urls


# --- writing ----------------------------------------------------------------------------------------------------------


def write(report: dict, folder: Path) -> Path:
    """<folder>/<UTC time>/ with monitoring.json, .md and .html, and <folder>/latest pointing at it; all rendered first."""
    from bandwidth.monitoring import monthly_html, monthly_md

    files = {
        "monitoring.json": json.dumps(report, indent=1, ensure_ascii=False, allow_nan=False) + "\n",
        "monitoring.md": monthly_md.render(report),
        "monitoring.html": monthly_html.render(report),
    }
    return write_stamped(folder, report["finished"], files)


def _mbit(kbit: float | None) -> str:
    return "-" if kbit is None else f"{kbit / 1000:.1f}"


def summary(report: dict, folder: Path) -> list[str]:
    """A few English lines for the job's log (agency names stay in the report files)."""
    source = report["prometheus"]
    lines = [
        f"monthly monitoring report: {folder}",
        f"month {report['month']}{'' if report['complete'] else ' (so far)'}: {report['days']} days, {len(report['working_days'])} working days; "
        f"{source['queries']} queries to {source['url']} in {source['query_seconds']:.1f} s, step {source['step_seconds']} s, rate window {source['rate_window']}",
    ]
    for a in report["allocations"]:
        parts = []
        for name in DIRECTIONS:
            d = a.get(name)
            if d is None:
                parts.append(f"{name} no data")
                continue
            parts.append(f"{name} avg {_mbit(d['average_kbit'])} peak {_mbit(d['peak_kbit'])} of max {_mbit(d['max_kbit'])} Mbit/s, {d['days_at_max']} day(s) at max")
        flags = [name for name, on in a["flags"].items() if on]
        lines.append(f"{printable(a['id'])}: {', '.join(parts)}" + (f" [{' '.join(flags)}]" if flags else ""))
    for key, what in (("at_ceiling", "at ceiling (candidates for more bandwidth)"), ("underused", "underused (candidates to give bandwidth back)")):
        lines.append(f"{what}: {', '.join(printable(i) for i in report['candidates'][key]) or 'none'}")
    return lines
