"""The availability list in four formats: text (operators), JSON (machines), Markdown and HTML (officials, in Bahasa Indonesia).

Every text that comes from a request file goes through escape.markdown or htmlpage.h.
"""

from __future__ import annotations

import datetime as dt
import json

from bandwidth.escape import markdown as md
from bandwidth.escape import printable
from bandwidth.htmlpage import CSS, h, page_start
from bandwidth.model import DIRECTIONS
from bandwidth.textid import ARAH, periode, tanggal
from bandwidth.textid import mbps as id_mbps


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _source_line(ledger: dict) -> str:
    source = ledger["source"]
    if source["kind"] == "commit":
        return f"keadaan main pada commit {source['commit'][:12]}"
    if source.get("commit"):
        return f"keadaan berkas pada checkout ini (commit {source['commit'][:12]})"
    return "keadaan berkas pada checkout ini"


def _totals(ledger: dict) -> tuple[int, int]:
    """How many allocations are in force, and how many of them are temporary."""
    in_force = [a for g in ledger["gateways"] for u in g["uplinks"] for a in u["allocations"]]
    return len(in_force), sum(a["temporary"] for a in in_force)


def _rows(uplink: dict) -> list[tuple[dict, str]]:
    """The uplink's allocations with their status: in force, then scheduled."""
    return [(a, "berlaku") for a in uplink["allocations"]] + [(a, "terjadwal") for a in uplink["scheduled"]]


# --- text: for operators at a terminal --------------------------------------------------------------------------------
def text(ledger: dict) -> str:
    source = ledger["source"]
    where = f"commit {source['commit'][:12]}" if source["kind"] == "commit" else "this checkout"
    lines = [f"Availability list on {ledger['date']} ({where}); Mbit/s, guaranteed / max", ""]
    for gateway in ledger["gateways"]:
        for uplink in gateway["uplinks"]:
            lines.append(f"{gateway['name']} / {uplink['name']}")
            for direction in DIRECTIONS:
                d = uplink[direction]
                lines.append(
                    f"  {direction:<8} capacity {_m(d['capacity_kbit'])}  reserve {_m(d['reserve_kbit'])}  guaranteed {_m(d['guaranteed_kbit'])}"
                    f"  max sum {_m(d['max_kbit'])}  free {_m(d['free_kbit'])}  for new requests {_m(d['available_kbit'])}"
                )
            for a in uplink["allocations"]:
                window = f"  until {a['end']}" if a["temporary"] else ""
                lines.append(printable(f"    {a['id']}  {_rates(a)}  {a['agency']}{window}"))
            for a in uplink["scheduled"]:
                lines.append(printable(f"    {a['id']}  {_rates(a)}  {a['agency']}  scheduled from {a['start']}"))
        lines.append("")
    count, temporary = _totals(ledger)
    lines.append(f"{count} allocation(s) in force, {temporary} temporary; {len(ledger['problems'])} request file(s) with errors left out")
    for pull, change in _pending_rows(ledger):
        lines.append(printable(f"pending PR #{pull['number']}: {change['action']} {change['path']}: {_pending_rates(change, _rates_or_dash)}"))
    return "\n".join(lines) + "\n"


def _pending_rows(ledger: dict) -> list[tuple[dict, dict]]:
    return [(pull, change) for pull in (ledger.get("pending") or {}).get("pulls", []) for change in pull["changes"]]


def _rates_or_dash(version: dict | None) -> str:
    return _rates(version) if version else "-"


def _pending_rates(change: dict, show, arrow: str = "->") -> str:
    before, after = change["before"], change["after"]
    if change["action"] == "added":
        return show(after)
    if change["action"] == "removed":
        return show(before)
    return f"{show(before)} {arrow} {show(after)}"


def _m(kbit: int) -> str:
    return f"{kbit / 1000:g}"


def _rates(a: dict) -> str:
    return f"down {_m(a['download']['guaranteed_kbit'])}/{_m(a['download']['max_kbit'])} up {_m(a['upload']['guaranteed_kbit'])}/{_m(a['upload']['max_kbit'])}"


def as_json(ledger: dict) -> str:
    return json.dumps(ledger, indent=1, ensure_ascii=False) + "\n"


