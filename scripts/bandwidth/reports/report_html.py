"""report.html: one self-contained, printable page with inline SVG charts (no scripts, no fonts, no external URL).

Every text from the report goes through `h`: escape.html_text, and ':' as an entity, so that not even a request's text
puts a URL (http://...) into the file. A Content-Security-Policy forbids loading anything.
"""

from __future__ import annotations

from bandwidth.htmlpage import h, page_start, short
from bandwidth.reports import report_data, report_text
from bandwidth.textid import ARAH

MAX_CHART_ALLOCATIONS = 300


def render(report: dict) -> str:
    allocations = report_text.by_id(report["allocations"])
    good = report_data.ok(report)
    state = "" if good and not report_data.counts(report)["not_measured"] else " partial" if good else " bad"
    parts = [
        *page_start(f"Laporan Penyelesaian Tugas Penyediaan Bandwidth - {report['commit'][:7]}"),
        "<h1>Laporan Penyelesaian Tugas Penyediaan Bandwidth</h1>",
        '<p class="sub">Pemerintah Provinsi Kalimantan Timur · Bidang Teknologi Informasi dan Komunikasi · SOP Penyediaan Bandwidth langkah 8-10</p>',
        '<dl class="meta">',
        f"<dt>Commit</dt><dd><code>{h(report['commit'])}</code></dd>",
    ]
    if report.get("mode") in report_data.MODE:
        parts.append(f"<dt>Lingkungan</dt><dd>{h(report_data.MODE[report['mode']])}</dd>")
    parts += [f"<dt>Waktu mulai</dt><dd>{h(report_text.waktu(report['started']))}</dd>", f"<dt>Waktu selesai</dt><dd>{h(report_text.waktu(report['finished']))}</dd>"]
    if report_text.tolerance_text(report):
        parts.append(f"<dt>Syarat lulus</dt><dd>{h(report_text.tolerance_text(report))}</dd>")
    parts += [
        "</dl>",
        f'<p class="result{state}">Hasil: {h(report_text.result_text(report))}. ({h(report_text.counts_text(report))}; {len(report["drift"])} drift)</p>',
    ]
    if report_text.emergency_text(report):
        parts.append(f'<p class="result fail">{h(report_text.emergency_text(report))}</p>')
    if report_data.not_applied(report):
        parts += ["<h2>Konfigurasi belum diterapkan</h2>", not_applied_table(report)]
    changed = [a for a in allocations if a.get("changed") and report_text.change_rows(a)]
    if changed:
        parts += ["<h2>Perubahan alokasi</h2>", change_table(changed)]
    if report.get("removed"):
        rows = [f"<tr><td>{h(r['id'])}</td><td>{h(r.get('agency') or '-')}</td><td>{h(report_text.removed_text(r))}</td></tr>" for r in report["removed"]]
        parts += ["<h2>Alokasi dicabut</h2>", f"<table><thead><tr><th>ID</th><th>Pengguna Bandwidth</th><th>Keterangan</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"]
    parts += [
        "<h2>Hasil pengukuran per alokasi</h2>",
        allocation_chart(allocations),
        '<p class="note">Setiap alokasi berskala sendiri (0 sampai nilai terbesarnya); angka dalam Mbit/s. Batang abu-abu: maksimum yang dikonfigurasi; '
        "batang berwarna: laju di kabel (L2) saat alokasi sendiri, yang dinilai (hijau lulus, merah gagal, oranye belum diterapkan); batang tipis pucat di bawahnya: "
        "goodput iperf3; garis putus-putus: jaminan; lingkaran: saat semua alokasi satu uplink dipakai bersamaan (besar: di kabel, kecil: iperf3). "
        "Alokasi dual-stack: angka tiap keluarga alamat (IPv4, IPv6) sendiri di baris teks ketiga.</p>",
        "<h2>Pemakaian kapasitas uplink</h2>",
        uplink_chart(report),
        '<p class="note">Setiap batang adalah kapasitas uplink (100%): jumlah jaminan yang teralokasi, cadangan, dan sisa yang masih dapat dialokasikan.</p>',
        "<h2>Rincian alokasi</h2>",
        allocation_table(report, allocations),
    ]
    if report["drift"]:
        parts += ["<h2>Konfigurasi menyimpang (drift)</h2>", drift_table(report["drift"])]
    parts += ["<h2>Perubahan pada gateway</h2>", gateway_list(report), "</body>", "</html>", ""]
    return "\n".join(parts)


