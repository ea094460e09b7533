"""`bandwidth ledger`: the SOP's availability list (daftar kesediaan bandwidth) at a date or a commit.

Per gateway and uplink and direction: capacity, reserve, what is guaranteed and the sum of the
maxima of the allocations in force that day, what is still free to guarantee, and the
allocations behind it (temporary ones with their window). A past state is read from git itself:
the files of that commit are extracted into a temporary folder and checked like `bandwidth check`
would have checked them on that day.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import tempfile
from pathlib import Path

from bandwidth import gitread
from bandwidth.allocations import capacity
from bandwidth.allocations.checker import CheckOptions, local_today, run_check
from bandwidth.errors import UsageError
from bandwidth.model import DIRECTIONS, CheckResult
from bandwidth.textid import WITA


def run(args, pending: dict | None = None) -> int:
    """`pending`: the changes waiting in open pull requests (github.pending, read by the command), shown when given."""
    from bandwidth.history import ledger_render

    if args.at is None:
        result = run_check(CheckOptions(root=args.repo, inventory=args.inventory, today=local_today()))
        ledger = build(result, source={"kind": "checkout", "commit": None, "commit_date": None})
    else:
        commit, day = _resolve_at(args.repo, args.at, args.ref)
        with tempfile.TemporaryDirectory(prefix="bandwidth-ledger-") as folder:
            gitread.extract_tree(args.repo, commit.sha, Path(folder), args.inventory)
            result = run_check(CheckOptions(root=Path(folder), inventory=args.inventory, today=day))
        ledger = build(result, source={"kind": "commit", "commit": commit.sha, "commit_date": commit.committer.when.isoformat()})
    for problem in result.errors[:20]:
        print(f"bandwidth: warning: {problem.path}:{problem.line}: {problem.message} (left out of the ledger)", file=sys.stderr)
    if pending is not None:
        ledger["pending"] = pending
    text = ledger_render.FORMATS[args.format](ledger)
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output {args.output}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
    return 0


def _resolve_at(root: Path, at: str, ref: str) -> tuple[gitread.Commit, dt.date]:
    if re.fullmatch(r"\d{4}-\d\d-\d\d", at):
        try:
            day = dt.date.fromisoformat(at)
        except ValueError:
            raise UsageError(f"--at {at!r}: not a date") from None
        head = gitread.resolve(root, ref)
        end_of_day = dt.datetime.combine(day, dt.time(23, 59, 59), WITA).isoformat()
        sha = gitread.text(gitread.git(root, "rev-list", "-1", "--first-parent", f"--before={end_of_day}", head)).strip()
        if not sha:
            raise UsageError(f"--at {at}: {ref} has no commit on or before that day")
        return gitread.commits(root, [sha])[sha], day
    sha = gitread.resolve(root, at)
    commit = gitread.commits(root, [sha])[sha]
    return commit, commit.committer.when.astimezone(WITA).date()


def build(result: CheckResult, source: dict) -> dict:
    """The ledger as plain data (what every format renders)."""
    day = result.today
    bad_paths = {p.path for p in result.errors}
    valid = [a for a in result.allocations if a.path not in bad_paths]
    gateways = []
    for gateway in result.inventory.gateways.values() if result.inventory else []:
        uplinks = []
        for uplink in gateway.uplinks.values():
            mine = sorted((a for a in valid if a.gateway == gateway.name and a.uplink == uplink.name), key=lambda a: a.id)
            active = [a for a in mine if a.active_on(day)]
            entry = {"name": uplink.name, "allocations": [_allocation(a) for a in active], "scheduled": [_allocation(a) for a in mine if a.start > day]}
            for direction in DIRECTIONS:
                guaranteed = sum(a.rate(direction).guaranteed_kbit for a in active)
                entry[direction] = {
                    "capacity_kbit": uplink.capacity(direction),
                    "reserve_kbit": uplink.reserve(direction),
                    "reserve_percent": uplink.reserve_percent,
                    "guaranteeable_kbit": uplink.guaranteeable(direction),
                    "guaranteed_kbit": guaranteed,
                    "max_kbit": sum(a.rate(direction).max_kbit for a in active),
                    "free_kbit": uplink.guaranteeable(direction) - guaranteed,
                    # what a new open-ended request could still be guaranteed from this day on (scheduled ones count)
                    "available_kbit": uplink.guaranteeable(direction) - capacity.peak(mine, direction, day),
                }
            uplinks.append(entry)
        gateways.append({"name": gateway.name, "uplinks": uplinks})
    return {
        "title": "Daftar Kesediaan Bandwidth",
        "date": day.isoformat(),
        "source": source,
        "gateways": gateways,
        "problems": [{"path": p.path, "line": p.line, "message": p.message} for p in result.errors],
    }


def _allocation(a) -> dict:
    return {
        "id": a.id,
        "agency": a.agency,
        "letter_number": a.letter_number,
        "letter_date": a.letter_date.isoformat(),
        "subnets": [str(s) for s in a.subnets],
        "download": {"guaranteed_kbit": a.download.guaranteed_kbit, "max_kbit": a.download.max_kbit},
        "upload": {"guaranteed_kbit": a.upload.guaranteed_kbit, "max_kbit": a.upload.max_kbit},
        "priority": a.priority,
        "start": a.start.isoformat(),
        "end": a.end.isoformat() if a.end else None,
        "temporary": a.end is not None,
        "path": a.path,
    }
