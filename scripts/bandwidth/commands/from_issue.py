"""`bandwidth from-issue`: turn a submitted issue form into a request file (SOP step 1)."""

from __future__ import annotations

from bandwidth import options

HELP = "turn a submitted issue form into a request file (SOP step 1)"


def add_arguments(parser) -> None:
    parser.add_argument("--body-file", required=True, metavar="FILE", help="the issue body (- for standard input)")
    parser.add_argument("--github", metavar="LOGIN", help="the requester's GitHub account (the issue author)")
    options.today(parser, hidden=True)


def run(args) -> int:
    from bandwidth.allocations import intake

    return intake.run(args)