def legend(items: list[tuple[str, str]], y: int = 14) -> str:
    out, x = [], 8
    for css, label in items:
        if css in ("guaranteed", "peak", "capacity"):  # marks drawn as lines get a line as their swatch
            out.append(f'<line class="{css}" x1="{x + 6}" y1="{y - 10}" x2="{x + 6}" y2="{y + 2}"/>')
        elif css in ("contention", "contention-goodput"):
            out.append(f'<circle class="{css}" cx="{x + 6}" cy="{y - 4}" r="{4 if css == "contention" else 3}"/>')
        else:
            out.append(f'<rect class="{css}" x="{x}" y="{y - 10}" width="12" height="12"/>')
        out.append(f'<text x="{x + 17}" y="{y}">{h(label)}</text>')
        x += 30 + round(7.6 * len(label))
    return "".join(out)


def allocation_chart(allocations: list[dict]) -> str:
    """Per allocation and direction: configured max (grey), the wire rate (colour by verdict) and goodput (pale), guaranteed and together marked."""
    width, bar_x, bar_w, value_x = 1120, 270, 470, 752
    shown = sorted(allocations, key=lambda a: (a["verdict"] not in ("fail", "not_applied"), not a.get("changed"), a["id"]))[:MAX_CHART_ALLOCATIONS]
    shown = report_text.by_id(shown)
    bars = [
        ("max", "maksimum"), ("pass", "di kabel (L2), lulus"), ("fail", "di kabel, gagal"), ("not_applied", "di kabel, belum diterapkan"),
        ("pass goodput", "iperf3 (goodput)"),
    ]  # fmt: skip
    marks = [("guaranteed", "jaminan"), ("contention", "bersama, di kabel"), ("contention-goodput", "bersama, iperf3"), ("not_measured", "tidak diukur")]
    body, y = [legend(bars), legend(marks, 32)], 50
    for allocation in shown:
        row = 40 if report_text.dual_stack(allocation) else 30
        directions = [allocation[d] for d in report_data.DIRECTIONS]
        keys = ("max_mbps", "guaranteed_mbps", "measured_mbps", "contention_mbps", "wire_mbps", "contention_wire_mbps")
        values = [v for d in directions for v in [d.get(k) for k in keys] + _family_values(d) if v is not None]
        scale = max(values + [0.001]) * 1.04
        verdict = allocation["verdict"]
        reason = allocation.get("not_measured_reason")
        title = f"{allocation['id']} · {allocation.get('agency', '')} · {report_data.VERDICT[verdict]}" + (f" · {reason}" if reason else "")
        body.append(f"<g><title>{h(title)}</title>")
        body.append(f'<line class="rule" x1="0" y1="{y - 4}" x2="{width}" y2="{y - 4}"/>')
        body.append(f'<text class="id" x="8" y="{y + 14}">{h(allocation["id"])}{" (diubah)" if allocation.get("changed") else ""}</text>')
        body.append(f'<text class="small" x="8" y="{y + 30}">{short(allocation.get("agency", ""), 31)}</text>')
        body.append(f'<text class="small v-{verdict}" x="8" y="{y + 44}">{h(report_data.VERDICT[verdict])}</text>')
        if report_text.rtt_text(allocation) != "-":
            body.append(f'<text class="small" x="8" y="{y + 58}">{h("RTT " + report_text.rtt_text(allocation) + " ms")}</text>')
        for i, (name, direction) in enumerate(zip(report_data.DIRECTIONS, directions, strict=True)):
            top = y + i * row
            x_of = scaler(bar_x, bar_w, scale)
            body.append(f'<text x="{bar_x - 8}" y="{top + 15}" text-anchor="end">{ARAH[name]}</text>')
            body.append(f'<rect class="max" x="{bar_x}" y="{top + 2}" width="{x_of(direction["max_mbps"]) - bar_x}" height="8"/>')
            wire, got = direction.get("wire_mbps"), direction.get("measured_mbps")
            together_wire, together = direction.get("contention_wire_mbps"), direction.get("contention_mbps")
            if wire is not None:
                body.append(f'<rect class="{verdict}" x="{bar_x}" y="{top + 11}" width="{x_of(wire) - bar_x}" height="8"/>')
            if got is not None:
                body.append(f'<rect class="{verdict} goodput" x="{bar_x}" y="{top + 20}" width="{x_of(got) - bar_x}" height="5"/>')
            if together_wire is not None:
                body.append(f'<circle class="contention" cx="{x_of(together_wire)}" cy="{top + 15}" r="4"/>')
            if together is not None:
                body.append(f'<circle class="contention-goodput" cx="{x_of(together)}" cy="{top + 22.5}" r="3"/>')
            gx = x_of(direction["guaranteed_mbps"])
            body.append(f'<line class="guaranteed" x1="{gx}" y1="{top}" x2="{gx}" y2="{top + 27}"/>')
            for j, text in enumerate(_chart_lines(allocation, direction, reason)):
                body.append(f'<text class="small" x="{value_x}" y="{top + 10 + 11 * j}">{short(text, 62)}</text>')
        body.append("</g>")
        y += 2 * row + 28
    y = chart_end(body, y, len(shown), len(allocations))
    return svg_chart("chart-allocations", "Grafik: maksimum dikonfigurasi, laju di kabel dan goodput per alokasi", width, y + 4, body)


