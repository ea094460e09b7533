"""`bandwidth audit [ID]`: who asked for what, who approved it, when it landed: from git alone."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys

from bandwidth import gitread
from bandwidth.errors import UsageError
from bandwidth.escape import printable
from bandwidth.history import chain, history
from bandwidth.textid import WITA

# What the text format shows of a created allocation (JSON and CSV carry every field).
SUMMARY_FIELDS = ("(file)", "agency", "letter.number", "uplink", "subnets", "download.guaranteed_mbps", "download.max_mbps", "upload.guaranteed_mbps", "upload.max_mbps", "start", "end")


def run(args) -> int:
    since = None
    if args.since:
        try:
            since = dt.date.fromisoformat(args.since)
        except ValueError:
            raise UsageError(f"--since {args.since!r}: not a date (YYYY-MM-DD)") from None
    walked = history.walk(args.repo, args.ref)
    events = [e for e in walked.events if (args.id is None or args.id in e.ids) and (since is None or e.date.astimezone(WITA).date() >= since)]
    if walked.shallow:
        print("bandwidth: warning: this clone is shallow: events before its oldest commit are missing (git fetch --unshallow)", file=sys.stderr)
    if walked.events and not any(e.record for e in walked.events):
        print(f"bandwidth: warning: no dispositions recorded ({gitread.NOTES_REF} missing? git fetch origin {gitread.NOTES_REF}:{gitread.NOTES_REF})", file=sys.stderr)
    first_parent = gitread.text(gitread.git(args.repo, "rev-list", "--first-parent", walked.head)).split()
    broken = chain.breaks(first_parent, walked.notes, walked.verifier) if walked.verifier else []
    for line in chain.text(broken):
        print(f"bandwidth: warning: {line} (a record deleted or replaced on the origin)", file=sys.stderr)
    for sha in walked.unreadable_records:
        print(f"bandwidth: warning: commit {sha[:12]}: unreadable Bandwidth-* trailers ignored", file=sys.stderr)
    FORMATS[args.format](walked, events)
    if args.id is not None and not events:
        print(f"bandwidth: no events for {printable(args.id)}", file=sys.stderr)
        return 1
    return 0


def _value(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _approvers(event: history.Event) -> str:
    record = event.record
    if record is None:
        named = f"PR #{event.pull_request} (from the merge message), " if event.pull_request is not None else ""
        return f"{named}no disposition recorded"
    parts = [f"PR #{event.pull_request}"] if event.pull_request is not None else []
    parts += [f"{a.role}={a.login}" for a in record.approvals]
    parts += [f"MISSING {role} ({why})" for role, why in record.missing]
    if record.applied_at:
        parts.append(f"applied {record.applied_at} {record.applied}")
    # Only a note the workflow signed counts: trailers in a commit message, or a note anyone wrote, are shown as unverified.
    parts.append("verified" if event.verified else "UNVERIFIED (not a note signed by the workflow)")
    return ", ".join(parts)


def _letter_and_requester(event: history.Event) -> str:
    """Each event cites its own Surat Permohonan and names who asked (a change brings a new letter)."""
    letter, requester = event.letter, event.requester
    cited = f"letter {letter['number'] or '-'}" + (f" of {letter['date']}" if letter["date"] else "")
    who = requester["name"] or "-"
    if requester["github"]:
        who += f" (@{requester['github']})"
    return f"{cited}, requester {who}"


def text(walked: history.History, events: list[history.Event], out=None) -> None:
    out = out or sys.stdout
    for event in events:
        when = event.date.astimezone(WITA).strftime("%Y-%m-%d %H:%M WITA")
        out.write(printable(f"{when}  {event.id}  {event.action}  {event.commit[:12]}  {event.author}") + "\n")
        out.write(printable(f"    {_approvers(event)}") + "\n")
        out.write(printable(f"    {_letter_and_requester(event)}") + "\n")
        if event.action == "changed":
            shown = [f"{c['field']}: {_value(c['old'])} -> {_value(c['new'])}" for c in event.changes]
        elif event.action == "created":
            shown = [f"{c['field']}: {_value(c['new'])}" for c in event.changes if c["field"] in SUMMARY_FIELDS]
        else:
            shown = []  # removed: the id and the commit say it
        for line in shown:
            out.write(printable(f"    {line}") + "\n")
    out.write(f"{len(events)} event(s) up to {walked.head[:12]}\n")


def as_json(walked: history.History, events: list[history.Event], out=None) -> None:
    out = out or sys.stdout
    # One event per line: readable, greppable, and json's C encoder (indent= would use the Python one).
    lines = [json.dumps(e.as_json(), ensure_ascii=False) for e in events]
    out.write(f'{{"head": "{walked.head}", "shallow": {json.dumps(walked.shallow)}, "events": [\n' + ",\n".join(lines) + "\n]}\n")


def _cell(value: str) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection): such cells get a leading quote."""
    value = printable(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def as_csv(walked: history.History, events: list[history.Event], out=None) -> None:
    writer = csv.writer(out or sys.stdout, lineterminator="\n")
    writer.writerow(["date", "id", "action", "commit", "author", "pull_request", "approvers", "missing", "applied_at", "verified", "path", "changes", "letter", "requester"])
    for event in events:
        record = event.record
        writer.writerow(
            _cell(str(v))
            for v in (
                event.date.isoformat(), event.id, event.action, event.commit, event.author,
                "" if event.pull_request is None else event.pull_request,
                "; ".join(f"{a.role}={a.login}@{a.time}" for a in record.approvals) if record else "",
                "; ".join(f"{role}: {why}" for role, why in record.missing) if record else "",
                (record.applied_at or "") if record else "", "yes" if event.verified else "no", event.path,
                "; ".join(f"{c['field']}: {_value(c['old'])} -> {_value(c['new'])}" for c in event.changes),
                " ".join(x for x in (event.letter["number"], event.letter["date"]) if x),
                " ".join(x for x in (event.requester["name"], event.requester["github"] and f"@{event.requester['github']}") if x),
            )
        )  # fmt: skip


FORMATS = {"text": text, "json": as_json, "csv": as_csv}
