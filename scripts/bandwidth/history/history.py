"""Each allocation's life on main, from git history alone: created, changed, removed.

Main's first-parent history is what reached the network: every commit on it is one merge (or a
direct push), diffed against the main it landed on, with renames followed. The request files of
each side are parsed with the same hostile-input reader as `bandwidth check`; the fields that
differ are the change. Who: the author of the change (for a merge commit, the author of the last
commit of the merged branch that touched the file); the approvers: the disposition recorded for
the commit by `bandwidth record` (a note), or else trailers in its message.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from bandwidth import gitread
from bandwidth.allocations import yamlsafe
from bandwidth.allocations.loader import REQUEST_SUFFIX
from bandwidth.errors import UsageError
from bandwidth.escape import printable
from bandwidth.history import disposition, signature

FOLDER = "allocations"
# GitHub's default messages: "Merge pull request #12 from owner/branch" and, for squash merges, "Title (#12)".
GITHUB_MERGE_SUBJECT = re.compile(r"Merge pull request #(\d{1,9}) from \S+|.*\(#(\d{1,9})\)")


@dataclass
class FileChange:
    """One file of one commit's diff: None on the side where it does not exist."""

    old_path: str | None
    new_path: str | None
    old_blob: str | None
    new_blob: str | None


@dataclass
class Event:
    id: str
    action: str  # created | changed | removed
    commit: str
    author: str
    date: dt.datetime  # when the commit landed on main (committer time)
    path: str
    changes: list[dict]  # {"field", "old", "new"}
    old_path: str | None = None
    record: disposition.Disposition | None = None
    subject_pull: int | None = None  # the pull request GitHub's own merge message names, when nothing was recorded
    note: str | None = field(default=None, repr=False)  # the note the record was read from (None: the commit message)
    verifier: signature.Verifier | None = field(default=None, repr=False, compare=False)

    @property
    def verified(self) -> bool:
        """The record is a note the workflow signed (history.signature), not text anyone could write. Checked when asked."""
        return self.note is not None and self.verifier is not None and self.verifier.verified(self.commit, self.note)

    ids: set = field(default_factory=set, repr=False)  # every id this allocation had in its life (renames followed)
    fields: dict = field(default_factory=dict, repr=False)  # the file as this event left it (as it was, for a removal)

    @property
    def letter(self) -> dict:
        """The Surat Permohonan this version of the file cites: {"number", "date"} (None where the file has none). A removal
        cites the letter its record names (the give-back form's, which no file keeps), else the file's last one."""
        if self.action == "removed" and self.record and self.record.letter:
            return {"number": self.record.letter[1], "date": self.record.letter[0]}
        return {"number": _shown(self.fields.get("letter.number")), "date": _shown(self.fields.get("letter.date"))}

    @property
    def requester(self) -> dict:
        """Who asked, as this version of the file names them: {"name", "github"}."""
        return {"name": _shown(self.fields.get("contact.name")), "github": _shown(self.fields.get("contact.github"))}

    @property
    def pull_request(self) -> int | None:
        if self.record and self.record.pull_request is not None:
            return self.record.pull_request
        return self.subject_pull

    def as_json(self) -> dict:
        record = self.record.as_json() if self.record else None
        return {
            "id": self.id,
            "action": self.action,
            "commit": self.commit,
            "author": self.author,
            "date": self.date.isoformat(),
            "path": printable(self.path),  # a path from git may hold anything, even bytes that are not UTF-8
            "old_path": printable(self.old_path) if self.old_path else None,
            "changes": self.changes,
            "pull_request": self.pull_request,
            "approvers": record["approvers"] if record else [],
            "disposition": record,
            "verified": self.verified,
            "letter": self.letter,
            "requester": self.requester,
        }


def _shown(value) -> str | None:
    """A field of a file from git as text (it may hold anything), None when absent."""
    return None if value is None else printable(str(value))


@dataclass
class History:
    head: str
    events: list[Event]
    shallow: bool = False
    unreadable_records: list[str] = field(default_factory=list)  # commits whose recorded disposition had bad trailers
    notes: dict[str, str] = field(default_factory=dict, repr=False)  # commit -> its note under refs/notes/bandwidth
    verifier: signature.Verifier | None = field(default=None, repr=False)


def _is_request(path: str | None) -> bool:
    return bool(path) and path.startswith(f"{FOLDER}/") and path.endswith(REQUEST_SUFFIX)