def _family_values(direction: dict) -> list[float | None]:
    return [f.get(k) for f in (direction.get("by_family") or {}).values() for k in ("measured_mbps", "wire_mbps")]


def chart_end(body: list[str], y: int, shown: int, total: int) -> int:
    """The line under an allocation chart that says what it leaves out; returns the new bottom."""
    if shown < total:
        body.append(f'<text x="8" y="{y + 12}">... dan {total - shown} alokasi lain: lihat tabel rincian.</text>')
        y += 20
    if not total:
        body.append(f'<text x="8" y="{y + 12}">Tidak ada alokasi.</text>')
        y += 20
    return y


def scaler(x0: int, w: int, scale: float):
    def x_of(value: float) -> float:
        return round(x0 + w * min(value, scale) / scale, 1)

    return x_of


def uplink_chart(report: dict) -> str:
    """Per uplink and direction, a stacked bar of its capacity: allocated guaranteed, reserve, free."""
    width, bar_x, bar_w, value_x, row = 1120, 300, 440, 752, 30
    legend_items = [("alloc", "jaminan teralokasi"), ("reserve", "cadangan"), ("free", "sisa"), ("over", "melebihi kapasitas")]
    body, y = [legend(legend_items)], 30
    sums: dict[tuple[str, str, str], float] = {}
    for allocation in report["allocations"]:
        for name in report_data.DIRECTIONS:
            key = (allocation["gateway"], allocation["uplink"], name)
            sums[key] = sums.get(key, 0) + allocation[name]["guaranteed_mbps"]
    count = 0
    for gateway in sorted(report["gateways"], key=lambda g: g["name"]):
        for uplink in gateway["uplinks"]:
            for name in report_data.DIRECTIONS:
                capacity = uplink[f"{name}_mbps"]
                reserve = capacity * uplink.get("reserve_percent", 0) / 100
                allocated = (uplink.get("allocated") or {}).get(f"{name}_mbps")
                if allocated is None:
                    allocated = sums.get((gateway["name"], uplink["name"], name), 0)
                free = capacity - reserve - allocated
                scale = max(capacity, allocated + reserve, 0.001)
                label = f"{gateway['name']} / {uplink['name']} · {ARAH[name]} {report_text.rate(capacity)} Mbit/s"
                body.append(f"<g><title>{h(label)}</title>")
                body.append(f'<text x="8" y="{y + 15}">{short(label, 44)}</text>')
                x = float(bar_x)
                for css, value in (("alloc", allocated), ("reserve", reserve), ("free", max(free, 0))):
                    w = round(bar_w * value / scale, 1)
                    if w > 0:
                        body.append(f'<rect class="{css}" x="{round(x, 1)}" y="{y + 2}" width="{w}" height="18"/>')
                    x += w
                body.append(f'<rect class="frame" x="{bar_x}" y="{y + 2}" width="{round(bar_w * capacity / scale, 1)}" height="18"/>')
                if free < 0:
                    over_x = round(bar_x + bar_w * capacity / scale, 1)
                    body.append(f'<rect class="over" x="{over_x}" y="{y + 8}" width="{round(bar_x + bar_w - over_x, 1)}" height="6"/>')
                percent = 100 * allocated / capacity if capacity else 0
                text = f"teralokasi {report_text.rate(allocated)} ({report_text.rate(round(percent, 1))}%) · cadangan {report_text.rate(reserve)} · sisa {report_text.rate(free)}"
                body.append(f'<text class="small{" v-fail" if free < 0 else ""}" x="{value_x}" y="{y + 15}">{h(text)}</text>')
                body.append("</g>")
                y += row
                count += 1
    if not count:
        body.append(f'<text x="8" y="{y + 12}">Tidak ada uplink.</text>')
        y += 20
    return svg_chart("chart-uplinks", "Grafik: pemakaian kapasitas per uplink dan arah", width, y + 4, body)


