"""`bandwidth ledger`: the availability list (daftar kesediaan bandwidth) at a date or commit."""

from __future__ import annotations

from bandwidth import options

HELP = "the availability list (daftar kesediaan bandwidth) at a date or commit"


def add_arguments(parser) -> None:
    parser.add_argument("--at", metavar="DATE|REF", help="a date (YYYY-MM-DD: main as it stood at the end of that day, WITA) or a commit; default: today, this checkout")
    parser.add_argument("--ref", default="HEAD", help="with --at DATE: the history to look in (default: %(default)s; in CI: main)")
    options.inventory(parser)
    options.output_format(parser, ("text", "json", "md", "html"))
    options.output(parser)


def run(args) -> int:
    from bandwidth.history import ledger

    return ledger.run(args)
