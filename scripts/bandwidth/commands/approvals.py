"""`bandwidth approvals`: is the disposition chain of a pull request complete? (SOP steps 2-4)"""

from __future__ import annotations

import sys
from pathlib import Path

from bandwidth import options
from bandwidth.commands import EXIT_OK, EXIT_PROBLEMS
from bandwidth.errors import UsageError

HELP = "is the disposition chain of a pull request complete? (SOP steps 2-4)"


def add_arguments(parser) -> None:
    options.github_repo(parser, alias=True)  # --repo OWNER/NAME, its earlier name, still works
    parser.add_argument("--pr", type=int, required=True, metavar="N", help="the pull request number")
    parser.add_argument("--summary", type=Path, metavar="FILE", help="also append the table to FILE (e.g. $GITHUB_STEP_SUMMARY)")


def run(args) -> int:
    from bandwidth.github import approvals

    repo = options.checked_github_repo(args)
    try:
        result = approvals.evaluate(repo, args.pr, approvals.GitHub())  # GitHub() checks GITHUB_API_URL
    except approvals.ApiError as exc:
        raise UsageError(str(exc)) from None
    text = approvals.table(result)
    sys.stdout.write(text)
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as handle:
            handle.write(text)
    return EXIT_OK if result.complete else EXIT_PROBLEMS
