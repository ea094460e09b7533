"""Every file of the completion report, rendered before the first is written."""

from __future__ import annotations

import json
from pathlib import Path

from bandwidth.reports import report_docx, report_html
from bandwidth.reports.report_data import validate
from bandwidth.reports.report_markdown import render_markdown
from bandwidth.reports.report_text import by_id

# --- all files ----------------------------------------------------------------------------------------------------------


def docx_name(allocation: dict) -> str:
    return f"Laporan_Penyelesaian_Tugas_{allocation['id']}.docx"


def write_all(report: dict, out_dir: Path) -> list[Path]:
    """Validate the report and write report.json, report.md, report.html and a DOCX letter per changed or removed allocation.

    Everything is rendered before the first file is written: an invalid report leaves out_dir untouched.
    """
    data = validate(report)
    files: list[tuple[str, bytes]] = [
        ("report.json", (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")),
        ("report.md", render_markdown(data).encode("utf-8")),
        ("report.html", report_html.render(data).encode("utf-8")),
    ]
    for allocation in by_id(data["allocations"]):
        if allocation.get("changed"):
            files.append((docx_name(allocation), report_docx.render(data, allocation)))
    for item in data.get("removed") or []:  # given back: the letter says it was removed
        files.append((docx_name(item), report_docx.render_removed(data, item)))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files:
        path = out_dir / name
        path.write_bytes(content)
        written.append(path)
    return written
