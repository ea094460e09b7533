"""Options that several commands share, each declared once with one meaning.

-C/--repo DIR          (global) the checkout: the repository root
--github-repo O/N      the GitHub repository, OWNER/NAME
--inventory DIR        the inventory folder, relative to the checkout
--today DATE           the date to act as of (default: today in WITA)
--format NAME          the output format; each command lists its own
--output FILE          write to FILE instead of standard output
--plans DIR            the plans folder of the playbooks (.plans)
--lab-dir DIR          the lab's folder (lab)
--seconds N            iperf3 seconds per measurement, at least MIN_SECONDS
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path

from bandwidth.errors import UsageError

DEFAULT_INVENTORY = "inventory/production"
GITHUB_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
# iperf3 leaves its first second out and the counters stop 0.7 s before the end: one second would
# leave a window of half a second, too short to judge a rate within 3 %.
MIN_SECONDS = 2


def date(text: str) -> dt.date:
    """argparse type: YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def seconds(text: str) -> int:
    """argparse type: whole seconds of measurement, at least MIN_SECONDS."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if value < MIN_SECONDS:
        raise argparse.ArgumentTypeError(f"{value}: at least {MIN_SECONDS} (iperf3's first second is left out, the rest is the window measured)")
    return value


def repo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-C", "--repo", type=Path, default=Path("."), help="repository root (default: the current folder)")


def github_repo(parser: argparse.ArgumentParser, what: str = "the GitHub repository", required: bool = True, alias: bool = False) -> None:
    """--github-repo OWNER/NAME (GITHUB_API_URL and GITHUB_TOKEN from the environment)."""
    help_text = f"{what} (GITHUB_API_URL and GITHUB_TOKEN from the environment)"
    parser.add_argument("--github-repo", dest="github_repo", required=required and not alias, metavar="OWNER/NAME", help=help_text)
    if alias:  # the name this option had before: kept working, not shown
        parser.add_argument("--repo", dest="github_repo", help=argparse.SUPPRESS)


def checked_github_repo(args) -> str:
    """--github-repo, required and of the form OWNER/NAME, or UsageError."""
    value = getattr(args, "github_repo", None)
    if not value:
        raise UsageError("--github-repo OWNER/NAME is required")
    if not GITHUB_REPO.fullmatch(value):
        raise UsageError(f"--github-repo {value!r}: expected OWNER/NAME")
    return value


def inventory(parser: argparse.ArgumentParser, what: str = "inventory folder") -> None:
    parser.add_argument("--inventory", default=DEFAULT_INVENTORY, help=f"{what} (default: %(default)s)")


def today(parser: argparse.ArgumentParser, what: str = "act as of this date", hidden: bool = False) -> None:
    parser.add_argument("--today", type=date, metavar="DATE", help=argparse.SUPPRESS if hidden else f"{what} (default: today in WITA)")


def output_format(parser: argparse.ArgumentParser, choices: tuple[str, ...], default: str | None = None, what: str = "output format") -> None:
    parser.add_argument("--format", choices=choices, default=default or choices[0], help=f"{what} (default: %(default)s)")


def output(parser: argparse.ArgumentParser, what: str = "write to FILE instead of standard output") -> None:
    parser.add_argument("--output", type=Path, metavar="FILE", help=what)


def plans(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--plans", type=Path, default=Path(".plans"), help=f"{what} (default: %(default)s)")


def lab_dir(parser: argparse.ArgumentParser, what: str, default: Path | None = Path("lab")) -> None:
    parser.add_argument("--lab-dir", dest="lab_dir", type=Path, default=default, help=f"{what}" + (" (default: %(default)s)" if default else ""))


def measure_seconds(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=seconds, default=3, metavar="N", help=f"iperf3 seconds per measurement, at least {MIN_SECONDS} (default: %(default)s)")
