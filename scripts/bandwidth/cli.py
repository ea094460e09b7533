"""The `bandwidth` command: parse arguments into a plain object, then run one subcommand."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from bandwidth import __version__
from bandwidth.loader import UsageError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bandwidth", description="Bandwidth provisioning for Pemprov Kaltim, as code.")
    parser.add_argument("--version", action="version", version=f"bandwidth {__version__}")
    parser.add_argument("-C", "--repo", type=Path, default=Path("."), help="repository root (default: the current folder)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser("check", help="validate every request file and the capacity of every uplink (SOP steps 5-6)")
    check.add_argument("--inventory", default="inventory/production", help="inventory folder (default: %(default)s)")
    check.add_argument("--format", choices=("text", "json", "github"), default="text", help="output format (default: %(default)s)")
    check.add_argument("--summary", type=Path, metavar="FILE", help="write the availability form (Markdown, Bahasa Indonesia) to FILE")
    check.add_argument("--base", metavar="REF", help="mark the allocations added or changed since this git ref")
    check.add_argument("--today", type=_date, metavar="DATE", help="check as of this date (default: today in WITA)")

    new = sub.add_parser("new", help="write a new request file with the next free id")
    from bandwidth import scaffold

    scaffold.add_arguments(new)
    new.add_argument("--inventory", default="inventory/production", help="inventory folder (default: %(default)s)")
    new.add_argument("--today", type=_date, metavar="DATE", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "new":
            from bandwidth import scaffold

            return scaffold.run(args)
    except UsageError as exc:
        print(f"bandwidth: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into head: stop quietly, as other tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PROBLEMS
    return EXIT_USAGE


def cmd_check(args) -> int:
    from bandwidth import form, reporting
    from bandwidth.checker import CheckOptions, run_check

    result = run_check(CheckOptions(root=args.repo, inventory=args.inventory, base=args.base, today=args.today))
    reporting.FORMATS[args.format](result)
    if args.summary:
        try:
            args.summary.write_text(form.render(result), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--summary {args.summary}: {exc.strerror}") from None
    return EXIT_PROBLEMS if result.errors else EXIT_OK