def svg_chart(ident: str, title: str, width: int, height: float, body: list[str]) -> str:
    height = round(height)
    head = f'<svg id="{ident}" class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-labelledby="{ident}-title">'
    return head + f'<title id="{ident}-title">{h(title)}</title>' + "".join(body) + "</svg>"


def _chart_lines(allocation: dict, direction: dict, reason: str) -> list[str]:
    """The figures beside an allocation's bars: configured and alone, together, each family, the first of those measured again."""
    wire, got = direction.get("wire_mbps"), direction.get("measured_mbps")
    together_wire, together = direction.get("contention_wire_mbps"), direction.get("contention_mbps")
    lines = [f"maks {report_text.rate(direction['max_mbps'])} · jaminan {report_text.rate(direction['guaranteed_mbps'])} · L2 {report_text.rate(wire)} · iperf3 {report_text.rate(got)}"]
    if together_wire is not None or together is not None:
        lines.append(f"bersama: L2 {report_text.rate(together_wire)} · iperf3 {report_text.rate(together)}")
    elif wire is None and got is None and reason:
        lines.append(f"tidak diukur: {reason}")
    families = report_text.per_family(allocation, direction)
    if families:
        lines.append(" · ".join(families) + " (L2 / iperf3)")
    again = report_text.first_figures(allocation, direction)
    return lines + ([again] if again else [])


def allocation_table(report: dict, allocations: list[dict]) -> str:
    if not allocations:
        return "<p>Tidak ada alokasi.</p>"
    head = (
        "<tr><th>ID</th><th>Pengguna Bandwidth</th><th>Surat Permohonan</th><th>Gateway / Uplink</th><th>Subnet</th>"
        "<th>Unduh jaminan / maks</th><th>Unduh di kabel (L2) / iperf3</th><th>Unggah jaminan / maks</th><th>Unggah di kabel (L2) / iperf3</th>"
        "<th>RTT idle → beban (ms)</th><th>Prioritas</th><th>Periode</th><th>Hasil</th></tr>"
    )
    rows = []
    for a in allocations:
        letter = a.get("letter") or {}
        contact = a.get("contact") or {}
        agency = h(a.get("agency", "-"))
        if a.get("purpose"):
            agency += f"<br><small>Keperluan: {h(a['purpose'])}</small>"
        if contact.get("name"):
            agency += f"<br><small>Kontak: {h(contact['name'])}</small>"
        reason = f'<br><small class="reason">{h(a["not_measured_reason"])}</small>' if a.get("not_measured_reason") else ""
        rows.append(
            "<tr>"
            f"<td>{h(a['id'])}{'<br><small>diubah</small>' if a.get('changed') else ''}</td><td>{agency}</td>"
            f"<td>{h(letter.get('number', '-'))}<br><small>{h(report_text.letter_date(a))}</small></td>"
            f"<td>{h(a['gateway'])} / {h(a['uplink'])}</td><td>{'<br>'.join(h(s) for s in a.get('subnets') or []) or '-'}</td>"
            f'<td class="num">{h(report_text.configured(a["download"]))}</td><td class="num">{figures(a, a["download"])}</td>'
            f'<td class="num">{h(report_text.configured(a["upload"]))}</td><td class="num">{figures(a, a["upload"])}</td>'
            f'<td class="rtt">{h(report_text.rtt_text(a))}</td>'
            f'<td class="num">{h(a.get("priority", "-"))}</td><td>{h(report_text.periode_text(a))}</td>'
            f'<td class="v-{a["verdict"]}">{h(report_data.VERDICT[a["verdict"]])}{reason}</td>'
            "</tr>"
        )
    notes = "".join(f'<p class="note">{h(line)}</p>' for line in report_text.footnote(report))
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>{notes}"


