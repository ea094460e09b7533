"""`bandwidth record`: write the disposition chain of a merged pull request into git (a note on its commit)."""

from __future__ import annotations

from pathlib import Path

from bandwidth import options

HELP = "write the disposition chain of a merged pull request into git (a note on its commit)"


def add_arguments(parser) -> None:
    options.github_repo(parser)
    parser.add_argument("--commit", default="HEAD", metavar="REF", help="the merge commit on main (default: %(default)s)")
    parser.add_argument("--pr", type=int, metavar="N", help="the pull request (default: the one GitHub merged as --commit)")
    parser.add_argument("--applied-at", metavar="TIME", help="when the apply finished (ISO 8601 UTC, e.g. from the workflow)")
    parser.add_argument("--applied-result", default="success", choices=("success", "failure", "cancelled", "skipped"), help="how the apply ended (default: %(default)s)")
    parser.add_argument("--print", dest="print_only", action="store_true", help="print the note (the trailers, signed with --sign-key) instead of writing it")
    parser.add_argument("--sign-key", type=Path, metavar="FILE", help="sign the note with this SSH private key (the workflow's; its public half is in .github/allowed-signers)")
    emergency = parser.add_argument_group("an emergency apply without the chain's record (a dispatch of the apply workflow with a reason)")
    emergency.add_argument("--emergency-by", metavar="LOGIN", help="who asked: a member of the chain's last role in .github/disposition.yml at --commit")
    emergency.add_argument("--emergency-reason", metavar="TEXT", help="why, in one line (printable ASCII, at most 200 characters)")


def run(args) -> int:
    from bandwidth.github import record

    return record.run(args)
