"""`bandwidth monitor`: turn tc counter samples into the Laporan Monitoring Bandwidth."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from bandwidth import options

HELP = "turn tc counter samples into the Laporan Monitoring Bandwidth"


def percent(text: str) -> float:
    """argparse type: a percentage, 0 to 1000."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or not 0 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"not a percentage between 0 and 1000: {text!r}")
    return value


def add_arguments(parser) -> None:
    options.inventory(parser)
    options.plans(parser, "the plans and <gateway>.counters.json of playbooks/monitor.yml")
    parser.add_argument("--reports", type=Path, default=Path("reports"), help="reports/monitoring/<time>/ and reports/monitoring/latest go here (default: %(default)s)")
    parser.add_argument("--at-ceiling-percent", type=percent, default=90.0, metavar="P", help="average >= P%% of max_mbps in a direction: candidate for more (default: %(default)g)")
    parser.add_argument(
        "--github-repo", default=os.environ.get("GITHUB_REPOSITORY") or None, metavar="OWNER/NAME",
        help="link each candidate to its prefilled issue form in this repository, and write candidates.md (default: $GITHUB_REPOSITORY)",
    )  # fmt: skip
    parser.add_argument("--github-server", default=os.environ.get("GITHUB_SERVER_URL") or "https://github.com", metavar="URL", help="default: $GITHUB_SERVER_URL or %(default)s")
    parser.add_argument("--underused-percent", type=percent, default=10.0, metavar="P", help="average < P%% of guaranteed_mbps in both directions: candidate to give back (default: %(default)g)")


def run(args) -> int:
    from bandwidth.reports import monitoring

    return monitoring.run(args)
