"""`bandwidth ledger`: the availability list (daftar kesediaan bandwidth) at a date or commit."""

from __future__ import annotations

from bandwidth import options

HELP = "the availability list (daftar kesediaan bandwidth) at a date or commit"


def add_arguments(parser) -> None:
    parser.add_argument("--at", metavar="DATE|REF", help="a date (YYYY-MM-DD: main as it stood at the end of that day, WITA) or a commit; default: today, this checkout")
    parser.add_argument("--ref", default="HEAD", help="with --at DATE: the history to look in (default: %(default)s; in CI: main)")
    parser.add_argument(
        "--pending", metavar="OWNER/NAME",
        help="also list the changes waiting in the repository's open pull requests into main (GITHUB_API_URL and GITHUB_TOKEN, pull-requests: read)",
    )  # fmt: skip
    options.inventory(parser)
    options.output_format(parser, ("text", "json", "md", "html"))
    options.output(parser)


def run(args) -> int:
    from bandwidth.history import ledger

    return ledger.run(args, _pending(args.pending) if args.pending else None)


def _pending(repo: str) -> dict:
    """The changes waiting in open pull requests (github.pending), or a usage error naming what failed."""
    import re

    from bandwidth.errors import UsageError
    from bandwidth.github import approvals, pending

    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
        raise UsageError(f"--pending {repo!r}: expected OWNER/NAME")
    try:
        return pending.pending(repo, approvals.GitHub())
    except approvals.ApiError as exc:
        raise UsageError(f"--pending: {exc}") from None
