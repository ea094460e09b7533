"""monitoring.html: the Laporan Monitoring Bandwidth as one self-contained page with inline SVG charts.

Same rules as report.html: no scripts, fonts or external URLs, a Content-Security-Policy that loads nothing, and
every text through htmlpage.h (escaped, control characters visible, ':' as an entity).
"""

from __future__ import annotations

from bandwidth.htmlpage import CSS as REPORT_CSS
from bandwidth.htmlpage import h, page_start, short
from bandwidth.model import DIRECTIONS
from bandwidth.reports import monitoring_md as text
from bandwidth.reports.report_html import MAX_CHART_ALLOCATIONS, chart_end, legend, scaler, svg_chart
from bandwidth.reports.report_text import waktu
from bandwidth.textid import ARAH

WIDTH = 1120

CSS = (
    REPORT_CSS
    + """
svg .avg { fill: var(--alloc); } svg .avg.ceiling { fill: var(--fail); } svg .avg.idle { fill: var(--none); }
svg .peak { stroke: #000; stroke-width: 2; } svg .line { fill: none; stroke: var(--alloc); stroke-width: 1.6; }
svg .capacity { stroke: var(--fail); stroke-width: 1; stroke-dasharray: 4 3; } svg .axis { stroke: #9e9e9e; }
.cand { padding: 6px 12px; border-left: 6px solid var(--alloc); background: #e3f2fd; margin: 6px 0; }
.cand.up { border-color: var(--fail); background: #ffebee; } .cand.down { border-color: var(--none); background: #f5f5f5; }
td.flag { font-weight: bold; }
"""
)


def render(report: dict) -> str:
    allocations = report["allocations"]
    parts = [
        *page_start(f"Laporan Monitoring Bandwidth - {report['finished']}", CSS),
        "<h1>Laporan Monitoring Bandwidth</h1>",
        '<p class="sub">Pemerintah Provinsi Kalimantan Timur · Bidang Teknologi Informasi dan Komunikasi · pemakaian bandwidth per alokasi dari penghitung kelas HTB (tc)</p>',
        f'<p class="note">{h(text.SNAPSHOT_NOTE)}</p>',
        '<dl class="meta">',
        f"<dt>Pengamatan</dt><dd>{h(text.period_text(report))}</dd>",
        f"<dt>Gateway</dt><dd>{_gateway_names(report)}</dd>",
        f"<dt>Laporan dibuat</dt><dd>{h(waktu(report['finished']))}</dd>",
        "</dl>",
    ]
    for key, heading, names in text.candidates_lines(report, escape=h):
        css = "up" if key == "at_ceiling" else "down"
        parts.append(f'<p class="cand {css}"><strong>{h(heading)}:</strong> {names}.</p>')
    forms = report["candidates"].get("forms") or {}
    if forms:  # links we build (monitoring_forms): the agency's text in them is URL-encoded
        agencies = {a["id"]: a.get("agency") or "-" for a in report["allocations"]}
        items = [
            f'<li>{h(i)} ({h(agencies.get(i, "-"))}): <a href="{h(forms[i])}">formulir {h(name)}</a></li>'
            for key, name in text.FORM_NAMES.items()
            for i in report["candidates"][key][: text.MAX_LISTED]
            if i in forms
        ]  # as form_lines in the Markdown: grouped by form, the same ids
        parts.append(f"<p><strong>Ajukan lewat formulir (terisi otomatis):</strong></p><ul>{''.join(items)}</ul>")
    parts += [
        "<h2>Pemakaian per alokasi</h2>",
        allocation_chart(allocations, report["thresholds"]),
        '<p class="note">Setiap alokasi berskala sendiri (0 sampai maksimumnya); angka dalam Mbit/s. Batang abu-abu: maksimum yang dikonfigurasi; '
        "batang berwarna: rata-rata selama pengamatan (merah: kandidat penambahan, abu-abu: kandidat pengembalian); garis hitam: puncak; "
        "garis putus-putus: jaminan.</p>",
        "<h2>Pemakaian uplink dari waktu ke waktu</h2>",
        uplink_chart(report),
        '<p class="note">Laju seluruh lalu lintas uplink (kelas akar 1:1) per selang dua sampel; garis merah putus-putus: kapasitas uplink.</p>',
        "<h2>Rincian alokasi</h2>",
        allocation_table(allocations),
        "<h2>Rincian uplink</h2>",
        uplink_table(report),
    ]
    if report["resets"]:
        parts += ["<h2>Penghitung direset</h2>", reset_list(report["resets"])]
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _gateway_names(report: dict) -> str:
    names = [h(gateway["name"]) + h(" ({} sampel)".format(gateway["samples"])) for gateway in report["gateways"]]
    return ", ".join(names) or "-"


