"""The "Surat dan Laporan Penyelesaian Tugas" (SOP steps 8-10): report.json, report.md, report.html and a DOCX letter per changed allocation.

The input is the report dict of one apply-and-verify run (schemas/report.schema.json). Text that comes from request files
(agency, letter number, names, purpose) is escaped for every output: escape.markdown, escape.html_text, and plain runs
without control characters in the DOCX. The only @mentions are requester GitHub logins that match GitHub's pattern.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import math
import os
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import NamedTuple

from bandwidth.escape import markdown as md
from bandwidth.escape import printable
from bandwidth.textid import WITA, tanggal
from bandwidth.textid import mbps as id_mbps

SCHEMA = Path(__file__).resolve().parent.parent.parent / "schemas" / "report.schema.json"
DIRECTIONS = ("download", "upload")
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
# uplink at once at least wire_guaranteed_min x guaranteed_mbps. The goodput band (iperf3's TCP payload, about 95% of the
# wire rate) judges a figure without a wire rate: reports written before the wire rates were read.
TOLERANCE = {"max_low": 0.85, "max_high": 1.05, "guaranteed_min": 0.90, "wire_max_low": 0.97, "wire_max_high": 1.03, "wire_guaranteed_min": 0.97}
# Rates have 3 decimals, the band is a product of floats: 0.97 * 6.9 is 6.6930000000000005, and 6.693 Mbit/s is 97% of 6.9.
_EPSILON = 1e-9


def families(subnets) -> list[str]:
    """The address families of subnets (text or ipaddress networks), ipv4 first: the report's `families`."""
    found = {ipaddress.ip_network(str(s), strict=False).version for s in subnets}
    return [f"ipv{version}" for version in (4, 6) if version in found]


def verdict(allocation: dict, tolerance: dict | None = None) -> str:
    """The verdict pass, fail or not_measured from one allocation's figures; "not_applied" is the caller's (it depends on the apply).

    Measured: each direction has a figure alone (measured_mbps or wire_mbps), and so has each family in by_family; a
    dual-stack allocation (two `families`) whose directions carry by_family needs both families there. Then each figure
    alone (the direction's, and each family's) is judged by its wire rate, within [wire_max_low, wire_max_high] x max_mbps,
    or, without one, by its goodput within [max_low, max_high] x max_mbps; under contention, contention_wire_mbps at least
    wire_guaranteed_min x guaranteed_mbps, or, without it, contention_mbps at least guaranteed_min x guaranteed_mbps (no
    contention figure: no contention test). `tolerance` is the report's; a key it lacks is taken from TOLERANCE.
    """
    band = {**TOLERANCE, **(tolerance or {})}
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
            wire = figure.get("wire_mbps")
            if wire is not None:
                low, high, value = band["wire_max_low"], band["wire_max_high"], wire
            else:
                low, high, value = band["max_low"], band["max_high"], figure["measured_mbps"]
            if not (_at_least(value, low * maximum) and _at_least(high * maximum, value)):
                return "fail"
        together, together_wire = direction.get("contention_mbps"), direction.get("contention_wire_mbps")
        if together_wire is not None:
            if not _at_least(together_wire, band["wire_guaranteed_min"] * guaranteed):
                return "fail"
        elif together is not None and not _at_least(together, band["guaranteed_min"] * guaranteed):
            return "fail"
    return "pass"


def _measured(figure: dict) -> bool:
    return figure.get("measured_mbps") is not None or figure.get("wire_mbps") is not None


def _at_least(value: float, bound: float) -> bool:
    return value >= bound - _EPSILON * max(1.0, abs(bound), abs(value))


# --- shared formatting --------------------------------------------------------------------------------------------------


