"""`bandwidth monitor`: turn tc counter samples into the "Laporan Monitoring Bandwidth", the daily snapshot.

The snapshot is for sites without Prometheus: a few minutes of counters a day. With Prometheus, the monthly report
(`bandwidth monitor --prometheus URL --month YYYY-MM`, bandwidth.monitoring.monthly) covers every working hour.

Inputs are what playbooks/monitor.yml leaves in .plans/: <gateway>.json (the plan: which device and class
minor is which allocation and direction) and <gateway>.counters.json (samples of `tc -s class show` from the
module bandwidth_counters). Per allocation and direction: the class on the LAN interface is download, the
class on the ifb is upload. Rates are tc's bytes, so layer-2 bytes (Ethernet header included).

Output: reports/monitoring/<UTC time>/monitoring.json, .md, .html, and reports/monitoring/latest. With a GitHub
repository (--github-repo, in Actions GITHUB_REPOSITORY), each candidate gets a link to its prefilled form, and
candidates.md (when there are candidates) is the monthly issue's body (monitoring_forms).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path

from bandwidth import jsonfiles
from bandwidth.errors import UsageError
from bandwidth.model import DIRECTIONS
from bandwidth.outputs import utc_now, write_stamped
from bandwidth.reports import monitoring_forms
from bandwidth.shaping.plan import GatewayPlan, PlanClass, PlanFolder
from bandwidth.shaping.tc import build as tc_build
from bandwidth.shaping.tc import parse

FORMAT = 2  # schemas/monitoring.schema.json: 2 adds "kind"
KIND = "snapshot"
ROOT_CLASS, DEFAULT_CLASS = tc_build.ROOT_CLASS, tc_build.DEFAULT_CLASS  # the uplink; the traffic of no allocation
COUNTERS = parse.COUNTERS
WRAP32 = 2**32  # packets, drops and overlimits are 32-bit counters in the kernel's class stats


@dataclass
class MonitorOptions:
    repo: Path
    inventory: str
    plans: Path
    reports: Path
    at_ceiling_percent: float = 90.0
    underused_percent: float = 10.0
    github_repo: str | None = None  # OWNER/NAME: the candidates' forms link to its issues
    github_server: str = "https://github.com"


def run(args) -> int:
    repo = Path(args.repo)
    options = MonitorOptions(
        repo=repo, inventory=args.inventory, plans=repo / args.plans, reports=repo / args.reports,
        at_ceiling_percent=args.at_ceiling_percent, underused_percent=args.underused_percent,
        github_repo=args.github_repo, github_server=args.github_server,
    )  # fmt: skip
    monitoring_forms.check_github(options.github_repo, options.github_server)
    report = build(options)
    folder = write(report, options.reports / "monitoring")
    print("\n".join(summary(report, folder)))
    return 0


# --- reading the inputs -------------------------------------------------------------------------------------------------


def _read_json(path: Path, what: str):
    return jsonfiles.read(path, what, "playbooks/monitor.yml")


def load_plans(folder: PlanFolder) -> dict[str, GatewayPlan]:
    """gateway -> its plan, from `bandwidth render --output-dir`."""
    plans = folder.read_all()
    if not plans:
        raise UsageError(f"{folder.path}: no plans (<gateway>.json); playbooks/monitor.yml renders them")
    return plans


def load_counters(path: Path) -> dict:
    """One gateway's samples, checked for the shape the module bandwidth_counters writes."""
    data = _read_json(path, "counter samples")
    samples = data.get("samples") if isinstance(data, dict) else None
    if not isinstance(samples, list):
        raise UsageError(f"{path}: no list 'samples' (expected the output of the module bandwidth_counters)")
    previous = -math.inf
    for index, sample in enumerate(samples):
        where = f"{path}: samples[{index}]"
        if not isinstance(sample, dict) or not isinstance(sample.get("devices"), dict):
            raise UsageError(f"{where}: expected {{t, devices}}")
        t = sample.get("t")
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t <= previous:
            raise UsageError(f"{where}: t must be a number of seconds, increasing from sample to sample")
        previous = t
        for device, classes in sample["devices"].items():
            if not isinstance(classes, dict):
                raise UsageError(f"{where}: device {device}: expected {{classid: counters}}")
            for classid, counters in classes.items():
                if not isinstance(counters, dict) or any(isinstance(counters.get(k), bool) or not isinstance(counters.get(k), int) or counters[k] < 0 for k in COUNTERS):
                    raise UsageError(f"{where}: {device} {classid}: expected non-negative integers {', '.join(COUNTERS)}")
    if len(samples) < 2:
        raise UsageError(f"{path}: {len(samples)} sample(s); a rate needs at least 2")
    return data