def allocation_chart(allocations: list[dict], thresholds: dict) -> str:
    """Per allocation and direction: max (grey), average (coloured by flag), peak (black line), guaranteed (dashed)."""
    bar_x, bar_w, value_x, row = 270, 470, 752, 24
    shown = sorted(allocations, key=lambda a: (not a["flags"]["at_ceiling"], not a["flags"]["underused"], a["id"]))[:MAX_CHART_ALLOCATIONS]
    shown.sort(key=lambda a: a["id"])
    legend_items = [("max", "maksimum"), ("avg", "rata-rata"), ("avg ceiling", "kandidat penambahan"), ("avg idle", "kandidat pengembalian"), ("peak", "puncak"), ("guaranteed", "jaminan")]
    body, y = [legend(legend_items)], 32
    for allocation in shown:
        flags = allocation["flags"]
        body.append(f"<g><title>{h(allocation['id'] + ' · ' + (allocation['agency'] or '-'))}</title>")
        body.append(f'<line class="rule" x1="0" y1="{y - 4}" x2="{WIDTH}" y2="{y - 4}"/>')
        body.append(f'<text class="id" x="8" y="{y + 14}">{h(allocation["id"])}</text>')
        body.append(f'<text class="small" x="8" y="{y + 30}">{short(allocation["agency"] or "-", 31)}</text>')
        body.append(f'<text class="small" x="8" y="{y + 44}">{short(text.notes(allocation).replace("**", ""), 31)}</text>')
        for i, name in enumerate(DIRECTIONS):
            top = y + i * row
            body.append(f'<text x="{bar_x - 8}" y="{top + 15}" text-anchor="end">{ARAH[name]}</text>')
            d = allocation.get(name)
            if d is None or not d["found"]:
                body.append(f'<text class="small" x="{bar_x}" y="{top + 15}">kelas tc tidak ditemukan</text>')
                continue
            x_of = scaler(bar_x, bar_w, max(d["max_kbit"], d["peak_kbit"] or 0, d["average_kbit"] or 0, 1) * 1.04)

            css = "avg"
            if (d["average_percent_of_max"] or 0) >= thresholds["at_ceiling_percent"]:
                css += " ceiling"
            elif flags["underused"]:
                css += " idle"
            body.append(f'<rect class="max" x="{bar_x}" y="{top + 2}" width="{x_of(d["max_kbit"]) - bar_x}" height="9"/>')
            body.append(f'<rect class="{css}" x="{bar_x}" y="{top + 12}" width="{x_of(d["average_kbit"] or 0) - bar_x}" height="9"/>')
            px = x_of(d["peak_kbit"] or 0)
            body.append(f'<line class="peak" x1="{px}" y1="{top + 10}" x2="{px}" y2="{top + 23}"/>')
            gx = x_of(d["guaranteed_kbit"])
            body.append(f'<line class="guaranteed" x1="{gx}" y1="{top}" x2="{gx}" y2="{top + 23}"/>')
            label = f"rata-rata {text.rate(d['average_kbit'])} · puncak {text.rate(d['peak_kbit'])} · maks {text.rate(d['max_kbit'])} · jaminan {text.rate(d['guaranteed_kbit'])}"
            body.append(f'<text class="small" x="{value_x}" y="{top + 15}">{h(label)}</text>')
        body.append("</g>")
        y += 2 * row + 28
    y = chart_end(body, y, len(shown), len(allocations))
    return svg_chart("chart-allocations", "Grafik: rata-rata dan puncak per alokasi terhadap maksimum dan jaminan", WIDTH, y + 4, body)


def uplink_chart(report: dict) -> str:
    """Per uplink and direction, the total rate over time against the capacity."""
    plot_x, plot_w, plot_h, gap = 300, 440, 60, 26
    body, y = [legend([("avg", "laju uplink"), ("capacity", "kapasitas")])], 30  # a filled swatch in the line's colour
    count = 0
    for gateway in report["gateways"]:
        times = gateway["times"]
        span = max(times[-1] - times[0], 1e-9) if times else 1
        for uplink in gateway["uplinks"]:
            for name in DIRECTIONS:
                u = uplink.get(name)
                if not u:
                    continue
                count += 1
                label = f"{gateway['name']} / {uplink['name']} · {ARAH[name]}"
                scale = max([u["capacity_kbit"], 1] + [r for r in u["series_kbit"] if r is not None]) * 1.05
                top = y + 4

                def y_of(kbit: float, scale=scale, top=top) -> float:
                    return round(top + plot_h - plot_h * kbit / scale, 1)

                body.append(f"<g><title>{h(label)}</title>")
                body.append(f'<text x="8" y="{top + 16}">{short(label, 40)}</text>')
                rates = "rata-rata {} · puncak {} Mbit/s".format(text.rate(u["average_kbit"]), text.rate(u["peak_kbit"]))
                body.append(f'<text class="small" x="8" y="{top + 32}">{h(rates)}</text>')
                body.append(f'<rect class="frame" x="{plot_x}" y="{top}" width="{plot_w}" height="{plot_h}"/>')
                cy = y_of(u["capacity_kbit"])
                body.append(f'<line class="capacity" x1="{plot_x}" y1="{cy}" x2="{plot_x + plot_w}" y2="{cy}"/>')
                points = []
                for i, value in enumerate(u["series_kbit"]):
                    if value is None:
                        continue
                    middle = (times[i] + times[i + 1]) / 2 - times[0]
                    points.append(f"{round(plot_x + plot_w * middle / span, 1)},{y_of(value)}")
                if points:
                    body.append(f'<polyline class="line" points="{" ".join(points)}"/>')
                share = f"{text.percent(u['average_percent_of_capacity'])} dari kapasitas {text.rate(u['capacity_kbit'])} Mbit/s"
                body.append(f'<text class="small" x="{plot_x + plot_w + 12}" y="{top + 16}">{h(share)}</text>')
                body.append(f'<text class="small" x="{plot_x + plot_w + 12}" y="{top + 32}">{h(f"0 - {text.lama(span)}")}</text>')
                body.append("</g>")
                y += plot_h + gap
    if not count:
        body.append(f'<text x="8" y="{y + 12}">Tidak ada uplink.</text>')
        y += 20
    return svg_chart("chart-uplinks", "Grafik: laju uplink dari waktu ke waktu", WIDTH, y + 4, body)