def utc_now() -> str:
    """Now, as the reports write times: '2026-11-28T01:02:03Z'."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stamped_folder(root: Path, finished: str) -> Path:
    """root/<UTC time> of a report: 20261128T010203Z."""
    return root / finished.replace(":", "").replace("-", "")


def point_latest(root: Path, folder: Path) -> None:
    """root/latest -> the newest report folder (a relative link: the tree can move)."""
    latest = root / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    os.symlink(folder.name, latest)


def moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def waktu(value: dt.datetime | str | None) -> str:
    """'2026-11-28T01:02:03Z' -> '28 November 2026 pukul 09.02 WITA' ('-' when unknown)."""
    if isinstance(value, str) or value is None:
        value = moment(value)
    if value is None:
        return "-"
    local = value.astimezone(WITA)
    return f"{tanggal(local.date())} pukul {local:%H.%M} WITA"


def durasi(seconds: float | None) -> str:
    """A duration in Bahasa Indonesia: '< 1 menit', '35 menit', '1 jam 5 menit', '2 hari 3 jam'."""
    if seconds is None or seconds < 0:
        return "-"
    minutes = int(seconds // 60)
    if minutes < 1:
        return "< 1 menit"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} hari" + (f" {hours} jam" if hours else "")
    if hours:
        return f"{hours} jam" + (f" {minutes} menit" if minutes else "")
    return f"{minutes} menit"


def rate(mbps: float | None) -> str:
    """95.2 -> '95,2'; 1000 -> '1.000'; None -> '-' (Mbit/s, Indonesian notation)."""
    if mbps is None or not math.isfinite(mbps):
        return "-"
    return id_mbps(round(mbps * 1000))


def configured(direction: dict) -> str:
    return f"{rate(direction['guaranteed_mbps'])} / {rate(direction['max_mbps'])}"


def pair(wire: float | None, goodput: float | None) -> str:
    """A figure on the wire (L2) and as iperf3 goodput: '99,9 / 95,6'; '-' when neither was measured."""
    if wire is None and goodput is None:
        return "-"
    return f"{rate(wire)} / {rate(goodput)}"


def measured_pair(direction: dict) -> str:
    """Alone and, where measured, together: '99,9 / 95,6 (bersama 52,5 / 50,2)' (L2 / iperf3)."""
    text = pair(direction.get("wire_mbps"), direction.get("measured_mbps"))
    if direction.get("contention_wire_mbps") is not None or direction.get("contention_mbps") is not None:
        text += f" (bersama {pair(direction.get('contention_wire_mbps'), direction.get('contention_mbps'))})"
    return text


def dual_stack(allocation: dict) -> bool:
    return len(allocation.get("families") or ()) > 1


def per_family(allocation: dict, direction: dict) -> list[str]:
    """A dual-stack allocation's figures per family alone: ['IPv4 99,8 / 95,8', 'IPv6 -']; [] for one family, or nothing measured."""
    if not dual_stack(allocation) or measured_pair(direction) == "-":
        return []
    by_family = direction.get("by_family") or {}
    return [f"{FAMILY[f]} {pair((by_family.get(f) or {}).get('wire_mbps'), (by_family.get(f) or {}).get('measured_mbps'))}" for f in allocation["families"]]


def milliseconds(value: float | None) -> str:
    """0.084 -> '0,08'; 41.73 -> '41,7' (ms, Indonesian notation); None -> '-'."""
    if value is None or not math.isfinite(value):
        return "-"
    return id_mbps(round(round(value, 2 if value < 10 else 1) * 1000))


def rtt_text(allocation: dict) -> str:
    """Idle -> under load, in ms: '0,08 → 41,7', with the family for a dual-stack allocation; '-' when not measured."""
    rtt = allocation.get("rtt_ms")
    if not rtt or (rtt.get("idle") is None and rtt.get("loaded") is None):
        return "-"
    text = f"{milliseconds(rtt.get('idle'))} → {milliseconds(rtt.get('loaded'))}"
    return text + (f" ({FAMILY.get(rtt.get('family'), '?')})" if dual_stack(allocation) else "")


def periode_text(allocation: dict) -> str:
    start, end = allocation.get("start"), allocation.get("end")
    if not start:
        return "-"
    if not end:
        return f"sejak {tanggal(dt.date.fromisoformat(start))}"
    return f"{tanggal(dt.date.fromisoformat(start))} s.d. {tanggal(dt.date.fromisoformat(end))}"


