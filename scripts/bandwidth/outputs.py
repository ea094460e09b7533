"""Where reports go: reports/<UTC time>/ and reports/latest, for every report this project writes
(the completion report, the monitoring report, the availability list)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from bandwidth.errors import UsageError


def utc_now() -> str:
    """Now, as the reports write times: '2026-11-28T01:02:03Z'."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stamped_folder(root: Path, finished: str) -> Path:
    """root/<UTC time> of a report: 20261128T010203Z; a new folder each time (a second report finished in the same second is
    20261128T010203Z-2), so a folder holds the files of its own report only, never a letter left by another."""
    stamp = finished.replace(":", "").replace("-", "")
    folder, count = root / stamp, 1
    while folder.exists():
        count += 1
        folder = root / f"{stamp}-{count}"
    return folder


def point_latest(root: Path, folder: Path) -> None:
    """root/latest -> the newest report folder (a relative link: the tree can move)."""
    latest = root / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    os.symlink(folder.name, latest)


def write_stamped(root: Path, finished: str, files: dict[str, str]) -> Path:
    """root/<UTC time>/ holding `files` (name -> text, all rendered before), and root/latest pointing at it."""
    target = stamped_folder(root, finished)
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (target / name).write_text(text, encoding="utf-8")
        point_latest(root, target)
    except OSError as exc:
        raise UsageError(f"cannot write the report into {target}: {exc.strerror or exc}") from None
    return target