# --- the arithmetic -----------------------------------------------------------------------------------------------------


def _delta(before: int, after: int) -> int:
    """A 32-bit counter that went down while its class lived on has wrapped."""
    return after - before if after >= before else after - before + WRAP32


def interval_stats(times: list[float], series: list[dict | None]) -> dict:
    """Counters of one class over the interval. `series[i]` is its counters at times[i], None where the class was absent.

    A pair whose bytes went down, or whose class was absent in the first sample of the pair, counts what the new class
    counted from zero (never a negative amount); it is reported as a reset when the class had been seen before (re-created),
    not when it first appears during the interval.
    """
    totals = dict.fromkeys(COUNTERS, 0)
    rates: list[float | None] = []
    resets: list[list[float]] = []
    seen = False
    for i in range(len(times) - 1):
        before, after = series[i], series[i + 1]
        seen = seen or before is not None
        if after is None:  # gone (or not there yet): nothing to count
            rates.append(None)
            continue
        if before is None or after["bytes"] < before["bytes"]:
            moved = {name: after[name] for name in COUNTERS}  # a new class counts from zero
            if seen:  # it was there before: re-created, not merely created during the interval
                resets.append([round(times[i], 3), round(times[i + 1], 3)])
        else:
            moved = {name: after[name] - before[name] if name == "bytes" else _delta(before[name], after[name]) for name in COUNTERS}
        for name in COUNTERS:
            totals[name] += moved[name]
        rates.append(round(moved["bytes"] * 8 / 1000 / (times[i + 1] - times[i]), 1))
    elapsed = times[-1] - times[0]
    seen = any(s is not None for s in series)
    known = [r for r in rates if r is not None]
    return {
        "found": seen,
        "average_kbit": round(totals["bytes"] * 8 / 1000 / elapsed, 1) if seen else None,
        "peak_kbit": max(known) if known else (0.0 if seen else None),
        **totals,
        "resets": resets,
        "series_kbit": rates,
    }


def _share(value: float | None, of_kbit: int | float) -> float | None:
    return round(100 * value / of_kbit, 1) if value is not None and of_kbit else None


# --- the report ---------------------------------------------------------------------------------------------------------


def _allocation_details(options: MonitorOptions, today: str | None) -> dict:
    """id -> Allocation from the request files, for the agency and the period (the plan has the rates)."""
    from bandwidth.allocations.checker import CheckOptions, run_check

    day = None
    if today:
        try:
            day = dt.date.fromisoformat(today)
        except ValueError:
            day = None
    result = run_check(CheckOptions(root=options.repo, inventory=options.inventory, today=day))
    return {a.id: a for a in result.allocations}


def build(options: MonitorOptions) -> dict:
    folder = PlanFolder(options.plans)
    plans = load_plans(folder)
    counters = {name: load_counters(folder.counters_path(name)) for name in plans}
    today = next((p.today for p in plans.values() if p.today), None)
    details = _allocation_details(options, today)

    allocations: dict[str, dict] = {}
    gateways, resets = [], []
    for name, plan in plans.items():
        gateways.append(_gateway(name, plan, counters[name], folder.counters_path(name), details, allocations, resets))

    entries = sorted(allocations.values(), key=lambda a: a["id"])
    for entry in entries:
        _flag(entry, options)
    started = sorted(g["started"] for g in gateways if g["started"])
    steps = {g["step_seconds"] for g in gateways if isinstance(g["step_seconds"], int)}
    report = {
        "format": FORMAT,
        "kind": KIND,
        "title": "Laporan Monitoring Bandwidth",
        "started": started[0] if started else None,
        "finished": utc_now(),
        "today": today,
        "duration_seconds": max((g["elapsed_seconds"] for g in gateways), default=0),
        "step_seconds": steps.pop() if len(steps) == 1 else None,
        "thresholds": {"at_ceiling_percent": options.at_ceiling_percent, "underused_percent": options.underused_percent},
        "gateways": gateways,
        "allocations": entries,
        "resets": resets,
        "candidates": {
            "at_ceiling": [a["id"] for a in entries if a["flags"]["at_ceiling"]],
            "underused": [a["id"] for a in entries if a["flags"]["underused"]],
        },
    }
    if options.github_repo:
        report["candidates"]["forms"] = monitoring_forms.form_urls(report, options.github_server, options.github_repo)
        if report["candidates"]["forms"]:
            from bandwidth.history import gate

            title, members = gate.last_role(options.repo, "HEAD")
            report["issue"] = {"title": monitoring_forms.month_title(report), "body": monitoring_forms.issue_body(report, title, members)}
    return report