def letter_date(allocation: dict) -> str:
    date = (allocation.get("letter") or {}).get("date")
    return tanggal(dt.date.fromisoformat(date)) if date else "-"


def github_login(allocation: dict) -> str | None:
    login = (allocation.get("contact") or {}).get("github")
    return login if isinstance(login, str) and GITHUB_LOGIN.fullmatch(login) else None


def tolerance_text(report: dict) -> str | None:
    """The pass band in words: on the wire where the report has the wire band, and the goodput band where a figure lacks a wire rate."""
    tolerance = report.get("tolerance") or {}
    wire = all(k in tolerance for k in ("wire_max_low", "wire_max_high", "wire_guaranteed_min"))
    if wire:
        text = (
            f"laju di kabel (L2) {_percent(tolerance['wire_max_low'])}-{_percent(tolerance['wire_max_high'])} dari maksimum saat sendiri "
            f"(juga tiap keluarga alamat) dan minimal {_percent(tolerance['wire_guaranteed_min'])} dari jaminan saat dipakai bersama"
        )
        if all(k in tolerance for k in ("max_low", "max_high", "guaranteed_min")) and _goodput_only(report):
            text += (
                f" (angka tanpa laju di kabel: iperf3 {_percent(tolerance['max_low'])}-{_percent(tolerance['max_high'])} dari maksimum "
                f"dan minimal {_percent(tolerance['guaranteed_min'])} dari jaminan saat bersama)"
            )
        return text
    return _goodput_band(tolerance)


def _goodput_only(report: dict) -> bool:
    """Does any figure have a goodput but no wire rate (an allocation of an older report, or counters not read)?"""
    for allocation in report["allocations"]:
        for name in DIRECTIONS:
            direction = allocation[name]
            figures = [(direction.get("wire_mbps"), direction.get("measured_mbps")), (direction.get("contention_wire_mbps"), direction.get("contention_mbps"))]
            figures += [(f.get("wire_mbps"), f.get("measured_mbps")) for f in (direction.get("by_family") or {}).values()]
            if any(wire is None and goodput is not None for wire, goodput in figures):
                return True
    return False


def _goodput_band(tolerance: dict) -> str | None:
    parts = []
    if "max_low" in tolerance and "max_high" in tolerance:
        parts.append(f"terukur {_percent(tolerance['max_low'])}-{_percent(tolerance['max_high'])} dari maksimum")
    if "guaranteed_min" in tolerance:
        parts.append(f"saat dipakai bersama minimal {_percent(tolerance['guaranteed_min'])} dari jaminan")
    return "; ".join(parts) or None


# How the two rates relate (the figures of TCP over Ethernet at 1500-byte MTU, with TCP timestamps, as Linux sends).
NOTE_WIRE = (
    "Di kabel (L2): laju yang dihitung kelas HTB alokasi di gateway (penghitung byte tc), termasuk header Ethernet 14 byte per paket; "
    "laju inilah yang dibatasi shaper. iperf3: goodput, yaitu muatan TCP saja tanpa header IP dan TCP (header IPv6 20 byte lebih panjang "
    "daripada IPv4), sehingga pada MTU 1500 byte goodput sekitar 95% dari laju di kabel (IPv4: 1448 dari 1514 byte per paket, 95,6%; "
    "IPv6: 1428 dari 1514 byte, 94,3%)."
)
NOTE_RTT = (
    "RTT: waktu pulang-pergi ping dari klien alokasi melalui gateway ke servernya, saat idle → saat unduhan alokasi itu jenuh; "
    "di lab (antrean pfifo) RTT saat beban memang naik (bufferbloat), di produksi fq_codel menjaganya tetap rendah."
)


def footnote(report: dict) -> list[str]:
    """The sentences under the table of results, in Bahasa Indonesia: units, the two rates, the pass band, the RTT."""
    lines = [
        "Angka dalam Mbit/s, di kabel (L2) / iperf3; terukur: satu alokasi sendiri (dual-stack: IPv4 dan IPv6 sekaligus, "
        "lalu tiap keluarga alamat sendiri); bersama: semua alokasi satu uplink sekaligus.",
        NOTE_WIRE,
    ]
    if tolerance_text(report):
        lines.append(f"Lulus bila {tolerance_text(report)}.")
    lines.append(NOTE_RTT)
    return lines


