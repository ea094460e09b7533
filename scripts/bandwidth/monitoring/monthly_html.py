"""monitoring.html of the monthly report: one self-contained page with inline SVG charts over the month.

The rules of every page of this tool (htmlpage): no scripts, fonts or external URLs, a Content-Security-Policy that
loads nothing, every text through htmlpage.h (escaped, control characters visible, ':' as an entity).
"""

from __future__ import annotations

import datetime as dt

from bandwidth.htmlpage import CSS as REPORT_CSS
from bandwidth.htmlpage import h, page_start, short
from bandwidth.model import DIRECTIONS
from bandwidth.monitoring import monthly_md as text
from bandwidth.monitoring import monthly_stats as stats
from bandwidth.reports.monitoring_md import FORM_NAMES, MAX_LISTED, percent, rate
from bandwidth.reports.report_html import MAX_CHART_ALLOCATIONS, chart_end, legend, svg_chart
from bandwidth.reports.report_text import waktu
from bandwidth.textid import ARAH, tanggal

WIDTH = 1120
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
DAYS_X, DAYS_W = 300, 520  # the daily peaks
HOURS_X, HOURS_W = 850, 240  # the hours at the maximum
PLOT_H, ROW_GAP, HEAD_H = 46, 12, 22

CSS = (
    REPORT_CSS
    + """
svg .weekend { fill: #f3f3f3; } svg .daypeak { fill: var(--alloc); opacity: 0.45; } svg .dayp95 { fill: var(--alloc); }
svg .atmax { fill: var(--fail); } svg .capacity { stroke: var(--fail); stroke-width: 1.2; stroke-dasharray: 4 3; }
svg .half { stroke: #616161; stroke-width: 1; stroke-dasharray: 2 2; }
.cand { padding: 6px 12px; border-left: 6px solid var(--alloc); background: #e3f2fd; margin: 6px 0; }
.cand.up { border-color: var(--fail); background: #ffebee; } .cand.down { border-color: var(--none); background: #f5f5f5; }
.cand ul { margin: 4px 0; } td.flag { font-weight: bold; } details { margin: 4px 0; } summary { cursor: pointer; }
"""
)


