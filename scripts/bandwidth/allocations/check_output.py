"""Print a CheckResult as text, JSON or GitHub workflow commands."""

from __future__ import annotations

import json
import sys

from bandwidth.escape import github_data, github_property, printable
from bandwidth.model import CheckResult


def summary_line(result: CheckResult) -> str:
    gateways = len(result.inventory.gateways) if result.inventory else 0
    return f"{len(result.errors)} error(s), {len(result.warnings)} warning(s) in {result.files_checked} request file(s); {len(result.allocations)} valid allocation(s) on {gateways} gateway(s)"


def text(result: CheckResult, out=sys.stdout) -> None:
    for p in result.problems:
        out.write(f"{printable(p.path)}:{p.line}: {p.severity}: {printable(p.message)}\n")
    out.write(summary_line(result) + "\n")


def github(result: CheckResult, out=sys.stdout) -> None:
    for p in result.problems:
        kind = "error" if p.severity == "error" else "warning"
        out.write(f"::{kind} file={github_property(p.path)},line={p.line},title={github_property('bandwidth check: ' + p.rule)}::{github_data(p.message)}\n")
    out.write(summary_line(result) + "\n")


def as_json(result: CheckResult, out=sys.stdout) -> None:
    document = {
        "ok": not result.errors,
        "today": result.today.isoformat(),
        "base": result.base,
        "files_checked": result.files_checked,
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "problems": [{"path": p.path, "line": p.line, "severity": p.severity, "rule": p.rule, "message": p.message} for p in result.problems],
        "allocations": [{"id": a.id, "path": a.path, "gateway": a.gateway, "uplink": a.uplink, "change": a.change} for a in sorted(result.allocations, key=lambda a: a.id)],
        "removed": result.removed,
    }
    json.dump(document, out, indent=2, ensure_ascii=True)
    out.write("\n")


FORMATS = {"text": text, "json": as_json, "github": github}