def _percent(ratio: float) -> str:
    return rate(ratio * 100) + "%"


def counts(report: dict) -> dict[str, int]:
    found = dict.fromkeys(VERDICT, 0)
    for allocation in report["allocations"]:
        found[allocation["verdict"]] += 1
    return found


def counts_text(report: dict) -> str:
    """'2 lulus, 1 gagal, 1 tidak diukur' and, when there are any, ', 3 belum diterapkan'."""
    found = counts(report)
    text = f"{found['pass']} lulus, {found['fail']} gagal, {found['not_measured']} tidak diukur"
    if found["not_applied"]:
        text += f", {found['not_applied']} belum diterapkan"
    return text


def not_applied(report: dict) -> list[dict]:
    """The gateways the last apply tried and did not configure (unreachable or failed), by name."""
    return sorted((g for g in report["gateways"] if g.get("applied") is False), key=lambda g: g["name"])


def gateway_state(gateway: dict) -> str:
    """What the last apply did on a gateway, in a few words."""
    if gateway.get("applied") is False:
        return "belum diterapkan"
    if gateway.get("changed"):
        return f"diubah ({len(gateway.get('commands') or [])} perintah tc)"
    if gateway.get("applied") is None:
        return "tidak ada catatan penerapan"
    return "tidak berubah"


def reason_text(gateway: dict) -> str:
    return gateway.get("reason") or "penyebab tidak tercatat"


def unmeasured_text(report: dict, quote=str) -> str:
    """'3 tidak diukur (2 karena tidak diminta (...); 1 karena tidak ada klien lab)': the reasons counted (quote escapes each for its format)."""
    count = sum(1 for a in report["allocations"] if a["verdict"] == "not_measured")
    reasons = _reasons(report, quote)
    return f"{count} tidak diukur" + (f" ({reasons})" if reasons else "")


def _reasons(report: dict, quote) -> str | None:
    """Why the allocations not measured were not, counted, the most frequent first; None when no reason was recorded (older reports)."""
    reasons = Counter(a.get("not_measured_reason") for a in report["allocations"] if a["verdict"] == "not_measured")
    if set(reasons) <= {None}:
        return None
    known = sorted(((n, r) for r, n in reasons.items() if r is not None), key=lambda x: (-x[0], x[1]))
    shown = [f"{n} karena {quote(clip(r, MAX_REASON // 2))}" for n, r in known[:MAX_REASONS_SHOWN]]
    if len(known) > MAX_REASONS_SHOWN:
        shown.append(f"{sum(n for n, _ in known[MAX_REASONS_SHOWN:])} karena alasan lain")
    if reasons.get(None):
        shown.append(f"{reasons[None]} tanpa alasan tercatat")
    return "; ".join(shown)


def result_text(report: dict, quote=str) -> str:
    """The one-line verdict of the whole run: all passed, gateways not applied, N failed, drift; never "semua ... lulus" with any not measured."""
    found, drift = counts(report), len(report["drift"])
    parts = []
    unapplied = [g["name"] for g in not_applied(report)]
    if unapplied:
        parts.append(f"konfigurasi belum diterapkan pada gateway {', '.join(unapplied)} ({found['not_applied']} alokasi)")
    elif found["not_applied"]:
        parts.append(f"{found['not_applied']} alokasi belum diterapkan")
    if found["fail"]:
        parts.append(f"{found['fail']} alokasi gagal")
    if drift:
        parts.append(f"konfigurasi menyimpang (drift): {drift} temuan")
    if not parts:
        if not report["allocations"]:
            return "tidak ada alokasi yang berlaku"
        if found["pass"] == len(report["allocations"]):
            return f"semua {found['pass']} alokasi lulus"
        if found["pass"]:
            return f"{found['pass']} alokasi lulus, {unmeasured_text(report, quote)}"
        reasons = _reasons(report, quote)
        return "tidak ada alokasi yang diukur" + (f" ({reasons})" if reasons else "")
    return "; ".join(parts)


