"""`bandwidth settings-check`: are the GitHub settings the disposition chain relies on in force?"""

from __future__ import annotations

import sys
from pathlib import Path

from bandwidth import options
from bandwidth.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from bandwidth.errors import UsageError

HELP = "are the GitHub settings the disposition chain relies on (.github/required-settings.yml) in force?"


def add_arguments(parser) -> None:
    options.github_repo(parser)
    parser.add_argument("--settings", type=Path, default=Path(".github/required-settings.yml"), help="what GitHub must enforce (default: %(default)s)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="also write the issue body (Bahasa Indonesia, Markdown) to FILE when a setting is weaker or unreadable")


def run(args) -> int:
    from bandwidth.github import approvals, settings, settings_report

    repo = options.checked_github_repo(args)
    wanted = settings_report.load(args.repo / args.settings)  # a UsageError naming the file and line
    try:
        result = settings.check(repo, wanted, approvals.GitHub())
    except approvals.ApiError as exc:  # no HTTP answer at all: GITHUB_API_URL cannot be reached
        raise UsageError(str(exc)) from None
    sys.stdout.write(settings_report.text(repo, result))
    if args.output and (result.findings or result.unreadable):
        args.output.write_text(settings_report.issue(repo, result), encoding="utf-8")
    if result.unreadable:
        return EXIT_USAGE
    return EXIT_PROBLEMS if result.findings else EXIT_OK
