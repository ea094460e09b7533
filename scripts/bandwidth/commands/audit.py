"""`bandwidth audit`: each allocation's life from git history, with approvers."""

from __future__ import annotations

from bandwidth import options

HELP = "each allocation's life from git history: created, changed, removed, with approvers"


def add_arguments(parser) -> None:
    parser.add_argument("id", nargs="?", help="only this allocation (its whole life, across renames)")
    parser.add_argument("--since", metavar="DATE", help="only events on or after this date (YYYY-MM-DD, WITA)")
    parser.add_argument("--ref", default="HEAD", help="the history to read (default: %(default)s; in CI: main)")
    options.output_format(parser, ("text", "json", "csv"))


def run(args) -> int:
    from bandwidth.history import audit

    return audit.run(args)
