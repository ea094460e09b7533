"""Laporan_Penyelesaian_Tugas_<id>.docx: the official letter of SOP step 10, built in code with python-docx.

Text from the request file goes in as plain runs (python-docx escapes XML); control, invisible and bidi characters
are removed first, since XML cannot hold most of them and they could reorder what a reader sees.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from bandwidth.reports import report_data, report_text
from bandwidth.textid import ARAH, WITA, tanggal

SENDER = "Bidang Teknologi Informasi dan Komunikasi"
SUBJECT = "Laporan Penyelesaian Penyediaan Bandwidth"
SUBJECT_NOT_APPLIED = "Laporan Penyediaan Bandwidth: Konfigurasi Belum Diterapkan"
SUBJECT_CHANGE = "Laporan Penyelesaian Perubahan Alokasi Bandwidth"
SUBJECT_REMOVED = "Laporan Penyelesaian Pengembalian Alokasi Bandwidth"
SUBJECT_EXTENDED = "Laporan Penyelesaian Perpanjangan Alokasi Bandwidth"
# An existing allocation's letter is named after what the change is (report_text.change_kind).
SUBJECT_OF_CHANGE = {"perubahan": SUBJECT_CHANGE, "perpanjangan": SUBJECT_EXTENDED, "pengembalian": SUBJECT_REMOVED}
MAX_REASON = 300  # characters of the apply's error in the letter
NOTE_FIGURES = "Angka dalam Mbit/s. Terukur: alokasi ini sendiri (dual-stack: IPv4 dan IPv6 sekaligus, lalu tiap keluarga alamat sendiri); bersama: semua alokasi pada uplink yang sama sekaligus."
_NOT_IN_XML = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]")


def plain(text) -> str:
    """One line of text that XML can hold: whitespace runs (newlines too) as one space, control characters removed."""
    return _NOT_IN_XML.sub("", " ".join(str(text).split()))


def render(report: dict, allocation: dict) -> bytes:
    document = build(report, allocation)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def build(report: dict, allocation: dict):  # noqa: PLR0912, PLR0915 - the letter top to bottom, one paragraph after the other, as it reads
    """The letter for one allocation, as a python-docx Document."""
    document = Document()
    _setup(document, report, allocation)
    letter = allocation.get("letter") or {}
    contact = allocation.get("contact") or {}
    finished = report_text.moment(report["finished"]).astimezone(WITA)
    # The letter of an allocation whose gateway the apply did not configure never says that the bandwidth is there.
    unapplied = allocation["verdict"] == "not_applied"

    _opening(document, finished, _subject(allocation), allocation.get("agency") or "-")

    body = _paragraph(document, "Menindaklanjuti Surat Saudara Nomor ", align=WD_ALIGN_PARAGRAPH.JUSTIFY, before=8)
    body.add_run(plain(letter.get("number", "-")))
    changes = report_text.change_rows(allocation)  # an existing allocation changed: the letter says what changed
    about = f"{report_text.change_kind(allocation)} alokasi bandwidth {allocation['id']}" if changes else "penyediaan bandwidth"
    body.add_run(f" tanggal {report_text.letter_date(allocation)} perihal permohonan {about}")
    if allocation.get("purpose"):
        body.add_run(" untuk keperluan ")
        body.add_run(plain(allocation["purpose"]))
    if unapplied:
        body.add_run(", dengan hormat kami sampaikan bahwa konfigurasi penyediaan bandwidth tersebut pada gateway ")
        body.add_run(plain(allocation["gateway"]))
        body.add_run(" belum berhasil diterapkan, sehingga bandwidth tersebut belum dapat kami nyatakan tersedia. Rincian permohonan sebagai berikut:")
    elif changes:
        body.add_run(", dengan hormat kami sampaikan bahwa perubahan tersebut telah dikonfigurasi pada gateway jaringan Pemerintah Provinsi Kalimantan Timur sebagai berikut:")
    else:
        body.add_run(
            ", dengan hormat kami sampaikan bahwa penyediaan bandwidth tersebut telah dikonfigurasi pada gateway jaringan Pemerintah Provinsi Kalimantan Timur dengan rincian sebagai berikut:"
        )
    if changes:
        _change_table(document, changes)
        _paragraph(document, "Rincian alokasi setelah perubahan:", before=8)

    timeline = allocation.get("timeline") or {}
    rows = [
        ("ID Permohonan", allocation["id"]),
        ("Gateway", allocation["gateway"]),
        ("Uplink", allocation["uplink"]),
        ("Subnet", ", ".join(allocation.get("subnets") or []) or "-"),
        ("Unduh (jaminan / maksimum)", f"{report_text.configured(allocation['download'])} Mbit/s"),
        ("Unggah (jaminan / maksimum)", f"{report_text.configured(allocation['upload'])} Mbit/s"),
        ("Prioritas", f"{allocation['priority']} (0 tertinggi, 7 terendah)" if "priority" in allocation else "-"),
        ("Periode", report_text.periode_text(allocation)),
        ("Konfigurasi diterapkan", "Belum diterapkan" if unapplied else report_text.waktu(timeline.get("applied"))),
        ("Commit", report["commit"][:12]),
    ]
    _key_value_table(document, rows)

    verdict = allocation["verdict"]
    _paragraph(document, f"Hasil pengecekan kembali (SOP langkah 8), {report_text.waktu(timeline.get('verified'))}:", before=10)
    _results_table(document, allocation)
    tolerance = report_text.tolerance_text(report)
    rtt = _rtt_sentence(allocation)
    if rtt:
        _paragraph(document, rtt, size=10, before=4, after=2)
    measured = any(report_text.measured_pair(allocation[name]) != "-" for name in report_data.DIRECTIONS)
    notes = [NOTE_FIGURES]
    if measured:  # how the two rates relate, and the band they are judged by
        notes += [report_text.wire_note(report)] + ([f"Syarat lulus: {tolerance}."] if tolerance else [])
    if rtt:
        notes.append(report_text.NOTE_RTT)
    for line in notes:
        _paragraph(document, line, size=9, after=2)
    outcome = _paragraph(document, "Hasil: ", before=4)
    outcome.add_run(report_data.VERDICT[verdict]).bold = True
    reason = plain(allocation.get("not_measured_reason") or "").rstrip(" .")
    if verdict == "pass":
        outcome.add_run(". Bandwidth terpasang dan berfungsi sesuai konfigurasi.")
    elif unapplied:
        outcome.add_run(". Konfigurasi pada gateway ")
        outcome.add_run(plain(allocation["gateway"]))
        reason = _clip(_gateway(report, allocation).get("reason") or "")
        outcome.add_run(" gagal diterapkan; " + (f"penyebab: {reason}" if reason else "penyebab tidak tercatat"))
        outcome.add_run(". Tim Teknis menindaklanjuti dan akan menyampaikan laporan penyelesaian setelah konfigurasi berhasil diterapkan.")
    elif verdict == "fail":
        outcome.add_run(". Hasil pengukuran belum memenuhi syarat" + (f" ({tolerance})" if tolerance else "") + "; Tim Teknis menindaklanjuti dan akan menyampaikan laporan perbaikan.")
        if reason:
            outcome.add_run(f" Catatan pengukuran: {reason}.")
    else:  # not measured: the letter never says that the bandwidth was verified
        outcome.add_run(f". Throughput tidak diukur; alasan: {reason or 'tidak tercatat'}. ")
        outcome.add_run("Bandwidth ini belum diverifikasi dengan pengukuran; konfigurasinya diperiksa dengan membaca kembali pengaturan gateway.")
    for item in report["drift"]:
        if item.get("allocation") == allocation["id"]:
            _paragraph(document, f"Catatan: konfigurasi menyimpang pada {plain(item['gateway'])} {plain(item.get('device') or '')}: {plain(item['difference'])}", size=10)

    _paragraph(document, "Pelaksanaan menurut SOP Penyediaan Bandwidth:", before=10)
    _steps_table(document, report, allocation)
    requested = report_text.step_times(report, allocation)[0].moment
    if requested and not unapplied:
        total = (report_text.moment(report["finished"]) - requested).total_seconds()
        _paragraph(document, f"Waktu penyelesaian seluruhnya sejak permohonan diajukan: {report_text.durasi(total)} (Mutu Baku 2-4 hari kerja).", size=10)

    _closing(document, contact.get("name") or "-")
    return document


def render_removed(report: dict, item: dict) -> bytes:
    """The letter for an allocation given back and removed (Pengembalian / Pencabutan)."""
    document = Document()
    _setup(document, report, item | {"verdict": "removed"})
    letter, contact = item.get("letter") or {}, item.get("contact") or {}
    _opening(document, report_text.moment(report["finished"]).astimezone(WITA), SUBJECT_REMOVED, item.get("agency") or "-")
    body = _paragraph(document, "Menindaklanjuti Surat Saudara Nomor ", align=WD_ALIGN_PARAGRAPH.JUSTIFY, before=8)
    body.add_run(plain(letter.get("number") or "-"))
    body.add_run(f" tanggal {report_text.letter_date(item)} perihal pengembalian alokasi bandwidth {item['id']}, dengan hormat kami sampaikan bahwa alokasi tersebut ")
    body.add_run(plain(report_text.removed_text(item)))
    if item.get("applied"):
        body.add_run(". Kapasitas yang dijamin untuk alokasi tersebut kembali tersedia untuk dialokasikan.")
    else:
        body.add_run(". Tim Teknis menindaklanjuti dan akan menyampaikan laporan penyelesaian setelah konfigurasi berhasil diterapkan.")
    _key_value_table(document, [("ID Permohonan", item["id"]), ("Commit", report["commit"][:12])])
    _closing(document, contact.get("name") or "-")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _opening(document, finished, subject: str, agency: str) -> None:
    """The letterhead, the date, Nomor / Sifat / Lampiran / Perihal, and to whom."""
    for text, size in (("PEMERINTAH PROVINSI KALIMANTAN TIMUR", 13), ("DINAS KOMUNIKASI DAN INFORMATIKA", 13), (SENDER, 12)):
        paragraph = _paragraph(document, text, bold=True, size=size, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _bottom_border(paragraph)
    _paragraph(document, f"Samarinda, {tanggal(finished.date())}", align=WD_ALIGN_PARAGRAPH.RIGHT, before=10)

    heading = document.add_table(rows=0, cols=3)
    for label, value in (("Nomor", "............................"), ("Sifat", "Biasa"), ("Lampiran", "-"), ("Perihal", subject)):
        cells = heading.add_row().cells
        for cell, text, width in zip(cells, (label, ":", value), (Cm(2.5), Cm(0.5), Cm(12)), strict=True):
            cell.width = width
            _cell(cell, text, size=11, bold=label == "Perihal" and text == value)

    _paragraph(document, "", after=0)
    _paragraph(document, f"Yth. {plain(agency)}", after=0)
    _paragraph(document, "di-", after=0)
    _paragraph(document, "Tempat", indent=Cm(1))


def _closing(document, contact_name: str) -> None:
    _paragraph(document, "Demikian laporan ini kami sampaikan. Atas perhatian dan kerja sama Saudara, kami ucapkan terima kasih.", align=WD_ALIGN_PARAGRAPH.JUSTIFY, before=8)
    for text, before in ((f"Kepala {SENDER},", 14), ("", 0), ("", 0), ("(...................................................)", 24), ("NIP. .............................................", 0)):
        _paragraph(document, text, indent=Cm(9), before=before, after=0)
    _paragraph(document, f"Tembusan: {plain(contact_name)} (Pengguna Bandwidth)", before=18)


def _setup(document, report: dict, allocation: dict) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2)
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(4)
    properties = document.core_properties
    properties.title = plain(f"{_subject(allocation)} {allocation['id']}")
    properties.subject = _subject(allocation)
    properties.author = SENDER
    properties.last_modified_by = SENDER
    properties.keywords = allocation["id"]
    properties.comments = f"commit {report['commit']}"
    finished = report_text.moment(report["finished"]).astimezone(dt.UTC).replace(tzinfo=None)
    properties.created = properties.modified = finished
    properties.revision = 1


def _results_table(document, allocation: dict) -> None:
    """Per direction: configured, and measured on the wire (L2) and as iperf3 goodput, alone and together; a dual-stack allocation each family alone."""
    table = document.add_table(rows=1, cols=7)
    table.style = "Table Grid"
    _header(table.rows[0].cells, ("Arah", "Jaminan", "Maksimum", "Di kabel (L2)", "iperf3", "Bersama, di kabel (L2)", "Bersama, iperf3"))
    for name in report_data.DIRECTIONS:
        d = allocation[name]
        rows = [(ARAH[name], d["guaranteed_mbps"], d["max_mbps"], d.get("wire_mbps"), d.get("measured_mbps"), d.get("contention_wire_mbps"), d.get("contention_mbps"))]
        if report_text.dual_stack(allocation) and report_text.measured_pair(d) != "-":
            for family in allocation["families"]:
                figures = (d.get("by_family") or {}).get(family) or {}
                rows.append((f"{ARAH[name]}, {report_data.FAMILY[family]} saja", "", "", figures.get("wire_mbps"), figures.get("measured_mbps"), "", ""))
        # A figure out of the band was measured once more: the row above holds the repeat, this one the first.
        first, together = d.get("first") or {}, d.get("contention_first") or {}
        if first or together:
            again = (first.get("wire_mbps", ""), first.get("measured_mbps", ""), together.get("wire_mbps", ""), together.get("measured_mbps", ""))
            rows.append((f"{ARAH[name]}, pengukuran pertama (diukur ulang)", "", "", *again))
        for family in allocation.get("families") or () if report_text.dual_stack(allocation) else ():
            first = ((d.get("by_family") or {}).get(family) or {}).get("first")
            if first:
                rows.append((f"{ARAH[name]}, {report_data.FAMILY[family]} saja, pengukuran pertama", "", "", first.get("wire_mbps"), first.get("measured_mbps"), "", ""))
        for row in rows:
            for cell, value in zip(table.add_row().cells, row, strict=True):
                _cell(cell, value if isinstance(value, str) else _rate(value), align=None if isinstance(value, str) else WD_ALIGN_PARAGRAPH.RIGHT)


def _rtt_sentence(allocation: dict) -> str | None:
    """The round-trip time idle and under load, as a sentence; None when it was not measured."""
    rtt = allocation.get("rtt_ms")
    if not rtt or (rtt.get("idle") is None and rtt.get("loaded") is None):
        return None
    family = report_data.FAMILY.get(rtt.get("family"), "")
    return (
        f"Waktu pulang-pergi (RTT) ping dari klien melalui gateway, {family}: {report_text.milliseconds(rtt.get('idle'))} ms saat idle, "
        f"{report_text.milliseconds(rtt.get('loaded'))} ms saat unduhan alokasi ini jenuh."
    )


def _subject(allocation: dict) -> str:
    if allocation["verdict"] == "removed":  # render_removed's own marker: a removed allocation has no verdict
        return SUBJECT_REMOVED
    if allocation["verdict"] == "not_applied":
        return SUBJECT_NOT_APPLIED
    return SUBJECT_OF_CHANGE[report_text.change_kind(allocation)] if report_text.change_rows(allocation) else SUBJECT


def _change_table(document, changes: list[tuple[str, str, str]]) -> None:
    """Each field the change touched: what, before, after."""
    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    _header(table.rows[0].cells, ("Rincian", "Semula", "Menjadi"))
    for row in changes:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            _cell(cell, plain(text))


def _gateway(report: dict, allocation: dict) -> dict:
    return next((g for g in report["gateways"] if g["name"] == allocation["gateway"]), {})


def _clip(text: str) -> str:
    """The apply's error as one plain line of at most MAX_REASON characters."""
    line = plain(text).rstrip(" .")  # the letter puts its own full stop after it
    return line if len(line) <= MAX_REASON else line[: MAX_REASON - 1] + "…"


