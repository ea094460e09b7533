"""The signed records as a chain: a rewritten refs/notes/bandwidth is detected, not silently taken.

Rules protect branches and tags, not refs/notes/bandwidth: whoever can push can delete or replace a note on
the origin, and a runner's fresh clone has no earlier copy to notice it by. So each note the workflow signs
names (Bandwidth-Previous-Record) the nearest earlier commit of main's first-parent history whose record
verified when it was signed. A record deleted, or replaced by one that does not verify, breaks the link from
the next signed record: `bandwidth audit` reports every broken link, and `bandwidth gate` refuses while one
is in what it judges. (Deleting the newest record breaks no link, but then what it recorded reads as missing,
which the gate refuses by itself.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bandwidth import gitread
from bandwidth.history import disposition, signature


@dataclass
class Break:
    commit: str  # the commit whose verified record names `previous`
    previous: str  # the commit whose record is gone or no longer verifies


def previous_verified(root: Path, commit: str, notes: dict[str, str], verifier: signature.Verifier) -> str | None:
    """The nearest commit before `commit` on its first-parent history whose note verifies, else None."""
    parents = gitread.text(gitread.git(root, "rev-list", "--first-parent", "--skip=1", commit, check=False)).split()
    for sha in parents:
        note = notes.get(sha)
        if note is not None and verifier.verified(sha, note):
            return sha
    return None


def breaks(commits: list[str], notes: dict[str, str], verifier: signature.Verifier) -> list[Break]:
    """The links broken among `commits`: each verified record there whose Previous-Record no longer verifies."""
    found = []
    for sha in commits:
        note = notes.get(sha)
        if note is None or not verifier.verified(sha, note):
            continue
        record = disposition.parse(note)
        previous = record.previous_record if record else None
        if previous and not (previous in notes and verifier.verified(previous, notes[previous])):
            found.append(Break(sha, previous))
    return found


def text(found: list[Break]) -> list[str]:
    """One English line per broken link, for a log."""
    return [f"{gitread.NOTES_REF} was rewritten: the record on {b.previous[:12]}, named by the signed record on {b.commit[:12]}, is gone or no longer verifies" for b in found]
