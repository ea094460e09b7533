"""`bandwidth from-issue`: turn a submitted issue form into a request file, or a change to one (SOP step 1)."""

from __future__ import annotations

from bandwidth import options

HELP = "turn a submitted issue form into a request file (SOP step 1)"


def add_arguments(parser) -> None:
    parser.add_argument("--body-file", required=True, metavar="FILE", help="the issue body (- for standard input)")
    parser.add_argument("--github", metavar="LOGIN", help="the requester's GitHub account (the issue author)")
    parser.add_argument(
        "--form", default="permohonan-bandwidth", choices=("permohonan-bandwidth", "perubahan-bandwidth", "perpanjangan-bandwidth", "pengembalian-bandwidth"),
        help="the issue form (its label): a new allocation (default), or a change, extension or give-back of one; prints `write PATH` / `remove PATH`",
    )  # fmt: skip
    options.today(parser, hidden=True)


def run(args) -> int:
    from bandwidth.allocations import intake

    return intake.run(args)
