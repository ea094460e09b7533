"""The SOP's "Form Laporan Pengecekan Kesediaan Bandwidth" (steps 5-6), in Markdown and Bahasa Indonesia."""

from __future__ import annotations

from bandwidth.allocations import capacity, rules
from bandwidth.escape import markdown as md
from bandwidth.model import DIRECTIONS, CheckResult
from bandwidth.textid import ARAH, periode, tanggal
from bandwidth.textid import mbps as idr_mbps

MAX_TECHNICAL_LINES = 50


def render(result: CheckResult) -> str:
    errors, warnings = result.errors, result.warnings
    changed = [a for a in result.allocations if a.change]
    lines = ["## Form Laporan Pengecekan Kesediaan Bandwidth", ""]
    lines.append(f"Tanggal pengecekan: {tanggal(result.today)}" + (f" · dibandingkan dengan `{md(result.base)}`" if result.base else ""))
    lines.append("")
    capacity_errors = [p for p in errors if p.rule == "capacity"]
    if not errors:
        lines.append("**Hasil: bandwidth tersedia.** Permohonan memenuhi syarat dan dapat diteruskan ke konfigurasi (SOP langkah 7).")
    elif capacity_errors:
        lines.append(f"**Hasil: bandwidth tidak tersedia.** Permohonan tidak dapat diproses; pemohon diberi tahu (SOP langkah 6). Ditemukan {len(errors)} kesalahan.")
    else:
        lines.append(f"**Hasil: permohonan belum memenuhi syarat.** Ditemukan {len(errors)} kesalahan yang harus diperbaiki (lihat rincian di bawah).")
    lines.append("")

    shown = changed if result.base else result.allocations
    if shown:
        lines += ["### Permohonan yang diperiksa", ""]
        lines.append("| ID | Pengguna Bandwidth | Surat Permohonan | Gateway / Uplink | Unduh (jaminan / maks) | Unggah (jaminan / maks) | Periode | Hasil |")
        lines.append("|---|---|---|---|---|---|---|---|")
        problem_paths = {p.path for p in errors}
        for a in sorted(shown, key=lambda a: a.id):
            verdict = "Perlu perbaikan" if a.path in problem_paths else "Memenuhi syarat"
            if a.change == "changed":
                verdict += " (perubahan)"
            lines.append(
                f"| {md(a.id)} | {md(a.agency)} | {md(a.letter_number)}, {tanggal(a.letter_date)} | {md(a.gateway)} / {md(a.uplink)} "
                f"| {idr_mbps(a.download.guaranteed_kbit)} / {idr_mbps(a.download.max_kbit)} Mbit/s "
                f"| {idr_mbps(a.upload.guaranteed_kbit)} / {idr_mbps(a.upload.max_kbit)} Mbit/s | {periode(a.start, a.end)} | {verdict} |"
            )
        lines.append("")
    if result.removed:
        lines += ["Alokasi yang dihapus: " + ", ".join(f"`{md(p)}`" for p in result.removed), ""]

    lines += _capacity_tables(result, changed)

    if errors or warnings:
        lines += ["<details><summary>Rincian teknis pemeriksaan</summary>", ""]
        for problem in (errors + warnings)[:MAX_TECHNICAL_LINES]:
            kind = "kesalahan" if problem.severity == "error" else "peringatan"
            lines.append(f"- {kind}: {md(problem.path)} baris {problem.line}: {md(problem.message)}")
        if len(errors) + len(warnings) > MAX_TECHNICAL_LINES:
            lines.append(f"- ... dan {len(errors) + len(warnings) - MAX_TECHNICAL_LINES} lagi (lihat log CI)")
        lines += ["", "</details>", ""]
    return "\n".join(lines) + "\n"


def _capacity_tables(result: CheckResult, changed) -> list[str]:
    if result.inventory is None:
        return []
    groups = rules.group_by_uplink(result.allocations)
    if result.base:
        keys = sorted({(a.gateway, a.uplink) for a in changed})
    else:
        keys = [(g.name, u) for g in result.inventory.gateways.values() for u in g.uplinks]
    lines = []
    if keys:
        lines += ["### Ketersediaan per uplink", "", "Angka dalam Mbit/s; teralokasi dan diminta adalah jumlah jaminan (guaranteed) pada puncaknya mulai hari ini.", ""]
    for gateway_name, uplink_name in keys:
        gateway = result.inventory.gateways.get(gateway_name)
        uplink = gateway.uplinks.get(uplink_name) if gateway else None
        if uplink is None:
            continue
        group = groups.get((gateway_name, uplink_name), [])
        lines += [f"#### {md(gateway_name)} / {md(uplink_name)}", ""]
        lines.append("| Arah | Kapasitas | Cadangan | Teralokasi | Diminta | Sisa | Status |")
        lines.append("|---|---:|---:|---:|---:|---:|---|")
        notes = []
        for direction in DIRECTIONS:
            limit = uplink.guaranteeable(direction)
            existing = capacity.peak(group, direction, result.today, only=lambda a: not a.change)
            requested = capacity.peak(group, direction, result.today, only=lambda a: bool(a.change))
            total = capacity.peak(group, direction, result.today)
            free = limit - total
            status = "Tersedia" if free >= 0 else "Tidak tersedia"
            lines.append(
                f"| {ARAH[direction]} | {idr_mbps(uplink.capacity(direction))} | {idr_mbps(uplink.reserve(direction))} ({uplink.reserve_percent}%) "
                f"| {idr_mbps(existing)} | {idr_mbps(requested) if result.base else '-'} | {idr_mbps(max(free, 0))} | {status} |"
            )
            if free < 0:
                notes.append(f"{ARAH[direction]}: kekurangan {idr_mbps(-free)} Mbit/s; yang masih tersedia untuk permohonan ini {idr_mbps(max(limit - existing, 0))} Mbit/s.")
        lines.append("")
        for note in notes:
            lines += [f"- {note}"]
        if notes:
            lines.append("")
    return lines