def _paragraph(document, text: str, *, bold=False, size=None, align=None, before=0, after=None, indent=None):
    paragraph = document.add_paragraph()
    if text:
        run = paragraph.add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.space_before = Pt(before)
    if after is not None:
        paragraph.paragraph_format.space_after = Pt(after)
    if indent is not None:
        paragraph.paragraph_format.left_indent = indent
    return paragraph


def _bottom_border(paragraph) -> None:
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "double"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _cell(cell, text: str, *, bold=False, align=None, size=10) -> None:
    paragraph = cell.paragraphs[0]
    lines = str(text).split("\n")
    for i, line in enumerate(lines):
        run = paragraph.add_run(line)
        run.bold = bold
        run.font.size = Pt(size)
        if i < len(lines) - 1:
            run.add_break()
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)


def _header(cells, labels) -> None:
    for cell, label in zip(cells, labels, strict=True):
        _cell(cell, label, bold=True)


def _rate(value) -> str:
    return report_text.rate(value)


def _key_value_table(document, rows) -> None:
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].width, cells[1].width = Cm(5.5), Cm(10.5)
        _cell(cells[0], label, bold=True)
        _cell(cells[1], plain(value))


def _steps_table(document, report: dict, allocation: dict) -> None:
    """One row per SOP step: what it is, its Mutu Baku, and when it happened with how long it took (and who approved, steps 2-4)."""
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    widths = (Cm(1), Cm(7.5), Cm(2.3), Cm(5.2))
    _header(table.rows[0].cells, ("No", "Uraian Kegiatan", "Mutu Baku", "Waktu Pelaksanaan"))
    times = {row.step: row for row in report_text.step_times(report, allocation)}
    for number, text, standard in report_data.STEPS:
        cells = table.add_row().cells
        _cell(cells[0], str(number), align=WD_ALIGN_PARAGRAPH.CENTER)
        _cell(cells[1], text)
        _cell(cells[2], standard)
        _cell(cells[3], _step_text(times[number]))
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def _step_text(row: report_data.StepTime) -> str:
    """'27 November 2026 pukul 10.10 WITA\n(durasi 1 jam 10 menit)\noleh sri-wahyuni-tu'; '-' when unknown."""
    if row.moment is None:
        return "-"
    text = report_text.waktu(row.moment)
    if row.seconds is not None:
        text += f"\n(durasi {report_text.durasi(row.seconds)})"
    if row.by:
        text += f"\noleh {plain(row.by)}"
    return text
