"""`bandwidth check`: every request file and the capacity of every uplink (SOP steps 5-6)."""

from __future__ import annotations

from pathlib import Path

from bandwidth import options
from bandwidth.commands import EXIT_OK, EXIT_PROBLEMS
from bandwidth.errors import UsageError

HELP = "validate every request file and the capacity of every uplink (SOP steps 5-6)"


def add_arguments(parser) -> None:
    options.inventory(parser)
    options.output_format(parser, ("text", "json", "github"))
    parser.add_argument("--summary", type=Path, metavar="FILE", help="write the availability form (Markdown, Bahasa Indonesia) to FILE")
    parser.add_argument("--base", metavar="REF", help="mark the allocations added or changed since this git ref")
    options.today(parser, "check as of this date")


def run(args) -> int:
    from bandwidth.allocations import check_output, form
    from bandwidth.allocations.checker import CheckOptions, run_check

    result = run_check(CheckOptions(root=args.repo, inventory=args.inventory, base=args.base, today=args.today))
    check_output.FORMATS[args.format](result)
    if args.summary:
        try:
            args.summary.write_text(form.render(result), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--summary {args.summary}: {exc.strerror}") from None
    return EXIT_PROBLEMS if result.errors else EXIT_OK
