"""`bandwidth gate`: may the gateways take main? (every change since the last apply has a complete, verified disposition)"""

from __future__ import annotations

import sys
from pathlib import Path

from bandwidth.commands import EXIT_OK, EXIT_PROBLEMS

HELP = "may the gateways take main? every change since the last apply has a complete, verified disposition (git alone)"


def add_arguments(parser) -> None:
    parser.add_argument("--ref", default="HEAD", help="the commit to apply (default: %(default)s)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="when refused, also write the issue body (Bahasa Indonesia, Markdown) to FILE")
    parser.add_argument("--run-url", metavar="URL", help="the workflow run, linked from the issue")


def run(args) -> int:
    from bandwidth.history import gate

    decision = gate.decide(args.repo, args.ref)
    sys.stdout.write(gate.text(decision))
    if decision.allowed:
        return EXIT_OK
    if args.output:
        args.output.write_text(gate.issue(args.repo, decision, args.run_url), encoding="utf-8")
    return EXIT_PROBLEMS