def _device_times(samples: list, device: str, path: Path) -> list[float]:
    """When the device was read in each sample: its own time (device_t) where the module gave one,
    else the sample's; a busy gateway reads devices one after the other."""
    times = []
    for index, sample in enumerate(samples):
        own = sample.get("device_t", {}).get(device) if isinstance(sample.get("device_t"), dict) else None
        t = own if isinstance(own, int | float) and not isinstance(own, bool) and math.isfinite(own) else sample["t"]
        if times and t <= times[-1]:
            raise UsageError(f"{path}: samples[{index}]: device_t of {device} must increase from sample to sample")
        times.append(float(t))
    return times


def _gateway(name: str, plan: GatewayPlan, data: dict, path: Path, details: dict, allocations: dict, resets: list) -> dict:
    """One gateway's uplink totals; fills `allocations` (id -> entry) and `resets` on the way."""
    samples = data["samples"]
    uplinks: dict[str, dict] = {}
    for device in plan.devices:
        dev, direction = device.device, device.direction
        missing = [i for i, s in enumerate(samples) if dev not in s["devices"]]
        if missing:
            raise UsageError(f"{path}: device {dev} of the plan is not in samples[{missing[0]}]")
        times = _device_times(samples, dev, path)
        found = {}
        classids = [ROOT_CLASS, DEFAULT_CLASS] + [tc_build.classid(cls.minor) for cls in device.classes]
        labels = [None, None] + [cls.label for cls in device.classes]
        for classid, label in zip(classids, labels, strict=True):
            found[classid] = interval_stats(times, [s["devices"][dev].get(classid) for s in samples])
            resets += [{"gateway": name, "device": dev, "classid": classid, "allocation": label, "between": pair} for pair in found[classid]["resets"]]
        in_uplink = []
        for cls in device.classes:
            classid = tc_build.classid(cls.minor)
            entry = allocations.setdefault(cls.label, _allocation_entry(cls.label, name, device.uplink, cls, details.get(cls.label)))
            entry[direction] = _direction_entry(dev, classid, cls.rate_kbit, cls.ceil_kbit, found[classid])
            in_uplink.append(entry[direction])
        total, capacity = found[ROOT_CLASS], device.capacity_kbit
        uplinks.setdefault(device.uplink, {"name": device.uplink})[direction] = {
            "device": dev,
            "capacity_kbit": capacity,
            "average_kbit": total["average_kbit"],
            "peak_kbit": total["peak_kbit"],
            "average_percent_of_capacity": _share(total["average_kbit"], capacity),
            "peak_percent_of_capacity": _share(total["peak_kbit"], capacity),
            "allocated_guaranteed_kbit": sum(cls.rate_kbit for cls in device.classes),
            "allocations_average_kbit": round(sum(d["average_kbit"] or 0 for d in in_uplink), 1),
            "unclassified_average_kbit": found[DEFAULT_CLASS]["average_kbit"],
            **{k: total[k] for k in COUNTERS},
            "resets": len(total["resets"]),
            "series_kbit": total["series_kbit"],
        }
    return {
        "name": name,
        "started": data.get("started") if isinstance(data.get("started"), str) else None,
        "samples": len(samples),
        "times": [round(t - times[0], 3) for t in times],
        "elapsed_seconds": round(times[-1] - times[0], 3),
        "step_seconds": data.get("step_seconds") if isinstance(data.get("step_seconds"), int) else None,
        "uplinks": [uplinks[u] for u in sorted(uplinks)],
    }


def _allocation_entry(ident: str, gateway: str, uplink: str, cls: PlanClass, allocation) -> dict:
    entry = {"id": ident, "gateway": gateway, "uplink": uplink, "agency": None, "priority": cls.prio, "start": None, "end": None}
    if allocation is not None:
        entry.update(agency=allocation.agency, start=allocation.start.isoformat(), end=allocation.end.isoformat() if allocation.end else None)
    return entry


