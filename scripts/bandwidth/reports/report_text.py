"""The completion report's figures and sentences in Bahasa Indonesia, shared by report.md, report.html and the letter."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

from bandwidth.escape import printable
from bandwidth.reports.report_data import DIRECTIONS, FAMILY, GITHUB_LOGIN, MAX_REASON, MAX_REASONS_SHOWN, STEP_TIMES, StepTime, counts, not_applied
from bandwidth.textid import WITA, tanggal
from bandwidth.textid import mbps as id_mbps

# --- shared formatting --------------------------------------------------------------------------------------------------


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


def emergency_text(report: dict) -> str | None:
    """The sentence of an emergency apply (the chain's record was not complete), or None."""
    emergency = report.get("emergency")
    if not emergency:
        return None
    return f"Penerapan darurat tanpa catatan disposisi lengkap, atas permintaan {emergency['login']} pada {waktu(emergency['time'])}, dengan alasan: {emergency['reason']}."


def first_figures(allocation: dict, direction: dict) -> str:
    """The first measurements of the figures measured again (each was out of the band): 'diukur ulang, pertama:
    96,2 / 91,8 · IPv6 95,1 / 90 · bersama 46 / 44' (L2 / iperf3); '' when nothing was measured again."""
    firsts = []
    if direction.get("first"):
        firsts.append(pair(direction["first"].get("wire_mbps"), direction["first"].get("measured_mbps")))
    for family in allocation.get("families") or ():
        first = ((direction.get("by_family") or {}).get(family) or {}).get("first")
        if first and dual_stack(allocation):
            firsts.append(f"{FAMILY[family]} {pair(first.get('wire_mbps'), first.get('measured_mbps'))}")
    if direction.get("contention_first"):
        firsts.append(f"bersama {pair(direction['contention_first'].get('wire_mbps'), direction['contention_first'].get('measured_mbps'))}")
    return "diukur ulang, pertama: " + " · ".join(firsts) if firsts else ""


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


# The fields a change is reported by (completion.CHANGE_FIELDS), as the letter names them.
CHANGE_FIELD_TEXT = {
    "gateway": "Gateway", "uplink": "Uplink", "subnets": "Subnet", "download.guaranteed_mbps": "Unduh jaminan", "download.max_mbps": "Unduh maksimum",
    "upload.guaranteed_mbps": "Unggah jaminan", "upload.max_mbps": "Unggah maksimum", "priority": "Prioritas", "start": "Tanggal mulai", "end": "Tanggal berakhir",
}  # fmt: skip


def is_change(allocation: dict) -> bool:
    """An existing allocation changed (Perubahan, Perpanjangan, Pengembalian with a date), not a new one."""
    return (allocation.get("request") or {}).get("kind") == "change"


def change_kind(allocation: dict) -> str:
    """What a change is, read from what it changed: 'perpanjangan' (only a later end, or none), 'pengembalian' (only an
    earlier end), else 'perubahan'. From the changes, not the form's name: a change made in a pull request by hand says the same."""
    changes = (allocation.get("request") or {}).get("changes") or []
    if [c["field"] for c in changes] != ["end"]:
        return "perubahan"
    old, new = changes[0]["old"], changes[0]["new"]
    if new is None or (old is not None and str(new) > str(old)):  # ISO dates: as text, in calendar order
        return "perpanjangan"
    return "pengembalian" if old is None or str(new) < str(old) else "perubahan"


def change_value(field: str, value) -> str:
    """One side of a change in Bahasa Indonesia: '100 Mbit/s', '31 Desember 2026', 'tanpa batas', '198.18.1.0/24, ...'."""
    if value is None:
        return "tanpa batas" if field == "end" else "-"
    if field.endswith("_mbps") and isinstance(value, (int, float)):
        return f"{rate(value)} Mbit/s"
    if field in ("start", "end") and isinstance(value, str):
        try:
            return tanggal(dt.date.fromisoformat(value))
        except ValueError:
            pass
    if isinstance(value, list):
        return ", ".join(printable(str(v)) for v in value) or "-"
    return printable(str(value))


def change_rows(allocation: dict) -> list[tuple[str, str, str]]:
    """(what, before, after) of each field the change touched; [] for a new allocation."""
    if not is_change(allocation):
        return []
    return [(CHANGE_FIELD_TEXT.get(c["field"], printable(c["field"])), change_value(c["field"], c["old"]), change_value(c["field"], c["new"])) for c in allocation["request"]["changes"]]


def removed_text(item: dict) -> str:
    """One removed allocation in a sentence: 'dicabut dari gw-a / isp-a pada 1 Desember 2026 pukul 14.00 WITA (unduh 10 / 20, unggah 5 / 10 Mbit/s)'."""
    where = " / ".join(printable(x) for x in (item.get("gateway"), item.get("uplink")) if x)
    done = f"dicabut dari {where} pada {waktu(item['applied'])}" if item.get("applied") else f"belum dicabut dari {where}: konfigurasinya belum diterapkan"
    down, up = item.get("download") or {}, item.get("upload") or {}
    return f"{done} (unduh {rate(down.get('guaranteed_mbps'))} / {rate(down.get('max_mbps'))}, unggah {rate(up.get('guaranteed_mbps'))} / {rate(up.get('max_mbps'))} Mbit/s)"


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
        if tolerance.get("goodput_wire_max") is not None:
            text += (
                f", dengan goodput iperf3 tidak melebihi {_percent(tolerance['goodput_wire_max'])} dari laju di kabel pada waktu yang sama "
                "(lebih dari itu berarti sebagian lalu lintas alokasi lolos dari kelasnya); angka di luar rentang diukur ulang sekali "
                "dan baru gagal bila ulangannya juga di luar rentang"
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
NOTE_WINDOW = "Keduanya dibaca pada rentang waktu yang sama; goodput alokasi dual-stack adalah jumlah IPv4 dan IPv6 pada rentang itu."


def wire_note(report: dict) -> str:
    """NOTE_WIRE, and where goodput was read over the wire rate's window (the band holds goodput to it), that too."""
    return NOTE_WIRE + (" " + NOTE_WINDOW if (report.get("tolerance") or {}).get("goodput_wire_max") is not None else "")


NOTE_RTT = (
    "RTT: waktu pulang-pergi ping dari klien alokasi melalui gateway ke servernya, saat idle → saat unduhan alokasi itu jenuh; "
    "di lab (antrean pfifo) RTT saat beban memang naik (bufferbloat), di produksi fq_codel menjaganya tetap rendah."
)


def footnote(report: dict) -> list[str]:
    """The sentences under the table of results, in Bahasa Indonesia: units, the two rates, the pass band, the RTT."""
    lines = [
        "Angka dalam Mbit/s, di kabel (L2) / iperf3; terukur: satu alokasi sendiri (dual-stack: IPv4 dan IPv6 sekaligus, "
        "lalu tiap keluarga alamat sendiri); bersama: semua alokasi satu uplink sekaligus.",
        wire_note(report),
    ]
    if tolerance_text(report):
        lines.append(f"Lulus bila {tolerance_text(report)}.")
    lines.append(NOTE_RTT)
    return lines


def _percent(ratio: float) -> str:
    return rate(ratio * 100) + "%"


def counts_text(report: dict) -> str:
    """'2 lulus, 1 gagal, 1 tidak diukur' and, when there are any, ', 3 belum diterapkan'."""
    found = counts(report)
    text = f"{found['pass']} lulus, {found['fail']} gagal, {found['not_measured']} tidak diukur"
    if found["not_applied"]:
        text += f", {found['not_applied']} belum diterapkan"
    return text


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
