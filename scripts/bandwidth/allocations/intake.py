"""`bandwidth from-issue`: a submitted issue form (SOP step 1) becomes a request file, or a change to one.

The forms are `.github/ISSUE_TEMPLATE/<form>.yml`: permohonan-bandwidth (a new allocation, here) and
perubahan-, perpanjangan- and pengembalian-bandwidth (an existing one: intake_change). GitHub writes the
answers into the issue body as `### <label>` sections. Each answer is checked as the file would be: a bad
answer gets a message in Bahasa Indonesia naming the field, never a broken file. The message is
posted as an issue comment: what it quotes from the form or the check stands in code spans, so it
reads the same on the page and in the notification e-mail (no HTML entities such as `&#58;`).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from bandwidth.allocations import intake_change
from bandwidth.allocations.loader import REQUEST_SUFFIX
from bandwidth.errors import UsageError
from bandwidth.escape import code_span, plain

NEW_FORM = "permohonan-bandwidth"
FORMS = (NEW_FORM, *intake_change.HANDLERS)  # the form's name is its file's and its label's
# The fields each change form must have, beside intake_change.COMMON.
REQUIRED = {"perubahan-bandwidth": ("reason",), "perpanjangan-bandwidth": ("end", "reason"), "pengembalian-bandwidth": ("how", "reason")}
NO_RESPONSE = "_No response_"
# Form field id -> the key of the request file it fills (for naming the field in messages).
KEYS = {
    "agency": "agency", "letter_number": "letter", "letter_date": "letter", "contact_name": "contact", "contact_email": "contact",
    "gateway": "gateway", "uplink": "uplink", "subnets": "subnets", "download_guaranteed": "download", "download_max": "download",
    "upload_guaranteed": "upload", "upload_max": "upload", "priority": "priority", "start": "start", "end": "end", "purpose": "purpose",
}  # fmt: skip


def form_path(name: str) -> Path:
    return Path(f".github/ISSUE_TEMPLATE/{name}.yml")


def form_labels(repo: Path, name: str = NEW_FORM) -> dict[str, str]:
    """label -> field id, from the issue form itself."""
    try:
        form = yaml.safe_load((repo / form_path(name)).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{form_path(name)}: cannot read the issue form: {exc}") from None
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
    labels = form_labels(repo, args.form)
    names = {v: k for k, v in labels.items()}
    body = Path(args.body_file).read_text(encoding="utf-8") if args.body_file != "-" else sys.stdin.read()
    answers = parse_body(body, labels)
    if args.form != NEW_FORM:
        return _change(args, answers, names)
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
        return _refuse(_field_messages(mine, content, names))
    print(f"write {rel}")
    return 0


def _change(args, answers: dict[str, str], names: dict[str, str]) -> int:
    """A form about an existing allocation: the file written or removed, checked; or the message."""
    from bandwidth.allocations.checker import CheckOptions, local_today, run_check

    missing = [f for f in (*intake_change.COMMON, *REQUIRED[args.form]) if f not in answers]
    if missing:
        return _refuse([f"Kolom «{plain(names.get(f, f))}» belum diisi." for f in missing])
    today = args.today or local_today()
    try:
        outcome = intake_change.apply(args.repo, args.form, answers, names, args.github, today)
    except intake_change.Refused as refused:
        return _refuse(refused.messages)
    if outcome.write is None:
        (args.repo / outcome.remove).unlink()
        print(f"remove {outcome.remove}")
        return 0
    content = outcome.values["content"]
    removed = (args.repo / outcome.remove).read_bytes() if outcome.remove else None
    target = args.repo / outcome.write
    before = target.read_bytes() if target.exists() else None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    if outcome.remove:
        (args.repo / outcome.remove).unlink()
    mine = [p for p in run_check(CheckOptions(root=args.repo, today=today)).errors if p.path == outcome.write]
    if mine:  # put the tree back as it was: the message says why
        if before is None:
            target.unlink()
            if not any(target.parent.iterdir()):
                target.parent.rmdir()
        else:
            target.write_bytes(before)
        if removed is not None:
            (args.repo / outcome.remove).write_bytes(removed)
        return _refuse(_field_messages(mine, content, names))
    if outcome.remove:
        print(f"remove {outcome.remove}")
    print(f"write {outcome.write}")
    return 0


def _field_messages(problems, content: str, names: dict[str, str]) -> list[str]:
    """One message per problem of the written file, naming the form's field of its line."""
    key_of_line = {n: line.split(":", 1)[0] for n, line in enumerate(content.splitlines(), 1)}
    messages = []
    for problem in problems:
        key = key_of_line.get(problem.line, "")
        fields = [names[f] for f, k in KEYS.items() if k == key and f in names] or [key]
        messages.append(f"Kolom «{plain(' / '.join(fields))}» tidak valid: {code_span(problem.message)}")
    return messages


def _refuse(messages: list[str]) -> int:
    """The comment for the requester (Markdown, Bahasa Indonesia) on standard output; exit 1.
    Each message is Markdown already: our words, labels through plain(), quoted values in code spans."""
    print("Permohonan belum dapat diproses. Mohon perbaiki isian berikut lalu sunting issue ini:\n")
    for message in messages:
        print(f"- {message}")
    return 1
