"""The `bandwidth` command: parse arguments into a plain object, then run one command.

Every command is a module of bandwidth.commands, found through its REGISTRY; options several commands
share are declared once in bandwidth.options.
"""

from __future__ import annotations

import argparse
import sys

from bandwidth import __version__, options
from bandwidth.commands import EXIT_PROBLEMS, EXIT_USAGE, REGISTRY, load
from bandwidth.errors import UsageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bandwidth", description="Bandwidth provisioning for Pemprov Kaltim, as code.")
    parser.add_argument("--version", action="version", version=f"bandwidth {__version__}")
    options.repo(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in REGISTRY:
        command = load(name)
        command.add_arguments(sub.add_parser(name, help=command.HELP))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return load(args.command).run(args)
    except UsageError as exc:
        print(f"bandwidth: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into head: stop quietly, as other tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PROBLEMS