def ok(report: dict) -> bool:
    found = counts(report)
    return not report["drift"] and not found["fail"] and not found["not_applied"] and not not_applied(report)


def step_times(report: dict, allocation: dict) -> list[StepTime]:
    """Per SOP step, 1 to 10: when it happened, how long it took and who acted, where the timeline knows (STEP_TIMES)."""
    timeline = allocation.get("timeline") or {}
    moments = {key: moment(value) for key, value in timeline.items() if isinstance(value, str)}
    moments["requested"] = moments.get("requested") or moments.get("committed")  # a report written before `requested`
    moments["finished"] = moment(report["finished"])
    by = {}
    for index, entry in enumerate(timeline.get("dispositions") or []):
        moments[f"disposition.{index}"] = moment(entry.get("time"))
        by[f"disposition.{index}"] = entry.get("login")
    rows = []
    for step, key, since, until in STEP_TIMES:
        start = max((moments[k] for k in since if moments.get(k)), default=None)
        end = moments.get(until)
        rows.append(StepTime(step, moments.get(key), (end - start).total_seconds() if start and end else None, by.get(key)))
    return rows


def clip(text: str, limit: int) -> str:
    """At most `limit` characters of one line of text (cut before escaping, so that no escape is cut)."""
    plain = printable(" ".join(str(text).split()))  # a newline of an error message reads as a space, not as \u000a
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


def by_id(allocations: list[dict]) -> list[dict]:
    return sorted(allocations, key=lambda a: a["id"])


# --- report.md ----------------------------------------------------------------------------------------------------------


def render_markdown(report: dict) -> str:
    """report.md: short enough for a GitHub job summary or a pull request comment."""
    allocations = by_id(report["allocations"])
    head = ["## Laporan Penyelesaian Tugas Penyediaan Bandwidth", ""]
    line = f"SOP Penyediaan Bandwidth langkah 8-10 · commit `{report['commit'][:7]}`"
    if report.get("mode") in MODE:
        line += f" · lingkungan {MODE[report['mode']]}"
    head += [line, "", f"Waktu mulai: {waktu(report['started'])} · selesai: {waktu(report['finished'])}", ""]
    head += [f"**Hasil: {result_text(report, md)}.** ({counts_text(report)}; {len(report['drift'])} drift)", ""]
    gateways = [f"{md(g['name'])} {gateway_state(g)}" for g in sorted(report["gateways"], key=lambda g: g["name"])]
    if gateways:
        head += ["Gateway: " + ", ".join(gateways) + ".", ""]
    unapplied = not_applied(report)
    if unapplied:
        head += ["### Konfigurasi belum diterapkan", "", 'Penerapan konfigurasi gagal pada gateway berikut; alokasinya dinilai "Belum diterapkan" sampai penerapan berikutnya berhasil:', ""]
        head += [f"- {md(g['name'])}: {md(clip(reason_text(g), MAX_REASON))}" for g in unapplied[:MAX_NOT_APPLIED_LINES]]
        if len(unapplied) > MAX_NOT_APPLIED_LINES:
            head.append(f"- ... dan {len(unapplied) - MAX_NOT_APPLIED_LINES} gateway lagi (lihat report.html)")
        head.append("")

    drift = []
    if report["drift"]:
        drift += ["### Konfigurasi menyimpang (drift)", "", "Konfigurasi tc yang terbaca di gateway berbeda dari yang seharusnya:", ""]
        for item in report["drift"][:MAX_DRIFT_LINES]:
            where = " ".join(md(x) for x in (item["gateway"], item.get("device") or "") if x)
            if item.get("allocation"):
                where += f" ({md(item['allocation'])})"
            drift.append(f"- {where}: {md(item['difference'])}")
        if len(report["drift"]) > MAX_DRIFT_LINES:
            drift.append(f"- ... dan {len(report['drift']) - MAX_DRIFT_LINES} lagi (lihat report.json)")
        drift.append("")

    changed = [a for a in allocations if a.get("changed")]
    tail = []
    if changed:
        names = [f"`Laporan_Penyelesaian_Tugas_{a['id']}.docx`" for a in changed[:10]]
        more = f" dan {len(changed) - 10} lainnya" if len(changed) > 10 else ""
        tail += [f"Surat laporan penyelesaian (DOCX) untuk {len(changed)} alokasi yang berubah: " + ", ".join(names) + more + ".", ""]
    tail += ["Grafik dan rincian lengkap: `report.html`; data: `report.json`.", ""]
    logins = list(dict.fromkeys(login for a in changed if (login := github_login(a))))
    if logins:
        tail += ["Pemohon: " + ", ".join(f"@{login}" for login in logins[:MAX_MENTIONS]), ""]

    table = []
    if allocations:
        table += [
            "| ID | Pengguna Bandwidth | Gateway / Uplink | Unduh dikonfigurasi (jaminan / maks) | Unduh di kabel (L2) / iperf3 "
            "| Unggah dikonfigurasi (jaminan / maks) | Unggah di kabel (L2) / iperf3 | RTT idle → beban (ms) | Hasil |",
            "|---|---|---|---:|---:|---:|---:|---:|---|",
        ]
        rows = {a["id"]: _markdown_row(a) for a in allocations}
        budget = MAX_MARKDOWN - sum(len(x) + 1 for x in head + drift + tail + table) - 400
        # Failed, not applied and changed allocations first, should the comment not hold them all.
        chosen = set()
        for allocation in sorted(allocations, key=lambda a: (a["verdict"] not in ("fail", "not_applied"), not a.get("changed"), a["id"])):
            cost = len(rows[allocation["id"]]) + 1
            if cost > budget:
                break
            budget -= cost
            chosen.add(allocation["id"])
        table += [rows[a["id"]] for a in allocations if a["id"] in chosen]
        table.append("")
        if len(chosen) < len(allocations):
            table += [f"... dan {len(allocations) - len(chosen)} alokasi lain (lihat `report.html`).", ""]
        table += [" ".join(footnote(report)), ""]
    else:
        table += ["Tidak ada alokasi.", ""]
    return "\n".join(head + table + drift + tail).rstrip("\n") + "\n"