def render(report: dict) -> str:
    month = stats.month_name(report["month"])
    source = report["prometheus"]
    parts = [
        *page_start(f"{report['title']} - {month}", CSS),
        f"<h1>{h(report['title'])}</h1>",
        f'<p class="sub">Pemerintah Provinsi Kalimantan Timur · Bidang Teknologi Informasi dan Komunikasi · pemakaian bandwidth per alokasi selama {h(month)}, dari Prometheus</p>',
        '<dl class="meta">',
        f"<dt>Bulan</dt><dd>{h(month)}</dd>",
        f"<dt>Periode</dt><dd>{h(text.period_line(report))}</dd>",
        f"<dt>Sumber</dt><dd>Prometheus {h(source['url'])}, laju rata-rata tiap {source['step_seconds'] // 60} menit ({source['queries']} kueri)</dd>",
        f"<dt>Laporan dibuat</dt><dd>{h(waktu(report['finished']))}</dd>",
        "</dl>",
    ]
    forms = report["candidates"].get("forms") or {}
    for key, heading, listed in text.candidate_groups(report, escape=h):
        css = "up" if key == "at_ceiling" else "down"
        if not listed:
            parts.append(f'<p class="cand {css}"><strong>{h(heading)}:</strong> tidak ada.</p>')
            continue
        ids = report["candidates"][key][:MAX_LISTED]
        items = []
        for plain_id, (i, agency, reason) in zip(ids, listed, strict=False):
            link = f' <a href="{h(forms[plain_id])}">formulir {h(FORM_NAMES[key])}</a>' if plain_id in forms else ""
            items.append(f"<li><strong>{i}</strong> ({agency}): {h(reason)}{link}</li>")
        more = f"<p>... dan {len(listed) - MAX_LISTED} lainnya (lihat tabel).</p>" if len(listed) > MAX_LISTED else ""
        parts.append(f'<div class="cand {css}"><strong>{h(heading)}:</strong><ul>{"".join(items)}</ul>{more}</div>')
    parts += [
        "<h2>Pemakaian harian pada jam kerja</h2>",
        month_chart(report),
        '<p class="note">Setiap alokasi dan arah berskala sendiri; angka dalam Mbit/s. Kiri, per hari kerja: batang pucat puncak laju pada jam kerja '
        "(08.00-16.00 WITA), batang tua persentil ke-95; garis merah putus-putus: maksimum; garis hitam putus-putus: jaminan; kolom abu-abu: Sabtu dan Minggu. "
        f"Kanan: jam kerja dengan laju {h(percent(report['thresholds']['at_ceiling_percent']))} atau lebih dari maksimum (0-8 jam; garis: separuh jam kerja).</p>",
        "<h2>Ringkasan per alokasi</h2>",
        summary_table(report),
        "<h2>Rincian per hari kerja</h2>",
        *day_tables(report),
        "<h2>Cara menghitung</h2>",
        method(report),
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _slots(report: dict) -> list[dt.date]:
    first = dt.date.fromisoformat(report["month"] + "-01")
    return [first + dt.timedelta(days=i) for i in range(report["days"])]


def month_chart(report: dict) -> str:
    """Per allocation and direction, over the month: the daily peak and p95 in working hours, and the hours at the maximum."""
    allocations = report["allocations"]
    shown = sorted(allocations, key=lambda a: (not a["flags"]["at_ceiling"], not a["flags"]["underused"], a["id"]))[:MAX_CHART_ALLOCATIONS]
    shown.sort(key=lambda a: a["id"])
    slots = _slots(report)
    legend_items = [("daypeak", "puncak harian"), ("dayp95", "persentil ke-95 harian"), ("capacity", "maksimum"), ("guaranteed", "jaminan"), ("atmax", "jam pada maksimum")]
    body, y = [legend(legend_items)], 30
    for x0, w in ((DAYS_X, DAYS_W), (HOURS_X, HOURS_W)):  # the dates under the legend
        for day in slots:
            if day.day in (1, 8, 15, 22, 29):
                body.append(f'<text class="small" x="{round(x0 + w * (day.day - 0.5) / len(slots), 1)}" y="{y + 10}" text-anchor="middle">{day.day}</text>')
    body.append(f'<text class="small" x="{DAYS_X - 8}" y="{y + 10}" text-anchor="end">tanggal</text>')
    y += 18
    for allocation in shown:
        label = f"{allocation['id']} · {allocation['agency'] or '-'}"
        body.append(f"<g><title>{h(label)}</title>")
        body.append(f'<line class="rule" x1="0" y1="{y}" x2="{WIDTH}" y2="{y}"/>')
        body.append(f'<text class="id" x="8" y="{y + 16}">{h(allocation["id"])}</text>')
        body.append(f'<text class="small" x="120" y="{y + 16}">{short(allocation["agency"] or "-", 60)}</text>')
        body.append(f'<text class="small" x="{DAYS_X + DAYS_W}" y="{y + 16}" text-anchor="end">{short(text.notes(allocation).replace("**", ""), 60)}</text>')
        top = y + HEAD_H
        for name in DIRECTIONS:
            body += _direction_row(allocation.get(name), name, slots, top)
            top += PLOT_H + ROW_GAP
        body.append("</g>")
        y = top
    y = chart_end(body, y, len(shown), len(allocations))
    return svg_chart("chart-month", "Grafik: puncak dan persentil ke-95 harian pada jam kerja, dan jam pada maksimum, per alokasi", WIDTH, y + 4, body)


def _direction_row(d: dict | None, name: str, slots: list[dt.date], top: float) -> list[str]:
    out = [f'<text x="8" y="{top + 14}">{ARAH[name]}</text>']
    if d is None:
        out.append(f'<text class="small" x="{DAYS_X}" y="{top + 14}">tidak ada data</text>')
        return out
    figures = f"maks {rate(d['max_kbit'])} · jaminan {rate(d['guaranteed_kbit'])} · puncak {rate(d['working_hours_peak_kbit'])}"
    out.append(f'<text class="small" x="8" y="{top + 30}">{h(figures)}</text>')
    at_max = f"{d['days_at_max']} hari pada maksimum · {text.hours(d['hours_at_max'])}"
    out.append(f'<text class="small" x="8" y="{top + 44}">{h(at_max)}</text>')
    slot_w, hour_w = DAYS_W / len(slots), HOURS_W / len(slots)
    peaks = [day["peak_kbit"] or 0 for day in d["days"]]
    scale = max([d["max_kbit"] or 0, d["guaranteed_kbit"] or 0, 1, *peaks]) * 1.05
    by_date = {day["date"]: day for day in d["days"]}

    def y_of(kbit: float) -> float:
        return round(top + PLOT_H - PLOT_H * min(kbit, scale) / scale, 1)

    for i, day in enumerate(slots):
        if day.weekday() >= 5:
            out.append(f'<rect class="weekend" x="{round(DAYS_X + i * slot_w, 1)}" y="{top}" width="{round(slot_w, 1)}" height="{PLOT_H}"/>')
            out.append(f'<rect class="weekend" x="{round(HOURS_X + i * hour_w, 1)}" y="{top}" width="{round(hour_w, 1)}" height="{PLOT_H}"/>')
            continue
        found = by_date.get(day.isoformat())
        if not found or found["peak_kbit"] is None:
            continue
        x = DAYS_X + i * slot_w
        for css, value, inset in (("daypeak", found["peak_kbit"], 0.12), ("dayp95", found["p95_kbit"], 0.3)):
            top_y = y_of(value)
            out.append(f'<rect class="{css}" x="{round(x + slot_w * inset, 1)}" y="{top_y}" width="{round(slot_w * (1 - 2 * inset), 1)}" height="{round(top + PLOT_H - top_y, 1)}"/>')
        if found["hours_at_max"]:
            bar = round(PLOT_H * min(found["hours_at_max"], stats.WORKING_HOURS) / stats.WORKING_HOURS, 1)
            out.append(f'<rect class="atmax" x="{round(HOURS_X + i * hour_w + hour_w * 0.15, 1)}" y="{round(top + PLOT_H - bar, 1)}" width="{round(hour_w * 0.7, 1)}" height="{bar}"/>')
    for css, value in (("capacity", d["max_kbit"]), ("guaranteed", d["guaranteed_kbit"])):
        if value:
            line_y = y_of(value)
            out.append(f'<line class="{css}" x1="{DAYS_X}" y1="{line_y}" x2="{DAYS_X + DAYS_W}" y2="{line_y}"/>')
    half = round(top + PLOT_H / 2, 1)
    out.append(f'<line class="half" x1="{HOURS_X}" y1="{half}" x2="{HOURS_X + HOURS_W}" y2="{half}"/>')
    out.append(f'<rect class="frame" x="{DAYS_X}" y="{top}" width="{DAYS_W}" height="{PLOT_H}"/>')
    out.append(f'<rect class="frame" x="{HOURS_X}" y="{top}" width="{HOURS_W}" height="{PLOT_H}"/>')
    return out


def summary_table(report: dict) -> str:
    if not report["allocations"]:
        return "<p>Tidak ada alokasi.</p>"
    head = (
        "<tr><th>ID</th><th>Pengguna Bandwidth</th><th>Gateway / Uplink</th><th>Arah</th><th>Maks / jaminan</th><th>Rata-rata</th><th>Puncak</th>"
        "<th>Rata-rata jam kerja</th><th>Puncak / P95 jam kerja</th><th>% maks (puncak)</th><th>% jaminan (puncak)</th><th>Jam pada maks</th>"
        "<th>Hari pada maks</th><th>Data</th><th>Catatan</th></tr>"
    )
    rows = []
    for a in report["allocations"]:
        for i, name in enumerate(DIRECTIONS):
            d = a.get(name)
            cells = ""
            if i == 0:
                cells += f'<td rowspan="2">{h(a["id"])}</td><td rowspan="2">{h(a["agency"] or "-")}</td><td rowspan="2">{h(a["gateway"] or "-")} / {h(a["uplink"] or "-")}</td>'
            cells += f"<td>{ARAH[name]}</td>"
            if d is None:
                cells += '<td colspan="10">tidak ada data</td>'
            else:
                numbers = [
                    f"{rate(d['max_kbit'])} / {rate(d['guaranteed_kbit'])}",
                    rate(d["average_kbit"]),
                    rate(d["peak_kbit"]),
                    rate(d["working_hours_average_kbit"]),
                    f"{rate(d['working_hours_peak_kbit'])} / {rate(d['working_hours_p95_kbit'])}",
                    percent(d["peak_percent_of_max"]),
                    percent(d["peak_percent_of_guaranteed"]),
                    text.hours(d["hours_at_max"]),
                    str(d["days_at_max"]),
                    percent(d["coverage_percent"]),
                ]
                cells += "".join(f'<td class="num">{h(n)}</td>' for n in numbers)
            if i == 0:
                cells += f'<td rowspan="2" class="flag">{h(text.notes(a).replace("**", ""))}</td>'
            rows.append(f"<tr>{cells}</tr>")
    note = (
        '<p class="note">Laju dalam Mbit/s (L2, seperti dihitung tc). Maks / jaminan: nilai terakhir bulan ini. % maks dan % jaminan: laju tertinggi '
        "terhadap maksimum dan jaminan yang berlaku saat itu. Data: bagian titik bulan ini yang ada datanya.</p>"
    )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>{note}"


def day_tables(report: dict) -> list[str]:
    """Per allocation, one collapsed table of its working days."""
    out = []
    for a in report["allocations"]:
        directions = [(name, a.get(name)) for name in DIRECTIONS]
        head = "<tr><th>Tanggal</th>" + "".join(f"<th>{ARAH[name]}: puncak / P95</th><th>{ARAH[name]}: rata-rata</th><th>{ARAH[name]}: jam pada maks</th>" for name, _ in directions) + "</tr>"
        by_date = {name: {day["date"]: day for day in (d or {}).get("days", [])} for name, d in directions}
        rows = []
        for iso in report["working_days"]:
            day = dt.date.fromisoformat(iso)
            cells = f"<td>{h(HARI[day.weekday()] + ', ' + tanggal(day))}</td>"
            for name, _ in directions:
                found = by_date[name].get(iso)
                if not found or found["peak_kbit"] is None:
                    cells += '<td colspan="3">tidak ada data</td>'
                    continue
                cells += f'<td class="num">{h(rate(found["peak_kbit"]) + " / " + rate(found["p95_kbit"]))}</td><td class="num">{h(rate(found["average_kbit"]))}</td>'
                cells += f'<td class="num">{h(text.hours(found["hours_at_max"]))}</td>'
            rows.append(f"<tr>{cells}</tr>")
        summary = f"{h(a['id'])} · {h(a['agency'] or '-')}" + (f" · <strong>{h(text.notes(a).replace('**', ''))}</strong>" if text.notes(a) != "-" else "")
        out.append(f"<details><summary>{summary}</summary><table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></details>")
    return out or ["<p>Tidak ada alokasi.</p>"]


def method(report: dict) -> str:
    source = report["prometheus"]
    t = report["thresholds"]
    lines = [
        f"Laju dihitung Prometheus dari penghitung byte kelas HTB (rate() dengan jendela {h(source['rate_window'])}), satu titik tiap "
        f"{source['step_seconds'] // 60} menit; tiap titik mewakili selang sebelum waktunya. Jam kerja: Senin-Jumat pukul 08.00-16.00 WITA "
        "(hari libur nasional tidak dikecualikan).",
        f"Kandidat penambahan: {h(text.rules(report)['at_ceiling'])}. Kandidat pengembalian: {h(text.rules(report)['underused'])}, dengan data pada setiap hari.",
        f"Ambang: {h(percent(t['at_ceiling_percent']))} dari maksimum, {t['at_ceiling_days']} hari kerja, {h(percent(t['underused_percent']))} dari jaminan.",
    ]
    queries = "".join(f"<li><code>{h(expression)}</code></li>" for expression in source["expressions"].values())
    warnings = "".join(f"<li>{h(w)}</li>" for w in source.get("warnings") or [])
    return "".join(f"<p>{line}</p>" for line in lines) + f"<p>Kueri ke Prometheus:</p><ul>{queries}</ul>" + (f"<p>Peringatan Prometheus:</p><ul>{warnings}</ul>" if warnings else "")
