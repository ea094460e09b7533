"""Compare the request files with a git ref, without parsing the old versions."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bandwidth.loader import UsageError


def blobs_at(root: Path, ref: str, folder: str = "allocations") -> dict[str, str]:
    """path -> blob id of every file under `folder` at `ref`."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "ls-tree", "-r", "-z", "--full-tree", ref, "--", f"{folder}/"],
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise UsageError("--base needs git, which is not installed") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"--base {ref}: {message[-1] if message else 'not a git ref'}")
    blobs = {}
    for record in done.stdout.split(b"\0"):
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
