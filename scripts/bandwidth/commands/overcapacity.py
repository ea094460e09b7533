"""`bandwidth overcapacity`: the issue body when main fails its re-check."""

from __future__ import annotations

from bandwidth import options

HELP = "the issue body when main fails its re-check: overflowing uplinks, their pull requests, who must act"


def add_arguments(parser) -> None:
    options.github_repo(parser)
    parser.add_argument("--commit", default="HEAD", metavar="REF", help="main's commit that failed (default: %(default)s); the checkout must hold its files")
    parser.add_argument("--run-url", default="", metavar="URL", help="the workflow run, linked from the issue")
    options.inventory(parser)
    parser.add_argument("--depth", type=int, default=100, metavar="N", help="how many first-parent commits back to look for the last main that passed (default: %(default)s)")
    options.output(parser, "write the issue body to FILE instead of standard output")
    options.today(parser, "check as of this date")


def run(args) -> int:
    from bandwidth.github import overcapacity

    return overcapacity.run(args)