def _direction_entry(device: str, classid: str, guaranteed: int, ceiling: int, found: dict) -> dict:
    return {
        "device": device,
        "classid": classid,
        "found": found["found"],
        "guaranteed_kbit": guaranteed,
        "max_kbit": ceiling,
        "average_kbit": found["average_kbit"],
        "peak_kbit": found["peak_kbit"],
        "average_percent_of_guaranteed": _share(found["average_kbit"], guaranteed),
        "average_percent_of_max": _share(found["average_kbit"], ceiling),
        "peak_percent_of_guaranteed": _share(found["peak_kbit"], guaranteed),
        "peak_percent_of_max": _share(found["peak_kbit"], ceiling),
        **{k: found[k] for k in COUNTERS},
        "resets": len(found["resets"]),
        "series_kbit": found["series_kbit"],
    }


def _flag(entry: dict, options: MonitorOptions) -> None:
    directions = [entry.get(d) for d in DIRECTIONS]
    complete = all(d is not None and d["found"] for d in directions)
    at_max = [d["average_percent_of_max"] for d in directions if d is not None and d["average_percent_of_max"] is not None]
    of_guaranteed = [d["average_percent_of_guaranteed"] for d in directions if d is not None]
    entry["flags"] = {
        "at_ceiling": any(p >= options.at_ceiling_percent for p in at_max),
        "underused": complete and all(p is not None and p < options.underused_percent for p in of_guaranteed),
        "counter_reset": any(d is not None and d["resets"] for d in directions),
        "class_missing": not complete,
    }


# --- writing ------------------------------------------------------------------------------------------------------------


def write(report: dict, folder: Path) -> Path:
    """<folder>/<UTC time>/ with monitoring.json, .md and .html, and <folder>/latest pointing at it.

    Everything is rendered before the first file is written."""
    from bandwidth.reports import monitoring_html, monitoring_md

    files = {
        "monitoring.json": json.dumps(report, indent=1, ensure_ascii=False, allow_nan=False) + "\n",
        "monitoring.md": monitoring_md.render(report),
        "monitoring.html": monitoring_html.render(report),
    }
    if report.get("issue"):  # the monthly issue: its title on the first line, then the body
        files["candidates.md"] = report["issue"]["title"] + "\n" + report["issue"]["body"]
    return write_stamped(folder, report["finished"], files)


def _mbit(kbit: float | None) -> str:
    return "-" if kbit is None else f"{kbit / 1000:.1f}"


def summary(report: dict, folder: Path) -> list[str]:
    """A few English lines for the playbook's output."""
    from bandwidth.reports.monitoring_md import uplink_directions

    lines = [f"monitoring report: {folder}", f"interval: {report['duration_seconds']:g} s, step {report['step_seconds']} s, {len(report['gateways'])} gateway(s)"]
    for a in report["allocations"]:
        parts = []
        for direction in DIRECTIONS:
            d = a.get(direction)
            if d is None or not d["found"]:
                parts.append(f"{direction} class missing")
                continue
            parts.append(f"{direction} avg {_mbit(d['average_kbit'])} peak {_mbit(d['peak_kbit'])} of max {_mbit(d['max_kbit'])} Mbit/s")
        flags = [name for name in ("at_ceiling", "underused", "counter_reset", "class_missing") if a["flags"][name]]
        lines.append(f"{a['id']} {a['gateway']}/{a['uplink']}: {', '.join(parts)}" + (f" [{' '.join(flags)}]" if flags else ""))
    for gateway, uplink, direction, u in uplink_directions(report):
        lines.append(f"uplink {gateway}/{uplink} {direction}: avg {_mbit(u['average_kbit'])} peak {_mbit(u['peak_kbit'])} of {_mbit(u['capacity_kbit'])} Mbit/s")
    for reset in report["resets"]:
        who = f" ({reset['allocation']})" if reset["allocation"] else ""
        lines.append(f"counter reset (class re-created) on {reset['gateway']} {reset['device']} {reset['classid']}{who} between t={reset['between'][0]:g} s and {reset['between'][1]:g} s")
    lines.append(f"at ceiling (candidates for more bandwidth): {', '.join(report['candidates']['at_ceiling']) or 'none'}")
    lines.append(f"underused (candidates to give bandwidth back): {', '.join(report['candidates']['underused']) or 'none'}")
    return lines
