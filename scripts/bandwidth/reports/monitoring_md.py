"""monitoring.md: the Laporan Monitoring Bandwidth in Markdown (Bahasa Indonesia), short enough for a job summary.

Text from request files (the agency) and from the inventory goes through escape.markdown: no markup, no HTML,
no @mentions reach GitHub.
"""

from __future__ import annotations

from bandwidth.escape import markdown as md
from bandwidth.model import DIRECTIONS
from bandwidth.textid import ARAH
from bandwidth.textid import mbps as id_mbps

MAX_MARKDOWN = 60_000  # a PR comment holds 65,536 characters; rows beyond this go to monitoring.html only
MAX_LISTED = 30  # ids named in one line of candidates


def rate(kbit: float | None) -> str:
    """kbit/s -> Mbit/s in Indonesian notation: one decimal from 1 Mbit/s (20912.3 -> '20,9'), else to the kbit/s (12.4 -> '0,012')."""
    if kbit is None:
        return "-"
    return id_mbps(round(kbit) if kbit < 1000 else round(kbit / 100) * 100)


def detik(seconds: float) -> str:
    """Seconds with a decimal comma: 2.002 -> '2,002'."""
    return f"{seconds:g}".replace(".", ",")


def percent(value: float | None) -> str:
    return "-" if value is None else id_mbps(round(value * 10) * 100) + "%"


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}".replace(",", ".")


def lama(seconds: float) -> str:
    """A length in Bahasa Indonesia: '6 detik', '1 menit', '2 menit 30 detik', '1 jam 5 menit'."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} jam"] * bool(hours) + [f"{minutes} menit"] * bool(minutes) + [f"{secs} detik"] * bool(secs)
    return " ".join(parts) or "0 detik"


def period_text(report: dict) -> str:
    from bandwidth.reports.report_text import waktu

    text = f"mulai {waktu(report['started'])}, selama {lama(report['duration_seconds'])}" if report.get("started") else f"selama {lama(report['duration_seconds'])}"
    if report.get("step_seconds"):
        text += f", sampel setiap {report['step_seconds']} detik"
    return text


# What the snapshot is, for the reader: a daily sample, not the month (the monthly report needs Prometheus).
MONTHLY_COMMAND = "bandwidth monitor --prometheus URL --month YYYY-MM"
SNAPSHOT_NOTE = (
    "Laporan ini adalah potret harian: penghitung kelas tc dibaca selama beberapa menit, untuk lokasi yang belum memiliki Prometheus. "
    "Dengan Prometheus, Laporan Monitoring Bandwidth Bulanan (puncak dan persentil ke-95 harian pada jam kerja sebulan penuh) dibuat dengan "
    f"{MONTHLY_COMMAND}."
)

# The issue form each group of candidates is linked to (monitoring_forms builds the links).
FORM_NAMES = {"at_ceiling": "Perubahan Bandwidth", "underused": "Pengembalian / Pencabutan Bandwidth"}


def form_lines(report: dict) -> list[str]:
    """One line per candidate with its prefilled form's link (report['candidates']['forms'], from monitoring_forms)."""
    urls = report["candidates"].get("forms") or {}
    agencies = {a["id"]: a.get("agency") or "-" for a in report["allocations"]}
    lines = []
    for key, name in FORM_NAMES.items():
        for request_id in report["candidates"][key][:MAX_LISTED]:
            if request_id in urls:
                lines.append(f"- {md(request_id)} ({md(agencies.get(request_id, '-'))}): [formulir {name}]({urls[request_id]})")
    return lines


def candidates_lines(report: dict, escape=md) -> list[tuple[str, str, str]]:
    """(key, heading, text) per group of candidates; the heading is plain text, ids and agencies in text are escaped by `escape`."""
    thresholds = report["thresholds"]
    by_id = {a["id"]: a for a in report["allocations"]}
    groups = [
        ("at_ceiling", "Kandidat penambahan", f"rata-rata paling sedikit {percent(thresholds['at_ceiling_percent'])} dari maksimum pada salah satu arah"),
        ("underused", "Kandidat pengembalian", f"rata-rata di bawah {percent(thresholds['underused_percent'])} dari jaminan pada kedua arah"),
    ]
    lines = []
    for key, heading, rule in groups:
        ids = report["candidates"][key]
        named = [f"{escape(i)} ({escape(by_id[i]['agency'] or '-')})" for i in ids[:MAX_LISTED]]
        more = f" dan {len(ids) - MAX_LISTED} lainnya" if len(ids) > MAX_LISTED else ""
        lines.append((key, f"{heading} ({rule})", ", ".join(named) + more if ids else "tidak ada"))
    return lines


def direction_cells(direction: dict | None) -> tuple[str, str]:
    if direction is None or not direction["found"]:
        return "kelas tidak ditemukan", "-"
    return (
        f"{rate(direction['average_kbit'])} / {rate(direction['peak_kbit'])}",
        f"{percent(direction['average_percent_of_guaranteed'])} / {percent(direction['average_percent_of_max'])}",
    )


def notes(allocation: dict) -> str:
    flags = allocation["flags"]
    found = []
    if flags["at_ceiling"]:
        found.append("**kandidat penambahan**")
    if flags["underused"]:
        found.append("kandidat pengembalian")
    if flags["counter_reset"]:
        found.append("penghitung direset")
    if flags["class_missing"]:
        found.append("kelas tc tidak ditemukan")
    return ", ".join(found) or "-"