def allocation_table(allocations: list[dict]) -> str:
    if not allocations:
        return "<p>Tidak ada alokasi.</p>"
    head = (
        "<tr><th>ID</th><th>Pengguna Bandwidth</th><th>Gateway / Uplink</th><th>Arah</th><th>Jaminan / maks</th><th>Rata-rata</th><th>Puncak</th>"
        "<th>% jaminan</th><th>% maks</th><th>Byte</th><th>Paket</th><th>Drop</th><th>Overlimit</th><th>Catatan</th></tr>"
    )
    rows = []
    for a in allocations:
        for i, name in enumerate(DIRECTIONS):
            d = a.get(name)
            cells = ""
            if i == 0:
                cells += f'<td rowspan="2">{h(a["id"])}</td><td rowspan="2">{h(a["agency"] or "-")}</td><td rowspan="2">{h(a["gateway"])} / {h(a["uplink"])}</td>'
            cells += f"<td>{ARAH[name]}</td>"
            if d is None or not d["found"]:
                cells += '<td colspan="9">kelas tc tidak ditemukan</td>'
            else:
                numbers = [
                    f"{text.rate(d['guaranteed_kbit'])} / {text.rate(d['max_kbit'])}",
                    text.rate(d["average_kbit"]),
                    text.rate(d["peak_kbit"]),
                    text.percent(d["average_percent_of_guaranteed"]),
                    text.percent(d["average_percent_of_max"]),
                    text.count(d["bytes"]),
                    text.count(d["packets"]),
                    text.count(d["drops"]),
                    text.count(d["overlimits"]),
                ]
                cells += "".join(f'<td class="num">{h(n)}</td>' for n in numbers)
            if i == 0:
                cells += f'<td rowspan="2" class="flag">{h(text.notes(a).replace("**", ""))}</td>'
            rows.append(f"<tr>{cells}</tr>")
    note = '<p class="note">Laju dalam Mbit/s dari byte yang dilewatkan kelas tc (termasuk header Ethernet); byte, paket, drop dan overlimit: selama pengamatan.</p>'
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>{note}"


def uplink_table(report: dict) -> str:
    rows = []
    for gateway, uplink, name, u in text.uplink_directions(report):
        rates = [text.rate(u[k]) for k in ("capacity_kbit", "average_kbit", "peak_kbit")] + [text.percent(u["average_percent_of_capacity"])]
        rates += [text.rate(u[k]) for k in ("allocated_guaranteed_kbit", "allocations_average_kbit", "unclassified_average_kbit")]
        numbers = rates + [text.count(u[k]) for k in ("bytes", "packets", "drops", "overlimits")]
        cells = f"<td>{h(gateway)} / {h(uplink)}</td><td>{h(u['device'])}</td><td>{ARAH[name]}</td>"
        rows.append("<tr>" + cells + "".join(f'<td class="num">{h(n)}</td>' for n in numbers) + "</tr>")
    if not rows:
        return "<p>Tidak ada uplink.</p>"
    head = (
        "<tr><th>Gateway / Uplink</th><th>Perangkat</th><th>Arah</th><th>Kapasitas</th><th>Rata-rata</th><th>Puncak</th><th>% kapasitas</th>"
        "<th>Jaminan teralokasi</th><th>Rata-rata alokasi</th><th>Rata-rata tanpa alokasi</th><th>Byte</th><th>Paket</th><th>Drop</th><th>Overlimit</th></tr>"
    )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def reset_list(resets: list[dict]) -> str:
    items = []
    for reset in resets:
        who = f" ({h(reset['allocation'])})" if reset.get("allocation") else ""
        between = f"antara detik ke-{text.detik(reset['between'][0])} dan ke-{text.detik(reset['between'][1])}"
        items.append(f"<li>{h(reset['gateway'])} {h(reset['device'])} kelas {h(reset['classid'])}{who}: {h(between)}</li>")
    note = (
        '<p class="note">Kelas tc dibuat ulang selama pengamatan (penghitungnya turun). Selang itu dihitung dari nol: tidak ada laju negatif, dan byte sebelum kelas dibuat ulang tidak terhitung.</p>'
    )
    return f"{note}<ul>{''.join(items)}</ul>"
