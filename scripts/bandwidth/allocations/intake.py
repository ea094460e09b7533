"""`bandwidth from-issue`: a submitted issue form (SOP step 1) becomes a request file.

The form is `.github/ISSUE_TEMPLATE/permohonan-bandwidth.yml`; GitHub writes its answers into
the issue body as `### <label>` sections. Each answer is checked as the file would be: a bad
answer gets a message in Bahasa Indonesia naming the field, never a broken file. The message is
posted as an issue comment: what it quotes from the form or the check stands in code spans, so it
reads the same on the page and in the notification e-mail (no HTML entities such as `&#58;`).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from bandwidth.allocations.loader import REQUEST_SUFFIX
from bandwidth.errors import UsageError
from bandwidth.escape import code_span, plain

FORM = Path(".github/ISSUE_TEMPLATE/permohonan-bandwidth.yml")
NO_RESPONSE = "_No response_"
# Form field id -> the key of the request file it fills (for naming the field in messages).
KEYS = {
    "agency": "agency", "letter_number": "letter", "letter_date": "letter", "contact_name": "contact", "contact_email": "contact",
    "gateway": "gateway", "uplink": "uplink", "subnets": "subnets", "download_guaranteed": "download", "download_max": "download",
    "upload_guaranteed": "upload", "upload_max": "upload", "priority": "priority", "start": "start", "end": "end", "purpose": "purpose",
}  # fmt: skip


def form_labels(repo: Path) -> dict[str, str]:
    """label -> field id, from the issue form itself."""
    try:
        form = yaml.safe_load((repo / FORM).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{FORM}: cannot read the issue form: {exc}") from None
    return {item["attributes"]["label"].strip(): item["id"] for item in form.get("body", []) if item.get("id") and "attributes" in item}


def parse_body(body: str, labels: dict[str, str]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for match in re.finditer(r"^### (.+?)\s*\n(.*?)(?=^### |\Z)", body, re.M | re.S):
        field = labels.get(match.group(1).strip())
        value = match.group(2).strip()
        if field and value and value != NO_RESPONSE:
            answers[field] = value
    return answers


def run(args) -> int:
    from bandwidth.allocations import scaffold
    from bandwidth.allocations.checker import CheckOptions, local_today, run_check

    repo = args.repo
    labels = form_labels(repo)
    names = {v: k for k, v in labels.items()}
    body = Path(args.body_file).read_text(encoding="utf-8") if args.body_file != "-" else sys.stdin.read()
    answers = parse_body(body, labels)
    problems: list[str] = []
    required = [f for f in KEYS if f != "end"]
    for field in required:
        if field not in answers:
            problems.append(f"Kolom «{plain(names.get(field, field))}» belum diisi.")
    if problems:
        return _refuse(problems)
    values = {
        "agency": answers["agency"], "letter_number": answers["letter_number"], "letter_date": answers["letter_date"],
        "contact_name": answers["contact_name"], "contact_email": answers["contact_email"], "github": args.github,
        "gateway": answers["gateway"], "uplink": answers["uplink"],
        "subnet": [s for s in re.split(r"[\s,]+", answers["subnets"]) if s],
        "download": f"{answers['download_guaranteed']}:{answers['download_max']}".replace(",", "."),
        "upload": f"{answers['upload_guaranteed']}:{answers['upload_max']}".replace(",", "."),
        "priority": answers["priority"], "start": answers["start"], "end": answers.get("end"), "purpose": answers["purpose"],
    }  # fmt: skip
    if not re.fullmatch(r"[0-7]", values["priority"].split()[0] if values["priority"] else ""):
        return _refuse([f"Kolom «{plain(names.get('priority', 'priority'))}» harus angka 0 sampai 7."])
    values["priority"] = values["priority"].split()[0]
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", values["gateway"]):
        return _refuse([f"Kolom «{plain(names.get('gateway', 'gateway'))}» tidak dikenal."])
    today = args.today or local_today()
    request_id = scaffold.next_id(repo, today.year)
    try:
        content = scaffold.render(values, request_id)
    except UsageError as exc:
        field = "download_guaranteed" if "--download" in str(exc) else "upload_guaranteed"
        return _refuse([f"Kolom «{plain(names.get(field, field))}» tidak valid: isi angka Mbit/s, paling banyak 3 desimal."])
    rel = f"allocations/{values['gateway']}/{request_id}{REQUEST_SUFFIX}"
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(content)
    result = run_check(CheckOptions(root=repo, today=today))
    mine = [p for p in result.errors if p.path == rel]
    if mine:
        path.unlink()
        if not any(path.parent.iterdir()):
            path.parent.rmdir()
        key_of_line = {n: line.split(":", 1)[0] for n, line in enumerate(content.splitlines(), 1)}
        messages = []
        for problem in mine:
            key = key_of_line.get(problem.line, "")
            fields = [names.get(f, f) for f, k in KEYS.items() if k == key] or [key]
            messages.append(f"Kolom «{plain(' / '.join(fields))}» tidak valid: {code_span(problem.message)}")
        return _refuse(messages)
    print(rel)
    return 0


def _refuse(messages: list[str]) -> int:
    """The comment for the requester (Markdown, Bahasa Indonesia) on standard output; exit 1.
    Each message is Markdown already: our words, labels through plain(), quoted values in code spans."""
    print("Permohonan belum dapat diproses. Mohon perbaiki isian berikut lalu sunting issue ini:\n")
    for message in messages:
        print(f"- {message}")
    return 1
