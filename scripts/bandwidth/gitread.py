"""Read a git repository with plumbing commands: robust against any path or message (-z, cat-file)."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from bandwidth.errors import UsageError

NOTES_REF = "refs/notes/bandwidth"  # where `bandwidth record` keeps the disposition of each merge


def git(root: Path, *args: str, check: bool = True, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed") from None
    if check and done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {args[0]}: {message[-1] if message else f'exit {done.returncode}'}")
    return done.stdout if check else (done.stdout if done.returncode == 0 else b"")


def text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def resolve(root: Path, ref: str) -> str:
    """The commit id of `ref`, or a usage error naming it."""
    if not git(root, "rev-parse", "--git-dir", check=False):
        raise UsageError(f"{root}: not a git repository")
    sha = text(git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False)).strip()
    if not sha:
        raise UsageError(f"{ref!r}: not a commit in {root}")
    return sha


def read_objects(root: Path, ids: list[str]) -> dict[str, bytes]:
    """The contents of many objects through one `git cat-file --batch`."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return {}
    out = git(root, "cat-file", "--batch", stdin=("\n".join(unique) + "\n").encode())
    objects: dict[str, bytes] = {}
    position = 0
    for object_id in unique:
        end = out.index(b"\n", position)
        header = out[position:end].split()
        position = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        objects[object_id] = out[position : position + size]
        position += size + 1
    return objects


@dataclass
class Person:
    name: str
    email: str
    when: dt.datetime

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass
class Commit:
    sha: str
    parents: list[str]
    author: Person
    committer: Person
    message: str


def _person(value: str) -> Person:
    # "Name <email> 1700000000 +0800": the name may hold anything but "<" and ">".
    name, _, rest = value.partition(" <")
    email, _, stamp = rest.rpartition("> ")
    seconds, _, offset = stamp.partition(" ")
    try:
        sign = -1 if offset.startswith("-") else 1
        tz = dt.timezone(sign * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
        when = dt.datetime.fromtimestamp(int(seconds), tz)
    except (ValueError, IndexError):
        when = dt.datetime.fromtimestamp(0, dt.UTC)
    return Person(name, email, when)


def parse_commit(sha: str, raw: bytes) -> Commit:
    head, _, message = raw.partition(b"\n\n")
    parents, people = [], {}
    for line in text(head).splitlines():
        key, _, value = line.partition(" ")
        if key == "parent":
            parents.append(value)
        elif key in ("author", "committer"):
            people[key] = _person(value)
    unknown = Person("?", "?", dt.datetime.fromtimestamp(0, dt.UTC))
    return Commit(sha, parents, people.get("author", unknown), people.get("committer", unknown), text(message))


def commits(root: Path, ids: list[str]) -> dict[str, Commit]:
    return {sha: parse_commit(sha, raw) for sha, raw in read_objects(root, ids).items()}


def notes(root: Path, ref: str = NOTES_REF) -> dict[str, str]:
    """commit id -> its note under `ref` (none when the ref does not exist)."""
    listing = text(git(root, "notes", f"--ref={ref}", "list", check=False)).split()
    pairs = dict(zip(listing[1::2], listing[0::2], strict=True))  # commit -> note blob
    blobs = read_objects(root, list(pairs.values()))
    return {commit: text(blobs[blob]) for commit, blob in pairs.items() if blob in blobs}


def file_at(root: Path, rev: str, path: str) -> str | None:
    """The text of `path` in commit `rev`, or None when it has no such file."""
    data = git(root, "cat-file", "blob", f"{rev}:{path}", check=False)
    return text(data) if data else None


def shallow_boundary(root: Path) -> set[str]:
    """The commits of a shallow clone whose parents are missing: their diffs would be made up."""
    path = text(git(root, "rev-parse", "--git-path", "shallow")).strip()
    shallow = Path(path) if Path(path).is_absolute() else root / path
    return set(shallow.read_text().split()) if shallow.exists() else set()


def extract_tree(root: Path, sha: str, folder: Path, inventory: str) -> None:
    """The request files and the inventory of one commit, without touching the checkout."""
    top = inventory.split("/", maxsplit=1)[0]
    present = text(git(root, "ls-tree", "--name-only", sha, "--", "allocations", top)).split()
    if top not in present:
        raise UsageError(f"commit {sha[:12]} has no {inventory}")
    data = git(root, "archive", "--format=tar", sha, "--", *present)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(folder, filter="data")  # no links out, no devices, no absolute paths
