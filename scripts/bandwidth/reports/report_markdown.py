"""report.md of the completion report: short enough for a GitHub job summary or a pull request comment."""

from __future__ import annotations

from bandwidth.escape import markdown as md
from bandwidth.reports.report_data import MAX_DRIFT_LINES, MAX_MARKDOWN, MAX_MENTIONS, MAX_NOT_APPLIED_LINES, MAX_REASON, MODE, VERDICT, not_applied
from bandwidth.reports.report_text import (
    by_id,
    change_rows,
    clip,
    configured,
    counts_text,
    emergency_text,
    first_figures,
    footnote,
    gateway_state,
    github_login,
    measured_pair,
    per_family,
    reason_text,
    removed_text,
    result_text,
    rtt_text,
    waktu,
)

# --- report.md ----------------------------------------------------------------------------------------------------------


def render_markdown(report: dict) -> str:  # noqa: PLR0912, PLR0915 - report.md top to bottom, with its size limits, as it reads
    """report.md: short enough for a GitHub job summary or a pull request comment."""
    allocations = by_id(report["allocations"])
    head = ["## Laporan Penyelesaian Tugas Penyediaan Bandwidth", ""]
    line = f"SOP Penyediaan Bandwidth langkah 8-10 · commit `{report['commit'][:7]}`"
    if report.get("mode") in MODE:
        line += f" · lingkungan {MODE[report['mode']]}"
    head += [line, "", f"Waktu mulai: {waktu(report['started'])} · selesai: {waktu(report['finished'])}", ""]
    head += [f"**Hasil: {result_text(report, md)}.** ({counts_text(report)}; {len(report['drift'])} drift)", ""]
    if emergency_text(report):
        head += [f"**{md(emergency_text(report))}**", ""]
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
    removed = report.get("removed") or []
    changes = _changes(changed) + _removed(removed)
    tail = []
    lettered = [a["id"] for a in changed] + [r["id"] for r in removed]
    if lettered:
        names = [f"`Laporan_Penyelesaian_Tugas_{i}.docx`" for i in lettered[:10]]
        more = f" dan {len(lettered) - 10} lainnya" if len(lettered) > 10 else ""
        tail += [f"Surat laporan penyelesaian (DOCX) untuk {len(lettered)} alokasi yang berubah: " + ", ".join(names) + more + ".", ""]
    tail += ["Grafik dan rincian lengkap: `report.html`; data: `report.json`.", ""]
    logins = list(dict.fromkeys(login for a in changed + removed if (login := github_login(a))))
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
        budget = MAX_MARKDOWN - sum(len(x) + 1 for x in head + changes + drift + tail + table) - 400
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
    return "\n".join(head + changes + table + drift + tail).rstrip("\n") + "\n"


MAX_CHANGED_SHOWN = 10


def _changes(changed: list[dict]) -> list[str]:
    """What changed in each existing allocation this run changed (a form Perubahan, Perpanjangan, Pengembalian): before -> after."""
    lines = []
    shown = [a for a in changed if change_rows(a)]
    for allocation in shown[:MAX_CHANGED_SHOWN]:
        parts = [f"{md(what)} {md(old)} → {md(new)}" for what, old, new in change_rows(allocation)]
        lines.append(f"- {md(allocation['id'])} ({md(allocation.get('agency', '-'))}): " + "; ".join(parts))
    if len(shown) > MAX_CHANGED_SHOWN:
        lines.append(f"- ... dan {len(shown) - MAX_CHANGED_SHOWN} alokasi lain (lihat `report.html`)")
    return ["### Perubahan alokasi", "", *lines, ""] if lines else []


def _removed(removed: list[dict]) -> list[str]:
    """The allocations given back: which, whose, where and when."""
    lines = [f"- {md(r['id'])} ({md(r.get('agency') or '-')}): {md(removed_text(r))}" for r in removed[:MAX_CHANGED_SHOWN]]
    if len(removed) > MAX_CHANGED_SHOWN:
        lines.append(f"- ... dan {len(removed) - MAX_CHANGED_SHOWN} alokasi lain (lihat `report.json`)")
    return ["### Alokasi dicabut", "", *lines, ""] if lines else []


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
        _figures(allocation, allocation["download"]),
        configured(allocation["upload"]),
        _figures(allocation, allocation["upload"]),
        rtt_text(allocation),
        verdict,
    ]
    return "| " + " | ".join(cells) + " |"


def _figures(allocation: dict, direction: dict) -> str:
    """Alone (and together), then each family of a dual-stack allocation, then the first figures of those measured again."""
    lines = [measured_pair(direction), " · ".join(per_family(allocation, direction)), first_figures(allocation, direction)]
    return "<br>".join(line for line in lines if line)
