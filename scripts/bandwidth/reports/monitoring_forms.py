"""From the monitoring report to a request: a link per candidate that opens the right issue form, prefilled.

GitHub fills an issue form's fields from the URL's query: `issues/new?template=<file>&title=...&<field id>=<value>`.
A candidate for more bandwidth (at its ceiling) gets the form Perubahan Bandwidth, a candidate to give back
(unused) the form Pengembalian / Pencabutan Bandwidth, each with the allocation's id and agency and the reason
filled in. The agency still writes its letter: the form asks for it. candidates.md is the body of the monthly
issue for the chain's last role (the scheduled workflow opens it, or edits it: one per month).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from bandwidth.errors import UsageError
from bandwidth.escape import markdown as md
from bandwidth.reports.monitoring_md import FORM_NAMES, MAX_LISTED, form_lines, percent
from bandwidth.textid import BULAN

FORMS = {"at_ceiling": ("perubahan-bandwidth", FORM_NAMES["at_ceiling"]), "underused": ("pengembalian-bandwidth", FORM_NAMES["underused"])}
REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
SERVER = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~/-]*)?")


def month_title(report: dict) -> str:
    """The monthly issue's title, from the report's day: 'Kandidat perubahan alokasi bandwidth, Desember 2026'."""
    day = report.get("today") or report["finished"][:10]
    year, month = int(day[:4]), int(day[5:7])
    return f"Kandidat perubahan alokasi bandwidth, {BULAN[month - 1]} {year}"


def _reason(key: str, report: dict) -> str:
    thresholds = report["thresholds"]
    if key == "at_ceiling":
        return f"Menurut Laporan Monitoring Bandwidth, pemakaian rata-rata mencapai {percent(thresholds['at_ceiling_percent'])} atau lebih dari maksimum (kandidat penambahan)."
    return f"Menurut Laporan Monitoring Bandwidth, pemakaian rata-rata di bawah {percent(thresholds['underused_percent'])} dari jaminan (kandidat pengembalian)."


def form_urls(report: dict, server: str, repo: str) -> dict[str, str]:
    """id -> the prefilled form's URL, for every candidate."""
    if not REPO.fullmatch(repo) or not SERVER.fullmatch(server):
        return {}
    agencies = {a["id"]: a.get("agency") or "" for a in report["allocations"]}
    urls = {}
    for key, (form, name) in FORMS.items():
        for request_id in report["candidates"][key]:
            query = {"template": f"{form}.yml", "title": f"{name}: {request_id}", "id": request_id, "agency": agencies.get(request_id, ""), "reason": _reason(key, report)}
            urls[request_id] = f"{server.rstrip('/')}/{repo}/issues/new?{urlencode(query)}"
    return urls


def issue_body(report: dict, title: str, members: list[str]) -> str:
    """The monthly issue for the chain's last role: the candidates of the latest report, each with its form's link."""
    mentions = " ".join(f"@{m}" for m in members if re.fullmatch(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}", m))
    lines = [
        "Daftar kandidat dari Laporan Monitoring Bandwidth terbaru (diperbarui setiap kali monitoring terjadwal berjalan bulan ini).",
        "",
        f"Tindak lanjut ({md(title) or 'pejabat terakhir rantai disposisi'}{': ' + mentions if mentions else ''}): sampaikan kepada instansi "
        "yang bersangkutan; instansi mengajukan perubahan atau pengembalian lewat formulir di bawah, dengan Surat Permohonan.",
        "",
    ]
    for key, (_form, name) in FORMS.items():
        ids = report["candidates"][key]
        heading = "Kandidat penambahan" if key == "at_ceiling" else "Kandidat pengembalian"
        lines += [f"### {heading} ({len(ids)})", ""]
        lines += [line for line in form_lines(report) if f"formulir {name}]" in line] or ["Tidak ada."]
        if len(ids) > MAX_LISTED:
            lines.append(f"- ... dan {len(ids) - MAX_LISTED} lainnya (lihat monitoring.html)")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def check_github(repo: str | None, server: str) -> None:
    """--github-repo and --github-server of `bandwidth monitor`, before any link is written with them."""
    if repo and not REPO.fullmatch(repo):
        raise UsageError(f"--github-repo {repo!r}: expected OWNER/NAME")
    if not SERVER.fullmatch(server):
        raise UsageError(f"--github-server {server!r}: expected a URL such as https://github.com")