def figures(allocation: dict, direction: dict) -> str:
    """A direction's figures for a table cell, a line each: wire / goodput alone, together, and per family for a dual-stack allocation."""
    lines = [report_text.pair(direction.get("wire_mbps"), direction.get("measured_mbps"))]
    if direction.get("contention_wire_mbps") is not None or direction.get("contention_mbps") is not None:
        lines.append(f"bersama {report_text.pair(direction.get('contention_wire_mbps'), direction.get('contention_mbps'))}")
    again = report_text.first_figures(allocation, direction)
    return "<br>".join(h(line) for line in lines + report_text.per_family(allocation, direction) + ([again] if again else []))


def change_table(changed: list[dict]) -> str:
    """Each field an existing allocation's change touched, before and after."""
    rows = []
    for allocation in changed:
        for what, old, new in report_text.change_rows(allocation):
            rows.append(f"<tr><td>{h(allocation['id'])}</td><td>{h(allocation.get('agency', '-'))}</td><td>{h(what)}</td><td>{h(old)}</td><td>{h(new)}</td></tr>")
    return f"<table><thead><tr><th>ID</th><th>Pengguna Bandwidth</th><th>Rincian</th><th>Semula</th><th>Menjadi</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"


def not_applied_table(report: dict) -> str:
    """The gateways the last apply did not configure, with the apply's error (whole, line by line, escaped)."""
    rows = []
    for gateway in report_data.not_applied(report):
        count = sum(1 for a in report["allocations"] if a["gateway"] == gateway["name"])
        reason = "\n".join(h(line) for line in report_text.reason_text(gateway).splitlines())
        rows.append(f'<tr><td>{h(gateway["name"])}</td><td class="num">{count}</td><td><pre>{reason}</pre></td></tr>')
    note = '<p class="note">Alokasi pada gateway ini dinilai &quot;Belum diterapkan&quot;, berapa pun hasil pengukurannya, sampai penerapan berikutnya berhasil.</p>'
    return f"<table><thead><tr><th>Gateway</th><th>Alokasi</th><th>Penyebab</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{note}"


def drift_table(drift: list[dict]) -> str:
    rows = [f"<tr><td>{h(d['gateway'])}</td><td>{h(d.get('device') or '-')}</td><td>{h(d.get('allocation') or '-')}</td><td>{h(d['difference'])}</td></tr>" for d in drift]
    return f"<table><thead><tr><th>Gateway</th><th>Perangkat</th><th>Alokasi</th><th>Perbedaan</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"


def gateway_list(report: dict) -> str:
    if not report["gateways"]:
        return "<p>Tidak ada gateway.</p>"
    items = []
    for gateway in sorted(report["gateways"], key=lambda g: g["name"]):
        commands = gateway.get("commands") or []
        item = f"<li><strong>{h(gateway['name'])}</strong>: {h(report_text.gateway_state(gateway))}"
        if commands:
            item += f"<details><summary>Perintah tc</summary><pre>{chr(10).join(h(c) for c in commands)}</pre></details>"
        items.append(item + "</li>")
    return f"<ul>{''.join(items)}</ul>"
