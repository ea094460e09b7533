"""`bandwidth monitor`: the Laporan Monitoring Bandwidth.

Without --prometheus: the daily snapshot from tc counter samples of playbooks/monitor.yml (sites without Prometheus).
With --prometheus URL --month YYYY-MM: the monthly report from Prometheus' range queries (bandwidth.monitoring.monthly).
"""

from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path

from bandwidth import options
from bandwidth.errors import UsageError

HELP = "the Laporan Monitoring Bandwidth: a daily snapshot from tc counters, or a month from Prometheus (--prometheus)"
MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
RATE_WINDOW = re.compile(r"[1-9][0-9]{0,3}[smh]")  # a PromQL duration, pasted into the queries: nothing else gets through


def percent(text: str) -> float:
    """argparse type: a percentage, 0 to 1000."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or not 0 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"not a percentage between 0 and 1000: {text!r}")
    return value


def month(text: str) -> str:
    """argparse type: YYYY-MM."""
    if not MONTH.fullmatch(text) or not "1970-01" <= text <= "9998-12":
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM, e.g. 2026-11): {text!r}")
    return text


def step_seconds(text: str) -> int:
    """argparse type: seconds between points, a divisor of an hour (so that points fall into whole hours), 60 to 3600."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if not 60 <= value <= 3600 or 3600 % value:
        raise argparse.ArgumentTypeError(f"{value}: expected seconds from 60 to 3600 that divide an hour (60, 120, 300, 600, 900, ...)")
    return value


def rate_window(text: str) -> str:
    """argparse type: a PromQL duration such as 5m."""
    if not RATE_WINDOW.fullmatch(text):
        raise argparse.ArgumentTypeError(f"not a duration such as 5m, 90s or 1h: {text!r}")
    return text


def timeout_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"not a number of seconds from 0 to 3600: {text!r}")
    return value


def days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if not 1 <= value <= 23:
        raise argparse.ArgumentTypeError(f"{value}: expected 1 to 23 (the working days of a month)")
    return value


def add_arguments(parser) -> None:
    options.inventory(parser)
    options.plans(parser, "the plans and <gateway>.counters.json of playbooks/monitor.yml")
    parser.add_argument("--reports", type=Path, default=Path("reports"), help="reports/monitoring/<time>/ and reports/monitoring/latest go here (default: %(default)s)")
    parser.add_argument(
        "--at-ceiling-percent", type=percent, default=90.0, metavar="P",
        help="snapshot: average >= P%% of max_mbps in a direction is a candidate for more; monthly: a rate >= P%% of the maximum is 'at the maximum' (default: %(default)g)",
    )  # fmt: skip
    parser.add_argument(
        "--github-repo", default=os.environ.get("GITHUB_REPOSITORY") or None, metavar="OWNER/NAME",
        help="link each candidate to its prefilled issue form in this repository, and write candidates.md (default: $GITHUB_REPOSITORY)",
    )  # fmt: skip
    parser.add_argument("--github-server", default=os.environ.get("GITHUB_SERVER_URL") or "https://github.com", metavar="URL", help="default: $GITHUB_SERVER_URL or %(default)s")
    parser.add_argument(
        "--underused-percent", type=percent, default=10.0, metavar="P",
        help="candidate to give back: snapshot, average < P%% of guaranteed_mbps in both directions; monthly, every rate of the month below P%% of guaranteed in both (default: %(default)g)",
    )  # fmt: skip
    monthly = parser.add_argument_group("monthly report from Prometheus")
    monthly.add_argument("--prometheus", metavar="URL", help="the Prometheus that scrapes the gateways' exporters, e.g. http://prometheus.example:9090 (needs --month)")
    monthly.add_argument("--month", type=month, metavar="YYYY-MM", help="the month to report, in WITA (UTC+8); a month still running is reported up to now")
    monthly.add_argument("--at-ceiling-days", type=days, default=5, metavar="N", help="candidate for more: N working days at the maximum for most of the working hours (default: %(default)s)")
    monthly.add_argument("--step", type=step_seconds, default=300, metavar="SECONDS", help="seconds between the points of the range queries (default: %(default)s)")
    monthly.add_argument("--rate-window", type=rate_window, default="5m", metavar="DURATION", help="the window of rate(), at least twice the scrape interval (default: %(default)s)")
    monthly.add_argument("--timeout", type=timeout_seconds, default=30.0, metavar="SECONDS", help="per request to Prometheus (default: %(default)g)")


def run(args) -> int:
    if args.prometheus is not None or args.month is not None:
        if not args.prometheus or not args.month:
            raise UsageError("the monthly report needs both --prometheus URL and --month YYYY-MM")
        from bandwidth.monitoring import monthly

        return monthly.run(args)
    from bandwidth.reports import monitoring

    return monitoring.run(args)