def first_parent_changes(root: Path, head: str) -> list[tuple[str, list[FileChange]]]:
    """(commit, its request-file changes against its first parent), oldest first."""
    out = gitread.git(
        root, "log", "--first-parent", "--reverse", "--diff-merges=first-parent", "--raw", "-M", "--no-abbrev", "-z",
        "--format=%x00%H", head, "--", f"{FOLDER}/",
    )  # fmt: skip
    tokens = out.split(b"\0")
    result: list[tuple[str, list[FileChange]]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index].lstrip(b"\n")
        index += 1
        if not token:
            continue
        if not token.startswith(b":"):  # a commit id
            result.append((token.decode(), []))
            continue
        # ":old_mode new_mode old_blob new_blob status", then one path (two for renames and copies)
        _old_mode, _new_mode, old_blob, new_blob, status = token[1:].decode().split(" ")
        paths = [tokens[index].decode("utf-8", "surrogateescape")]
        index += 1
        if status[0] in "RC":
            paths.append(tokens[index].decode("utf-8", "surrogateescape"))
            index += 1
        null = "0" * len(old_blob)
        old_exists = old_blob != null and status[0] != "C"  # a copy is a new file; its original stays
        change = FileChange(
            paths[0] if old_exists else None, paths[-1] if new_blob != null else None,
            old_blob if old_exists else None, new_blob if new_blob != null else None,
        )  # fmt: skip
        if result:
            result[-1][1].append(change)
    return result


def flatten(value, prefix: str = "") -> dict:
    """{"download.max_mbps": 100, "subnets": [...], ...}: the fields an auditor compares."""
    if isinstance(value, dict):
        flat = {}
        for key, inner in value.items():
            flat.update(flatten(inner, f"{prefix}{key}."))
        return flat
    return {prefix[:-1] or "(value)": value}


def fields_of(data: bytes | None) -> dict:
    if data is None:
        return {}
    try:
        doc = yamlsafe.load(data)
    except yamlsafe.YamlError as exc:
        return {"(file)": f"unreadable: line {exc.line}: {exc.message}"}
    if doc.problems or not isinstance(doc.value, dict):
        return {"(file)": "unreadable: " + (doc.problems[0][1] if doc.problems else "not a mapping")}
    return flatten(doc.value)


def diff(old: dict, new: dict) -> list[dict]:
    keys = list(old) + [k for k in new if k not in old]
    return [{"field": k, "old": old.get(k), "new": new.get(k)} for k in keys if old.get(k) != new.get(k)]


def _request_id(fields: dict, path: str) -> str:
    value = fields.get("id")
    if isinstance(value, str) and value:
        return value
    return Path(path).name.removesuffix(REQUEST_SUFFIX)


class BranchAuthors:
    """For merge commits on main: who wrote each file's change on the merged branch.

    One pass over the whole graph instead of a `git log M^1..M^2` per merge: main's first-parent
    chain is walked oldest first, keeping every commit already reachable; a merge's branch commits
    are those its other parents reach that were not reachable before (each commit is visited once).
    """

    def __init__(self, root: Path, head: str, merges: set[str]):
        self.by_merge: dict[tuple[str, str], str] = {}  # (merge, path) -> author
        if not merges:
            return
        graph: dict[str, tuple[int, list[str]]] = {}  # commit -> (commit time, parents)
        for line in gitread.text(gitread.git(root, "log", "--format=%H %ct %P", head)).splitlines():
            sha, time, *parents = line.split()
            graph[sha] = (int(time), parents)
        touched: dict[str, list[str]] = {}  # non-merge commit -> its request-file paths
        out = gitread.git(root, "log", "-z", "--format=%x00%H", "--name-only", "--no-renames", "--full-history", "--no-merges", head, "--", f"{FOLDER}/")
        sha = None
        expect_sha = False
        for raw in out.split(b"\0"):
            token = raw.lstrip(b"\n")
            if not token:
                expect_sha = True
                continue
            if expect_sha:
                sha, expect_sha = token.decode(), False
                touched[sha] = []
            elif sha:
                touched[sha].append(token.decode("utf-8", "surrogateescape"))
        chain = gitread.text(gitread.git(root, "rev-list", "--first-parent", "--reverse", head)).split()
        reachable: set[str] = set()
        newest: dict[tuple[str, str], tuple[int, str]] = {}  # (merge, path) -> (time, branch commit)
        for commit in chain:
            stack = [p for p in graph.get(commit, (0, []))[1][1:] if p not in reachable]
            while stack:
                side = stack.pop()
                if side in reachable or side not in graph:
                    continue
                reachable.add(side)
                time, parents = graph[side]
                stack += [p for p in parents if p not in reachable]
                if commit in merges:
                    for path in touched.get(side, ()):
                        key = (commit, path)
                        newest[key] = max(newest.get(key, (time, side)), (time, side))
            reachable.add(commit)
        people = gitread.commits(root, sorted({side for _, side in newest.values()}))
        self.by_merge = {key: str(people[side].author) for key, (_, side) in newest.items() if side in people}

    def author(self, merge: str, *paths: str | None) -> str | None:
        return next((self.by_merge[(merge, p)] for p in paths if p and (merge, p) in self.by_merge), None)


