"""The disposition of a merge as git trailers: written by `bandwidth record`, read by `bandwidth audit`.

One format for both places git can hold it: a note on the merge commit (refs/notes/bandwidth,
what the apply workflow writes) or the trailer block of the commit message itself (what a person
pastes from `bandwidth record --print` into a squash-merge message). For example:

    Bandwidth-Pull-Request: 42
    Bandwidth-Requested-By: budi-santoso
    Bandwidth-Requested-At: 2026-11-27T00:58:00Z
    Bandwidth-Opened-At: 2026-11-27T01:00:00Z
    Bandwidth-Approved-Commit: 3f2a...
    Bandwidth-Disposition: kasubag_tu sri-wahyuni-tu 2026-11-27T02:10:00Z
    Bandwidth-Disposition: administrator_tik rudi-hartono-tik 2026-11-27T03:00:00Z
    Bandwidth-Disposition-Missing: kasi_infrastruktur no approval yet
    Bandwidth-Checked-At: 2026-11-27T01:03:00Z
    Bandwidth-Availability-At: 2026-11-27T01:03:20Z
    Bandwidth-Merged-By: dewi-lestari-infra 2026-11-27T05:00:00Z
    Bandwidth-Applied: 2026-11-27T05:04:00Z success
    Bandwidth-Emergency: dewi-lestari-infra 2026-11-27T06:00:00Z gangguan layanan, disposisi menyusul
    Bandwidth-Previous-Record: 9c41...

Emergency: main applied by a member of the chain's last role without the chain's record (a dispatch of
the apply workflow with a reason): who, when, why. It covers its commit and every commit before it.

Letter: the Surat Permohonan (date, number) of the intake form a bot's pull request came from; the only
place a give-back's letter is kept (the file it names is removed).

Previous-Record: in a signed note, the nearest earlier commit of main's first-parent history whose record
verified when this one was signed (history.chain: a record deleted or replaced later breaks that link).

Requested-At (the intake issue opened), Opened-At (the pull request opened), Checked-At (`bandwidth
check` ran on the approved head) and Availability-At (its form last posted) came later: every key is
optional, and a record without them still reads.

Everything read back is checked against a strict pattern: a trailer that does not match is
reported as unreadable instead of being trusted or shown raw.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bandwidth.history import signature

PREFIX = "Bandwidth-"
LOGIN = r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}(?:\[bot\])?"
# ASCII digits only, at most nine of a fraction: what schemas/report.schema.json takes (the report's timeline carries these times).
TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
ROLE = r"[a-z][a-z0-9_-]{0,39}"
_PATTERNS = {
    "Pull-Request": re.compile(r"#?([0-9]{1,9})"),
    "Requested-By": re.compile(f"({LOGIN})"),
    "Requested-At": re.compile(f"({TIME})"),
    "Opened-At": re.compile(f"({TIME})"),
    "Checked-At": re.compile(f"({TIME})"),
    "Availability-At": re.compile(f"({TIME})"),
    "Approved-Commit": re.compile(r"([0-9a-f]{40}|[0-9a-f]{64})"),
    "Disposition": re.compile(f"({ROLE}) ({LOGIN}) ({TIME})"),
    "Disposition-Missing": re.compile(f"({ROLE}) ([ -~]{{0,120}})"),
    "Merged-By": re.compile(f"({LOGIN})(?: ({TIME}))?"),
    "Applied": re.compile(f"({TIME}) (success|failure|cancelled|skipped)"),
    "Emergency": re.compile(f"({LOGIN}) ({TIME}) ([ -~]{{1,200}})"),
    "Previous-Record": re.compile(r"([0-9a-f]{40}|[0-9a-f]{64})"),
    "Letter": re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}) ([!-~](?:[ -~]{0,98}[!-~])?)"),
}
# Disposition-Missing entries that name no role of the chain: a direct push, and a member's request for changes.
NO_PULL_REQUEST, CHANGES_REQUESTED = "pull-request", "changes-requested"
# The groups of each key that hold a time.
_TIMES = {"Disposition": (3,), "Merged-By": (2,), "Applied": (1,), "Emergency": (2,), "Requested-At": (1,), "Opened-At": (1,), "Checked-At": (1,), "Availability-At": (1,)}
_TRAILER = re.compile(rf"^{PREFIX}([A-Za-z-]+):[ \t]*(.*?)[ \t]*$")


def valid(key: str, value: str) -> bool:
    """Whether `value` reads back as the trailer `key` (what we write, we must be able to read back)."""
    return _match(key, value) is not None


def is_time(text: str) -> bool:
    """TIME, and a date and time the calendar knows (not 2026-13-45T25:00:00Z)."""
    if not re.fullmatch(TIME, text):
        return False
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _match(key: str, value: str) -> re.Match | None:
    """The parts of a trailer's value; None when it does not match its key's pattern or a time is not on the calendar."""
    pattern = _PATTERNS.get(key)
    parts = pattern.fullmatch(value) if pattern else None
    if parts is None or any(parts.group(i) is not None and not is_time(parts.group(i)) for i in _TIMES.get(key, ())):
        return None
    if key == "Letter":
        try:
            dt.date.fromisoformat(parts.group(1))
        except ValueError:
            return None
    return parts


@dataclass
class Approval:
    role: str
    login: str
    time: str


@dataclass
class Disposition:
    pull_request: int | None = None
    requested_by: str | None = None
    requested_at: str | None = None  # the intake issue opened (SOP step 1), for a pull request the intake workflow opened
    opened_at: str | None = None  # the pull request opened
    approved_commit: str | None = None
    approvals: list[Approval] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (role, why)
    checked_at: str | None = None  # `bandwidth check` ran on the approved head (SOP step 5), from the availability comment
    availability_at: str | None = None  # the availability form last posted or updated on the pull request (SOP step 6)
    merged_by: str | None = None
    merged_at: str | None = None
    applied_at: str | None = None
    applied: str | None = None  # success, failure, ...
    emergency: tuple[str, str, str] | None = None  # (login, time, reason): applied without the chain, by its last role
    previous_record: str | None = None  # the nearest earlier commit whose record verified when this one was signed
    letter: tuple[str, str] | None = None  # (date, number) of the Surat Permohonan the intake form named: a removal's letter is in no file
    unreadable: list[str] = field(default_factory=list)  # trailer keys that did not match their pattern

    @property
    def complete(self) -> bool:
        return bool(self.approvals) and not self.missing

    def trailers(self) -> str:
        def optional(*pairs: tuple[str, object]) -> list[str]:
            return [f"{key}: {value}" for key, value in pairs if value is not None and value != ""]

        lines = optional(
            ("Pull-Request", self.pull_request), ("Requested-By", self.requested_by), ("Requested-At", self.requested_at),
            ("Opened-At", self.opened_at), ("Approved-Commit", self.approved_commit),
        )  # fmt: skip
        lines += [f"Disposition: {a.role} {a.login} {a.time}" for a in self.approvals]
        lines += [f"Disposition-Missing: {role} {why}" for role, why in self.missing]
        lines += optional(
            ("Checked-At", self.checked_at), ("Availability-At", self.availability_at),
            ("Merged-By", self.merged_by and self.merged_by + (f" {self.merged_at}" if self.merged_at else "")),
            ("Applied", self.applied_at and f"{self.applied_at} {self.applied or 'success'}"),
            ("Emergency", self.emergency and " ".join(self.emergency)), ("Letter", self.letter and " ".join(self.letter)),
            ("Previous-Record", self.previous_record),
        )  # fmt: skip
        for line in lines:  # what we write, we must be able to read back
            key, _, value = line.partition(": ")
            if not _match(key, value):
                raise ValueError(f"{PREFIX}{line!r}: not a valid trailer")
        return "".join(f"{PREFIX}{line}\n" for line in lines)

    def as_json(self) -> dict:
        return {
            "pull_request": self.pull_request,
            "requested_by": self.requested_by,
            "requested_at": self.requested_at,
            "opened_at": self.opened_at,
            "approved_commit": self.approved_commit,
            "approvers": [{"role": a.role, "login": a.login, "time": a.time} for a in self.approvals],
            "missing": [{"role": role, "reason": why} for role, why in self.missing],
            "checked_at": self.checked_at,
            "availability_at": self.availability_at,
            "merged_by": self.merged_by,
            "merged_at": self.merged_at,
            "applied_at": self.applied_at,
            "applied": self.applied,
            "emergency": dict(zip(("login", "time", "reason"), self.emergency, strict=True)) if self.emergency else None,
            "previous_record": self.previous_record,
            "letter": {"date": self.letter[0], "number": self.letter[1]} if self.letter else None,
        }


def parse(message: str) -> Disposition | None:  # noqa: PLR0912 - one branch per trailer key, each checked against its own pattern
    """The Bandwidth-* trailers of a note (its signature, if any, left aside: history.signature says whether it holds) or of a
    commit message's last paragraph; None when there are none."""
    message = signature.split(message)[0]
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", message.strip()) if p.strip()]
    if not paragraphs:
        return None
    block = paragraphs[-1].splitlines()
    found = [m for m in map(_TRAILER.match, block) if m]
    if not found:
        return None
    record = Disposition()
    for match in found:
        key, value = match.group(1), match.group(2)
        parts = _match(key, value)
        if parts is None:
            record.unreadable.append(key[:40])
            continue
        if key == "Pull-Request":
            record.pull_request = int(parts.group(1))
        elif key == "Requested-By":
            record.requested_by = parts.group(1)
        elif key == "Requested-At":
            record.requested_at = parts.group(1)
        elif key == "Opened-At":
            record.opened_at = parts.group(1)
        elif key == "Checked-At":
            record.checked_at = parts.group(1)
        elif key == "Availability-At":
            record.availability_at = parts.group(1)
        elif key == "Approved-Commit":
            record.approved_commit = parts.group(1)
        elif key == "Disposition":
            record.approvals.append(Approval(*parts.groups()))
        elif key == "Disposition-Missing":
            record.missing.append((parts.group(1), parts.group(2)))
        elif key == "Merged-By":
            record.merged_by, record.merged_at = parts.groups()
        elif key == "Applied":
            record.applied_at, record.applied = parts.groups()
        elif key == "Emergency":
            record.emergency = parts.groups()
        elif key == "Previous-Record":
            record.previous_record = parts.group(1)
        elif key == "Letter":
            record.letter = (parts.group(1), parts.group(2))
    return record
