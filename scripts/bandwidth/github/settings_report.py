"""The declaration .github/required-settings.yml, and what `bandwidth settings-check` says of the settings."""

from __future__ import annotations

from pathlib import Path

from bandwidth.allocations import validation, yamlsafe
from bandwidth.errors import UsageError
from bandwidth.escape import code_span
from bandwidth.escape import markdown as md
from bandwidth.github.settings import Result

SCHEMA = "required-settings.schema.json"
TITLE = "Pengaturan keamanan repositori melemah"


def load(path: Path) -> dict:
    """The declaration, validated against schemas/required-settings.schema.json; a UsageError names file and line."""
    try:
        doc = yamlsafe.load(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except yamlsafe.YamlError as exc:
        raise UsageError(f"{path}:{exc.line}: {exc.message}") from None
    problems = [*doc.problems, *validation.validate(SCHEMA, doc.value, doc.line)]
    if problems:
        line, message = problems[0]
        raise UsageError(f"{path}:{line}: {message}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return doc.value


def text(repo: str, result: Result) -> str:
    """For the log: one line per weaker setting, then what could not be read and the permission it needs."""
    lines = [f"WEAKER {f.key}: {f.message}" for f in result.findings]
    lines += [f"UNREADABLE {u.endpoint}" + (f" (HTTP {u.status})" if u.status else "") + f": the token needs {u.permission}" for u in result.unreadable]
    if not lines:
        return f"{repo}: every setting of .github/required-settings.yml holds\n"
    head = f"{repo}: {len(result.findings)} setting(s) weaker than .github/required-settings.yml"
    if result.unreadable:
        head += f", {len(result.unreadable)} not readable with this token"
    return "\n".join([head, *lines]) + "\n"


def issue(repo: str, result: Result) -> str:
    """The body of the issue TITLE, in Bahasa Indonesia: each weakened setting, and what to do."""
    out = [
        f"Pemeriksaan harian `bandwidth settings-check` menemukan bahwa pengaturan GitHub untuk **{md(repo)}** lebih lemah daripada "
        "yang ditetapkan di `.github/required-settings.yml`. Rantai disposisi (Kasubag TU → Pejabat Administrator Bidang TIK → Kasi "
        "Infrastruktur TIK) hanya mengikat bila pengaturan ini berlaku: tanpa itu, perubahan bandwidth dapat sampai ke gateway tanpa disposisi.",
        "",
    ]
    if result.findings:
        out += ["**Pengaturan yang melemah:**", ""] + [f"- {code_span(f.key)}: {md(f.pesan)}" for f in result.findings] + [""]
    if result.unreadable:
        out += ["**Tidak dapat dibaca dengan token pemeriksa** (izin yang kurang):", ""]
        out += [f"- {code_span(u.endpoint)}: {md(u.permission)}" for u in result.unreadable] + [""]
    out += [
        "Tindak lanjut: administrator repositori mengembalikan pengaturan sesuai docs/repository-setup.md (dan panduan tim teknis, docs/panduan/tim-teknis.md), lalu "
        "menjalankan `bandwidth settings-check` kembali. Issue ini diperbarui oleh setiap pemeriksaan yang masih menemukan kelemahan."
    ]
    return "\n".join(out) + "\n"