def walk(root: Path, ref: str = "HEAD") -> History:  # noqa: PLR0912, PLR0915 - one pass over git log: the order of its cases is the order git reports changes in
    head = gitread.resolve(root, ref)
    changes = first_parent_changes(root, head)
    boundary = gitread.shallow_boundary(root)
    commits = gitread.commits(root, [sha for sha, _ in changes])
    blobs = gitread.read_objects(root, [b for _, cs in changes for c in cs for b in (c.old_blob, c.new_blob) if b])
    parsed: dict[str, dict] = {}  # blob -> fields: a version is the "new" of one event and the "old" of the next

    def fields_of_blob(blob: str | None) -> dict:
        if blob not in parsed:
            parsed[blob] = fields_of(blobs.get(blob))
        return parsed[blob]

    notes = gitread.notes(root)
    verifier = signature.Verifier(gitread.file_at(root, head, signature.ALLOWED_SIGNERS))  # the signers main trusts at `ref`
    history = History(head, [], shallow=bool(boundary), notes=notes, verifier=verifier)
    branch_authors = BranchAuthors(root, head, {sha for sha, cs in changes if cs and sha in commits and len(commits[sha].parents) > 1})
    lineage_of: dict[str, int] = {}  # current path -> lineage
    ids_of: dict[int, set] = {}
    next_lineage = 0
    for sha, file_changes in changes:
        commit = commits.get(sha)
        if commit is None:
            continue
        if sha in boundary:  # a shallow clone's oldest commit: its "diff" would list every file as created
            for change in file_changes:
                if _is_request(change.new_path):
                    lineage_of[change.new_path] = next_lineage
                    ids_of[next_lineage] = {_request_id(fields_of_blob(change.new_blob), change.new_path)}
                    next_lineage += 1
            continue
        record = disposition.parse(signature.split(notes[sha])[0]) if sha in notes else None
        note = notes[sha] if record is not None else None
        if record is None:
            record = disposition.parse(commit.message)  # anyone's text: never verified
        subject = GITHUB_MERGE_SUBJECT.fullmatch(commit.message.split("\n", 1)[0].strip())
        subject_pull = int(subject.group(1) or subject.group(2)) if subject else None
        if record and record.unreadable:
            history.unreadable_records.append(sha)
        for change in file_changes:
            # A file moved into or out of allocations/ is created or removed there.
            was, now = _is_request(change.old_path), _is_request(change.new_path)
            if not (was or now):
                continue
            old_fields = fields_of_blob(change.old_blob) if was else {}
            new_fields = fields_of_blob(change.new_blob) if now else {}
            if was and change.old_path in lineage_of:
                lineage = lineage_of.pop(change.old_path)
            else:
                lineage, next_lineage = next_lineage, next_lineage + 1
            if now:
                action, path = ("changed" if was else "created"), change.new_path
                lineage_of[path] = lineage
            else:
                action, path = "removed", change.old_path
            changes_list = diff(old_fields, new_fields)
            moved = was and now and change.old_path != change.new_path
            if moved:
                changes_list.insert(0, {"field": "(path)", "old": change.old_path, "new": change.new_path})
            if action == "changed" and not changes_list:
                continue  # comments or layout only: the allocation itself did not change
            request_id = _request_id(new_fields or old_fields, path)
            ids = ids_of.setdefault(lineage, set())
            ids.add(request_id)
            author = branch_authors.author(sha, change.new_path, change.old_path) or str(commit.author)
            old_path = change.old_path if moved else None
            event = Event(
                request_id, action, sha, author, commit.committer.when, path, changes_list, old_path, record, subject_pull,
                ids=ids, note=note, verifier=verifier, fields=new_fields or old_fields,
            )  # fmt: skip
            history.events.append(event)
    return history


def last_events(root: Path, ref: str = "HEAD") -> dict[str, Event]:
    """id -> the newest event of each allocation on `ref` ({} outside git): for the report's timeline."""
    try:
        events = walk(root, ref).events
    except UsageError:
        return {}
    return {event.id: event for event in events}
