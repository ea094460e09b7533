"""`bandwidth check`: load everything, run every rule, return one CheckResult."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bandwidth.allocations import gitbase, loader, rules
from bandwidth.model import CheckResult


@dataclass
class CheckOptions:
    root: Path
    inventory: str = "inventory/production"
    base: str | None = None
    today: dt.date | None = None


def run_check(options: CheckOptions) -> CheckResult:
    """Raises errors.UsageError when the check cannot run at all."""
    today = options.today or local_today()
    inventory, problems = loader.load_inventory(options.root, options.inventory)
    allocations, found, blobs, files = loader.load_allocations(options.root)
    problems += found
    removed = []
    if options.base:
        removed = gitbase.mark_changes(allocations, blobs, gitbase.blobs_at(options.root, options.base))
    problems += rules.check(inventory, allocations, today)
    problems.sort(key=lambda p: p.sort_key())
    return CheckResult(inventory, allocations, problems, today, options.base, removed, files)


def local_today() -> dt.date:
    """Today in Kalimantan Timur (WITA, UTC+8), where the allocations start and end."""
    try:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo("Asia/Makassar")
    except Exception:  # no tz database: WITA has no daylight saving time
        zone = dt.timezone(dt.timedelta(hours=8))
    return dt.datetime.now(zone).date()
