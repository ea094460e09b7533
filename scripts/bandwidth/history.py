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
from dataclasses import dataclass, field
from pathlib import Path

from bandwidth import disposition, gitread, yamlsafe

FOLDER = "allocations"
REQUEST_SUFFIX = ".yaml"


@dataclass
class FileChange:
    status: str  # A, M, D, R (renamed), T (type changed)
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
    lineage: int = 0  # the same number for every event of one allocation's life (renames followed)
    ids: set = field(default_factory=set, repr=False)  # every id this allocation had

    def as_json(self) -> dict:
        record = self.record.as_json() if self.record else None
        return {
            "id": self.id,
            "action": self.action,
            "commit": self.commit,
            "author": self.author,
            "date": self.date.isoformat(),
            "path": self.path,
            "old_path": self.old_path,
            "changes": self.changes,
            "pull_request": record["pull_request"] if record else None,
            "approvers": record["approvers"] if record else [],
            "disposition": record,
        }


@dataclass
class History:
    head: str
    events: list[Event]
    shallow: bool = False
    unreadable_records: list[str] = field(default_factory=list)  # commits whose recorded disposition had bad trailers


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
        old_path, new_path = (paths[0], paths[-1]) if status[0] in "RC" else (paths[0], paths[0])
        null = "0" * len(old_blob)
        change = FileChange(
            status[0], None if old_blob == null else old_path, None if new_blob == null else new_path,
            None if old_blob == null else old_blob, None if new_blob == null else new_blob,
        )  # fmt: skip
        if status[0] == "C":  # a copy is a new file; the original stays
            change.status, change.old_path, change.old_blob = "A", None, None
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


def _branch_authors(root: Path, commit: gitread.Commit, paths: set[str]) -> dict[str, str]:
    """For a merge: path -> the author of the merged branch's newest commit that touched it."""
    if len(commit.parents) < 2 or not paths:
        return {}
    out = gitread.git(root, "log", "-z", "--format=%x00%H", "--name-only", "--no-renames", f"{commit.parents[0]}..{commit.parents[1]}", "--", *sorted(paths))
    authors: dict[str, str] = {}
    newest_of: dict[str, str] = {}
    sha = None
    for raw in out.split(b"\0"):
        token = raw.strip(b"\n")
        if not token:
            continue
        name = token.decode("utf-8", "surrogateescape")
        if len(name) == 40 and all(c in "0123456789abcdef" for c in name) and name not in paths:
            sha = name
        elif sha and name in paths:
            newest_of.setdefault(name, sha)  # git log is newest first
    people = gitread.commits(root, list(set(newest_of.values())))
    for path, sha in newest_of.items():
        if sha in people:
            authors[path] = str(people[sha].author)
    return authors


def walk(root: Path, ref: str = "HEAD") -> History:
    head = gitread.resolve(root, ref)
    changes = first_parent_changes(root, head)
    boundary = gitread.shallow_boundary(root)
    commits = gitread.commits(root, [sha for sha, _ in changes])
    blobs = gitread.read_objects(root, [b for _, cs in changes for c in cs for b in (c.old_blob, c.new_blob) if b])
    notes = gitread.notes(root)
    history = History(head, [], shallow=bool(boundary))
    lineage_of: dict[str, int] = {}  # current path -> lineage
    ids_of: dict[int, set] = {}
    next_lineage = 0
    for sha, file_changes in changes:
        commit = commits.get(sha)
        if commit is None:
            continue
        if sha in boundary:  # a shallow clone's oldest commit: its "diff" would list every file as created
            for change in file_changes:
                if change.new_path and _is_request(change.new_path):
                    lineage_of[change.new_path] = next_lineage
                    ids_of[next_lineage] = {_request_id(fields_of(blobs.get(change.new_blob)), change.new_path)}
                    next_lineage += 1
            continue
        record = disposition.parse(notes[sha]) if sha in notes else None
        if record is None:
            record = disposition.parse(commit.message)
        if record and record.unreadable:
            history.unreadable_records.append(sha)
        relevant = [c for c in file_changes if _is_request(c.old_path) or _is_request(c.new_path)]
        authors = _branch_authors(root, commit, {p for c in relevant for p in (c.old_path, c.new_path) if p})
        for change in relevant:
            old_fields = fields_of(blobs.get(change.old_blob)) if change.old_blob and _is_request(change.old_path) else {}
            new_fields = fields_of(blobs.get(change.new_blob)) if change.new_blob and _is_request(change.new_path) else {}
            if change.old_path and _is_request(change.old_path) and change.old_path in lineage_of:
                lineage = lineage_of.pop(change.old_path)
            else:
                lineage, next_lineage = next_lineage, next_lineage + 1
            if new_fields or (change.new_path and _is_request(change.new_path)):
                action = "changed" if old_fields or (change.old_path and _is_request(change.old_path)) else "created"
                path = change.new_path
                lineage_of[path] = lineage
            else:
                action, path = "removed", change.old_path
            changes_list = diff(old_fields, new_fields)
            if action == "changed" and change.old_path != change.new_path:
                changes_list.insert(0, {"field": "(path)", "old": change.old_path, "new": change.new_path})
            if action == "changed" and not changes_list:
                continue  # comments or layout only: the allocation itself did not change
            request_id = _request_id(new_fields or old_fields, path)
            ids = ids_of.setdefault(lineage, set())
            ids.add(request_id)
            author = authors.get(change.new_path or "") or authors.get(change.old_path or "") or str(commit.author)
            old_path = change.old_path if change.old_path != path else None
            event = Event(request_id, action, sha, author, commit.committer.when, path, changes_list, old_path=old_path, record=record, lineage=lineage, ids=ids)
            history.events.append(event)
    return history


def last_events(root: Path, ref: str = "HEAD") -> dict[str, Event]:
    """id -> the newest event of each allocation on `ref` ({} outside git): for the report's timeline."""
    from bandwidth.loader import UsageError

    try:
        events = walk(root, ref).events
    except UsageError:
        return {}
    return {event.id: event for event in events}