# --- Markdown: Bahasa Indonesia ---------------------------------------------------------------------------------------
def markdown(ledger: dict) -> str:
    day = _day(ledger["date"])
    lines = [f"## {ledger['title']}", "", f"Per tanggal {tanggal(day)} ({_source_line(ledger)}). Angka dalam Mbit/s.", ""]
    for gateway in ledger["gateways"]:
        for uplink in gateway["uplinks"]:
            lines += [f"### {md(gateway['name'])} / {md(uplink['name'])}", ""]
            lines += ["| Arah | Kapasitas | Cadangan | Dijamin | Jumlah maks | Sisa | Sisa untuk permohonan baru |", "|---|---:|---:|---:|---:|---:|---:|"]
            for direction in DIRECTIONS:
                d = uplink[direction]
                lines.append(
                    f"| {ARAH[direction]} | {id_mbps(d['capacity_kbit'])} | {id_mbps(d['reserve_kbit'])} ({d['reserve_percent']}%) | {id_mbps(d['guaranteed_kbit'])} "
                    f"| {id_mbps(d['max_kbit'])} | {id_mbps(d['free_kbit'])} | {id_mbps(max(d['available_kbit'], 0))} |"
                )
            lines.append("")
            rows = _rows(uplink)
            if rows:
                lines += ["| ID | Pengguna Bandwidth | Surat | Subnet | Unduh (jaminan / maks) | Unggah (jaminan / maks) | Periode | Status |", "|---|---|---|---|---|---|---|---|"]
                for a, status in rows:
                    kind = "sementara" if a["temporary"] else "tetap"
                    lines.append(
                        f"| {md(a['id'])} | {md(a['agency'])} | {md(a['letter_number'])} | {md(', '.join(a['subnets']))} "
                        f"| {id_mbps(a['download']['guaranteed_kbit'])} / {id_mbps(a['download']['max_kbit'])} "
                        f"| {id_mbps(a['upload']['guaranteed_kbit'])} / {id_mbps(a['upload']['max_kbit'])} "
                        f"| {periode(_day(a['start']), _day(a['end']))} | {status}, {kind} |"
                    )
            else:
                lines.append("Belum ada alokasi.")
            lines.append("")
    count, temporary = _totals(ledger)
    lines.append(f"Jumlah alokasi yang berlaku: {count} ({temporary} sementara).")
    if ledger["problems"]:
        lines.append(f"\nCatatan: {len(ledger['problems'])} berkas permohonan tidak lolos pemeriksaan dan tidak dihitung.")
    if "pending" in ledger:
        lines += ["", "### Perubahan yang menunggu disposisi (pull request terbuka)", ""]
        rows = _pending_rows(ledger)
        if rows:
            lines += ["| Pull request | Berkas | Perubahan | Gateway / Uplink | Unduh dan unggah (jaminan / maks) |", "|---|---|---|---|---|"]
            for pull, change in rows:
                version = change["after"] or change["before"]
                where = f"{md(version['gateway'])} / {md(version['uplink'])}" if version else "tidak terbaca"
                lines.append(f"| #{pull['number']} {md(pull['title'])} | {md(change['path'])} | {PENDING_ACTION[change['action']]} | {where} | {md(_pending_rates(change, _rates_id, ARROW))} |")
        else:
            lines.append("Tidak ada.")
        if ledger["pending"].get("more"):
            lines.append(f"\n... dan {ledger['pending']['more']} pull request lain.")
    return "\n".join(lines) + "\n"


ARROW = "→"  # before → after, in the Bahasa formats
PENDING_ACTION = {"added": "baru", "changed": "perubahan", "removed": "pengembalian"}


def _rates_id(version: dict | None) -> str:
    """'unduh 10 / 20, unggah 5 / 10' in Indonesian notation; 'tidak terbaca' for a version that does not read."""
    if not version:
        return "tidak terbaca"
    down, up = version["download"], version["upload"]
    return f"unduh {id_mbps(down['guaranteed_kbit'])} / {id_mbps(down['max_kbit'])}, unggah {id_mbps(up['guaranteed_kbit'])} / {id_mbps(up['max_kbit'])}"


# --- HTML: the one page an official prints ----------------------------------------------------------------------------
LEDGER_CSS = """
td.nw { white-space: nowrap; } tr.group td { background: #f5f5f5; font-weight: bold; }
.sign { margin-top: 36px; display: grid; grid-template-columns: 1fr 1fr; } .sign div { text-align: center; } .sign .space { height: 64px; }
td.free-low { color: var(--fail); font-weight: bold; }
@page { size: A4 landscape; margin: 10mm; }
@media print { body { font-size: 10px; } table { font-size: 9px; } th, td { padding: 1px 4px; line-height: 1.25; } h1 { font-size: 17px; } h2 { font-size: 13px; margin: 10px 0 4px; }
  p, p.note { font-size: 9px; margin: 4px 0; } .sub { margin: 0 0 6px; } .sign { margin-top: 0; break-inside: avoid; } .sign .space { height: 34px; } }
"""


