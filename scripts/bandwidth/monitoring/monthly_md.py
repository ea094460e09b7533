"""monitoring.md of the monthly report: the Laporan Monitoring Bandwidth Bulanan in Markdown (Bahasa Indonesia), short
enough for a job summary. Text from Prometheus' labels (agency, ids, gateways) goes through escape.markdown."""

from __future__ import annotations

from bandwidth.escape import markdown as md
from bandwidth.model import DIRECTIONS
from bandwidth.monitoring import monthly_stats as stats
from bandwidth.reports.monitoring_md import FORM_NAMES, MAX_LISTED, MAX_MARKDOWN, percent, rate
from bandwidth.reports.report_text import waktu
from bandwidth.textid import ARAH

CANDIDATE_HEADINGS = {"at_ceiling": "Kandidat penambahan", "underused": "Kandidat pengembalian"}


def hours(value: float | None) -> str:
    """2.5 -> '2,5 jam'."""
    return "-" if value is None else f"{value:g}".replace(".", ",") + " jam"


def period_line(report: dict) -> str:
    """'1-30 November 2026 (WITA, UTC+8), 21 hari kerja' and, for a month still running, up to when."""
    days = report["working_days"]
    text = f"{report['days']} hari, {len(days)} hari kerja (Senin-Jumat, pukul 08.00-16.00 WITA)"
    if not report["complete"]:
        text += f"; bulan berjalan, data sampai {waktu(report['ended'])}"
    return text


def rules(report: dict) -> dict[str, str]:
    """The rule of each group of candidates, in words."""
    t = report["thresholds"]
    return {
        "at_ceiling": f"paling sedikit {t['at_ceiling_days']} hari kerja dengan laju {percent(t['at_ceiling_percent'])} atau lebih dari maksimum "
        f"selama lebih dari {hours(t['at_ceiling_hours'])} dari {stats.WORKING_HOURS} jam kerja, pada salah satu arah",
        "underused": f"laju selalu di bawah {percent(t['underused_percent'])} dari jaminan sepanjang bulan, pada kedua arah",
    }


def candidate_groups(report: dict, escape=md) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """(key, heading, [(id, agency, reason)]) per group; id and agency escaped by `escape`. The reason is this tool's own
    sentence of numbers (monthly_stats), as it is: the caller escapes it for HTML."""
    by_id = {a["id"]: a for a in report["allocations"]}
    groups = []
    for key, heading in CANDIDATE_HEADINGS.items():
        listed = [(escape(i), escape(by_id[i]["agency"] or "-"), by_id[i]["reasons"][key]) for i in report["candidates"][key]]
        groups.append((key, f"{heading} ({rules(report)[key]})", listed))
    return groups


def notes(allocation: dict) -> str:
    flags = allocation["flags"]
    found = ["**kandidat penambahan**"] * flags["at_ceiling"] + ["kandidat pengembalian"] * flags["underused"] + ["data tidak lengkap"] * flags["incomplete"]
    return ", ".join(found) or "-"


def direction_cells(d: dict | None) -> list[str]:
    if d is None:
        return ["tidak ada data"] + ["-"] * 5
    return [
        f"{rate(d['max_kbit'])} / {rate(d['guaranteed_kbit'])}",
        rate(d["average_kbit"]),
        f"{rate(d['working_hours_peak_kbit'])} / {rate(d['working_hours_p95_kbit'])}",
        percent(d["peak_percent_of_max"]),
        hours(d["hours_at_max"]),
        str(d["days_at_max"]),
    ]


def render(report: dict) -> str:
    month = stats.month_name(report["month"])
    source = report["prometheus"]
    head = [f"## {report['title']} - {month}", ""]
    head += [
        f"Pemakaian bandwidth per alokasi selama {month} dari Prometheus: laju rata-rata tiap {source['step_seconds'] // 60} menit dihitung dari penghitung byte kelas HTB (tc) di setiap gateway.",
        "",
        f"Periode: {period_line(report)}.",
        "",
    ]
    for key, heading, listed in candidate_groups(report):
        names = ", ".join(f"{i} ({agency})" for i, agency, _ in listed[:MAX_LISTED])
        more = f" dan {len(listed) - MAX_LISTED} lainnya" if len(listed) > MAX_LISTED else ""
        head += [f"**{heading}:** {names + more if listed else 'tidak ada'}.", ""]
        if listed:
            head += [f"- {i} ({agency}): {reason}" for i, agency, reason in listed[:MAX_LISTED]] + [""]
        forms = report["candidates"].get("forms") or {}
        links = [f"- {md(i)}: [formulir {FORM_NAMES[key]}]({forms[i]})" for i in report["candidates"][key][:MAX_LISTED] if i in forms]
        if links:
            head += [f"Ajukan lewat formulir {FORM_NAMES[key]} (terisi otomatis):", "", *links, ""]

    table = ["### Per alokasi", ""]
    tail = [
        "Angka dalam Mbit/s (laju L2 yang dihitung tc, termasuk header Ethernet). Maks / jaminan: nilai terakhir bulan ini. "
        "Rata-rata: sepanjang bulan, seluruh jam. Puncak / P95: laju tertinggi dan persentil ke-95 pada jam kerja. "
        f"% maks: laju tertinggi terhadap maksimum. Jam pada maks: jumlah jam kerja dengan laju {percent(report['thresholds']['at_ceiling_percent'])} atau "
        "lebih dari maksimum; hari pada maks: hari kerja yang lebih dari separuh jam kerjanya demikian. Hari libur nasional dihitung sebagai hari kerja.",
        "",
        "Grafik harian dan rincian per hari: `monitoring.html`; data: `monitoring.json`.",
        "",
    ]
    if not report["allocations"]:
        return "\n".join(head + table + ["Tidak ada alokasi.", ""] + tail).rstrip("\n") + "\n"
    table += [
        "| ID | Pengguna Bandwidth | Gateway / Uplink | Arah | Maks / jaminan | Rata-rata | Puncak / P95 jam kerja | % maks | Jam pada maks | Hari pada maks | Catatan |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    rows = {a["id"]: _rows(a) for a in report["allocations"]}
    budget = MAX_MARKDOWN - sum(len(x) + 1 for x in head + table + tail) - 600
    chosen = set()
    for allocation in sorted(report["allocations"], key=lambda a: (not a["flags"]["at_ceiling"], not a["flags"]["underused"], a["id"])):
        cost = sum(len(row) + 1 for row in rows[allocation["id"]])
        if cost > budget:
            break
        budget -= cost
        chosen.add(allocation["id"])
    table += [row for a in report["allocations"] if a["id"] in chosen for row in rows[a["id"]]]
    table.append("")
    if len(chosen) < len(report["allocations"]):
        table += [f"... dan {len(report['allocations']) - len(chosen)} alokasi lain (lihat `monitoring.html`).", ""]
    return "\n".join(head + table + tail).rstrip("\n") + "\n"


def _rows(allocation: dict) -> list[str]:
    place = f"{md(allocation['gateway'] or '-')} / {md(allocation['uplink'] or '-')}"
    rows = []
    for name in DIRECTIONS:
        cells = [md(allocation["id"]), md(allocation["agency"] or "-"), place, ARAH[name], *direction_cells(allocation.get(name)), notes(allocation)]
        rows.append("| " + " | ".join(cells) + " |")
    return rows