def render(report: dict) -> str:
    head = ["## Laporan Monitoring Bandwidth", ""]
    head += ["Pemakaian bandwidth per alokasi dari penghitung kelas HTB (tc) di setiap gateway.", ""]
    head += ["*" + SNAPSHOT_NOTE.replace(MONTHLY_COMMAND, f"`{MONTHLY_COMMAND}`") + "*", ""]
    gateways = ", ".join(md(g["name"]) for g in report["gateways"])
    head += [f"Pengamatan: {period_text(report)} · gateway: {gateways or '-'}", ""]
    for _key, heading, text in candidates_lines(report):
        head += [f"**{heading}:** {text}.", ""]
    if form_lines(report):
        head += ["**Ajukan lewat formulir (terisi otomatis):**", "", *form_lines(report), ""]

    table = ["### Per alokasi", ""]
    if report["allocations"]:
        table += [
            "| ID | Pengguna Bandwidth | Gateway / Uplink | Unduh rata-rata / puncak | Unduh % jaminan / % maks | Unggah rata-rata / puncak | Unggah % jaminan / % maks | Catatan |",
            "|---|---|---|---:|---:|---:|---:|---|",
        ]
        rows = {a["id"]: _row(a) for a in report["allocations"]}
        uplinks = _uplink_table(report)
        budget = MAX_MARKDOWN - sum(len(x) + 1 for x in head + table + uplinks) - 600
        chosen = set()
        # Candidates first, should the summary not hold every allocation.
        for allocation in sorted(report["allocations"], key=lambda a: (not a["flags"]["at_ceiling"], not a["flags"]["underused"], a["id"])):
            cost = len(rows[allocation["id"]]) + 1
            if cost > budget:
                break
            budget -= cost
            chosen.add(allocation["id"])
        table += [rows[a["id"]] for a in report["allocations"] if a["id"] in chosen]
        table.append("")
        if len(chosen) < len(report["allocations"]):
            table += [f"... dan {len(report['allocations']) - len(chosen)} alokasi lain (lihat `monitoring.html`).", ""]
    else:
        table += ["Tidak ada alokasi.", ""]
        uplinks = _uplink_table(report)
    table += [
        "Angka dalam Mbit/s, dihitung dari byte yang dilewatkan kelas tc (termasuk header Ethernet, sekitar 4-5% di atas "
        "laju data aplikasi). Rata-rata: selama seluruh pengamatan; puncak: selang dua sampel berturut-turut tertinggi.",
        "",
    ]
    tail = []
    if report["resets"]:
        tail += ["### Penghitung direset", "", "Kelas tc dibuat ulang selama pengamatan (penghitung turun); selang itu dihitung dari nol, tanpa laju negatif:", ""]
        for reset in report["resets"][:50]:
            who = f" ({md(reset['allocation'])})" if reset.get("allocation") else ""
            tail.append(f"- {md(reset['gateway'])} {md(reset['device'])} kelas {md(reset['classid'])}{who}: antara detik ke-{detik(reset['between'][0])} dan ke-{detik(reset['between'][1])}")
        if len(report["resets"]) > 50:
            tail.append(f"- ... dan {len(report['resets']) - 50} lagi (lihat `monitoring.json`)")
        tail.append("")
    tail += ["Grafik dan rincian lengkap: `monitoring.html`; data: `monitoring.json`.", ""]
    return "\n".join(head + table + uplinks + tail).rstrip("\n") + "\n"


def _row(allocation: dict) -> str:
    down, down_share = direction_cells(allocation.get("download"))
    up, up_share = direction_cells(allocation.get("upload"))
    cells = [md(allocation["id"]), md(allocation["agency"] or "-"), f"{md(allocation['gateway'])} / {md(allocation['uplink'])}", down, down_share, up, up_share, notes(allocation)]
    return "| " + " | ".join(cells) + " |"


def uplink_directions(report: dict):
    """(gateway name, uplink name, direction, its totals) for every uplink direction the report has."""
    for gateway in report["gateways"]:
        for uplink in gateway["uplinks"]:
            for name in DIRECTIONS:
                if uplink.get(name):
                    yield gateway["name"], uplink["name"], name, uplink[name]


def _uplink_table(report: dict) -> list[str]:
    lines = ["### Per uplink", ""]
    rows = [
        f"| {md(gateway)} / {md(uplink)} | {ARAH[name]} | {rate(u['capacity_kbit'])} | {rate(u['average_kbit'])} | {rate(u['peak_kbit'])} "
        f"| {percent(u['average_percent_of_capacity'])} | {rate(u['allocated_guaranteed_kbit'])} | {rate(u['unclassified_average_kbit'])} "
        f"| {count(u['bytes'])} | {count(u['packets'])} | {count(u['drops'])} | {count(u['overlimits'])} |"
        for gateway, uplink, name, u in uplink_directions(report)
    ]
    if not rows:
        return lines + ["Tidak ada uplink.", ""]
    lines += [
        "| Gateway / Uplink | Arah | Kapasitas | Rata-rata | Puncak | % kapasitas | Jaminan teralokasi | Tanpa alokasi (rata-rata) | Byte | Paket | Drop | Overlimit |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
    ]
    return lines