def html(ledger: dict) -> str:
    day = _day(ledger["date"])
    parts = [
        *page_start(f"{ledger['title']} {tanggal(day)}", CSS + LEDGER_CSS),
        "<h1>Daftar Kesediaan Bandwidth</h1>",
        '<p class="sub">Pemerintah Provinsi Kalimantan Timur · Bidang TIK · SOP Penyediaan Bandwidth, langkah 7 (pembaruan data)</p>',
        f"<p>Per tanggal <b>{h(tanggal(day))}</b> · {h(_source_line(ledger))} · angka dalam Mbit/s</p>",
    ]
    parts.append("<h2>Kapasitas per uplink</h2>")
    columns = ("Kapasitas", "Cadangan", "Dijamin", "Jumlah maks", "Sisa", "Sisa untuk baru")
    parts.append(
        '<table><tr><th rowspan="2">Gateway / Uplink</th>'
        + "".join(f'<th colspan="{len(columns)}">{ARAH[d]}</th>' for d in DIRECTIONS)
        + "</tr><tr>"
        + "".join(f"<th>{c}</th>" for _ in DIRECTIONS for c in columns)
        + "</tr>"
    )
    for gateway in ledger["gateways"]:
        for uplink in gateway["uplinks"]:
            cells = []
            for direction in DIRECTIONS:
                d = uplink[direction]
                low = "num free-low" if d["available_kbit"] < d["guaranteeable_kbit"] // 10 else "num"
                cells += [
                    f'<td class="num">{id_mbps(d["capacity_kbit"])}</td>', f'<td class="num">{id_mbps(d["reserve_kbit"])} ({d["reserve_percent"]}%)</td>',
                    f'<td class="num">{id_mbps(d["guaranteed_kbit"])}</td>', f'<td class="num">{id_mbps(d["max_kbit"])}</td>',
                    f'<td class="num">{id_mbps(d["free_kbit"])}</td>', f'<td class="{low}">{id_mbps(max(d["available_kbit"], 0))}</td>',
                ]  # fmt: skip
            parts.append(f'<tr><td class="nw">{h(gateway["name"])} / {h(uplink["name"])}</td>{"".join(cells)}</tr>')
    parts.append("</table>")
    parts.append(
        '<p class="note">Dijamin: jumlah jaminan alokasi yang berlaku. Sisa: kapasitas dikurangi cadangan dan jaminan. '
        "Sisa untuk baru: yang masih dapat dijamin bagi permohonan tetap mulai tanggal ini (alokasi terjadwal ikut dihitung).</p>"
    )
    rows = [(g, u, a, status) for g in ledger["gateways"] for u in g["uplinks"] for a, status in _rows(u)]
    parts.append("<h2>Alokasi</h2>")
    if not rows:
        parts.append('<p class="note">Belum ada alokasi.</p>')
    else:
        parts.append("<table><tr><th>ID</th><th>Pengguna Bandwidth</th><th>Surat</th><th>Subnet</th><th>Unduh jaminan / maks</th><th>Unggah jaminan / maks</th><th>Periode</th><th>Status</th></tr>")
        group = None
        for gateway, uplink, a, status in rows:
            if group != (gateway["name"], uplink["name"]):
                group = (gateway["name"], uplink["name"])
                parts.append(f'<tr class="group"><td colspan="8">{h(gateway["name"])} / {h(uplink["name"])}</td></tr>')
            kind = "sementara" if a["temporary"] else "tetap"
            parts.append(
                f'<tr><td class="nw">{h(a["id"])}</td><td>{h(a["agency"])}</td><td>{h(a["letter_number"])}, {h(tanggal(_day(a["letter_date"])))}</td>'
                f"<td>{h(', '.join(a['subnets']))}</td>"
                f'<td class="num">{id_mbps(a["download"]["guaranteed_kbit"])} / {id_mbps(a["download"]["max_kbit"])}</td>'
                f'<td class="num">{id_mbps(a["upload"]["guaranteed_kbit"])} / {id_mbps(a["upload"]["max_kbit"])}</td>'
                f"<td>{h(periode(_day(a['start']), _day(a['end'])))}</td><td>{status} · {kind}</td></tr>"
            )
        parts.append("</table>")
    count, temporary = _totals(ledger)
    parts.append(f"<p>Jumlah alokasi yang berlaku: <b>{count}</b> ({temporary} sementara).</p>")
    if ledger["problems"]:
        parts.append(f'<p class="note">Catatan: {len(ledger["problems"])} berkas permohonan tidak lolos pemeriksaan dan tidak dihitung.</p>')
    if "pending" in ledger:
        parts.append("<h2>Perubahan yang menunggu disposisi (pull request terbuka)</h2>")
        rows = _pending_rows(ledger)
        if not rows:
            parts.append('<p class="note">Tidak ada.</p>')
        else:
            parts.append("<table><tr><th>Pull request</th><th>Berkas</th><th>Perubahan</th><th>Gateway / Uplink</th><th>Unduh dan unggah (jaminan / maks)</th></tr>")
            for pull, change in rows:
                version = change["after"] or change["before"]
                where = f"{h(version['gateway'])} / {h(version['uplink'])}" if version else "tidak terbaca"
                parts.append(
                    f"<tr><td>#{pull['number']} {h(pull['title'])}</td><td>{h(change['path'])}</td><td>{PENDING_ACTION[change['action']]}</td>"
                    f"<td>{where}</td><td>{h(_pending_rates(change, _rates_id, ARROW))}</td></tr>"
                )
            parts.append("</table>")
    parts += [
        '<div class="sign"><div></div><div>Samarinda, ' + h(tanggal(day)) + "<br>Kepala Seksi Infrastruktur TIK",
        '<div class="space"></div>(.................................................)<br>NIP.</div></div>',
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


FORMATS = {"text": text, "json": as_json, "md": markdown, "html": html}