def _markdown_row(allocation: dict) -> str:
    ident = md(allocation["id"]) + (" (diubah)" if allocation.get("changed") else "")
    verdict = VERDICT[allocation["verdict"]]
    if allocation["verdict"] in ("fail", "not_applied"):
        verdict = f"**{verdict}**"
    if allocation.get("not_measured_reason"):
        verdict += f": {md(clip(allocation['not_measured_reason'], MAX_REASON // 2))}"
    cells = [
        ident,
        md(allocation.get("agency", "-")),
        f"{md(allocation['gateway'])} / {md(allocation['uplink'])}",
        configured(allocation["download"]),
        "<br>".join([measured_pair(allocation["download"]), " · ".join(per_family(allocation, allocation["download"]))]).removesuffix("<br>"),
        configured(allocation["upload"]),
        "<br>".join([measured_pair(allocation["upload"]), " · ".join(per_family(allocation, allocation["upload"]))]).removesuffix("<br>"),
        rtt_text(allocation),
        verdict,
    ]
    return "| " + " | ".join(cells) + " |"


# --- all files ----------------------------------------------------------------------------------------------------------


def docx_name(allocation: dict) -> str:
    return f"Laporan_Penyelesaian_Tugas_{allocation['id']}.docx"


def write_all(report: dict, out_dir: Path) -> list[Path]:
    """Validate the report and write report.json, report.md, report.html and a DOCX letter per changed allocation.

    Everything is rendered before the first file is written: an invalid report leaves out_dir untouched.
    """
    from bandwidth import report_docx, report_html

    data = validate(report)
    files: list[tuple[str, bytes]] = [
        ("report.json", (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")),
        ("report.md", render_markdown(data).encode("utf-8")),
        ("report.html", report_html.render(data).encode("utf-8")),
    ]
    for allocation in by_id(data["allocations"]):
        if allocation.get("changed"):
            files.append((docx_name(allocation), report_docx.render(data, allocation)))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files:
        path = out_dir / name
        path.write_bytes(content)
        written.append(path)
    return written
