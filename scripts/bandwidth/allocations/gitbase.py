"""Compare the request files with a git ref, without parsing the old versions."""

from __future__ import annotations

from pathlib import Path

from bandwidth import gitread
from bandwidth.errors import UsageError


def blobs_at(root: Path, ref: str, folder: str = "allocations") -> dict[str, str]:
    """path -> blob id of every file under `folder` at `ref`."""
    try:
        out = gitread.git(root, "ls-tree", "-r", "-z", "--full-tree", ref, "--", f"{folder}/")
    except UsageError as exc:
        raise UsageError(f"--base {ref}: {exc}") from None
    blobs = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, path = record.split(b"\t", 1)
        _mode, kind, sha = meta.split()
        if kind == b"blob":
            blobs[path.decode("utf-8", "surrogateescape")] = sha.decode()
    return blobs


def mark_changes(allocations, current_blobs: dict[str, str], base_blobs: dict[str, str]) -> list[str]:
    """Set each allocation's `change` to added/changed; return the paths removed since base."""
    for allocation in allocations:
        old = base_blobs.get(allocation.path)
        if old is None:
            allocation.change = "added"
        elif old != current_blobs.get(allocation.path):
            allocation.change = "changed"
    return sorted(set(base_blobs) - set(current_blobs))
