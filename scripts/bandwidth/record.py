"""`bandwidth record`: write the disposition chain of a merged pull request into git itself.

The apply workflow runs it after every push to main, so that `bandwidth audit` can later say who
approved what without asking GitHub: it finds the pull request merged as the commit, evaluates
its approvals exactly as `bandwidth approvals` does, and writes the result (plus who merged and
when the gateways were configured) as a note under refs/notes/bandwidth, which the workflow
pushes. `--print` only prints the trailers, e.g. for the message of a squash merge.
"""

from __future__ import annotations

import os
import re
import sys

from bandwidth import approvals, disposition, gitread
from bandwidth.loader import UsageError


def add_arguments(parser) -> None:
    parser.add_argument("--github-repo", required=True, metavar="OWNER/NAME", help="the GitHub repository (GITHUB_API_URL and GITHUB_TOKEN as for `approvals`)")
    parser.add_argument("--commit", default="HEAD", metavar="REF", help="the merge commit on main (default: %(default)s)")
    parser.add_argument("--pr", type=int, metavar="N", help="the pull request (default: the one GitHub merged as --commit)")
    parser.add_argument("--applied-at", metavar="TIME", help="when the apply finished (ISO 8601 UTC, e.g. from the workflow)")
    parser.add_argument("--applied-result", default="success", choices=("success", "failure", "cancelled", "skipped"), help="how the apply ended (default: %(default)s)")
    parser.add_argument("--print", dest="print_only", action="store_true", help="print the trailers instead of writing the note")


def _merged_pull(github: approvals.GitHub, repo: str, sha: str) -> int | None:
    pulls = github.get(f"/repos/{repo}/commits/{sha}/pulls")
    if not isinstance(pulls, list):
        raise approvals.ApiError(f"/repos/{repo}/commits/{sha}/pulls: expected a list")
    merged = [p for p in pulls if isinstance(p, dict) and p.get("merged_at")]
    exact = [p for p in merged if p.get("merge_commit_sha") == sha]
    chosen = (exact or merged or [None])[0]
    return int(chosen["number"]) if chosen else None


def build(repo: str, sha: str, pr: int | None, github: approvals.GitHub) -> disposition.Disposition:
    record = disposition.Disposition()
    number = pr if pr is not None else _merged_pull(github, repo, sha)
    if number is None:  # pushed to main directly: no disposition at all, and the note says so
        record.missing.append(("pull-request", "pushed without a pull request"))
        return record
    result = approvals.evaluate(repo, number, github)
    record.pull_request = number
    record.requested_by = result.author
    record.approved_commit = result.head
    for outcome in result.outcomes:
        if outcome.login:
            record.approvals.append(disposition.Approval(outcome.role.role, outcome.login, outcome.at or ""))
        else:
            record.missing.append((outcome.role.role, outcome.missing or "no approval yet"))
    for login, _at in result.blocked_by:
        record.missing.append(("changes-requested", f"changes requested by {login}"))
    if result.merged_by:
        record.merged_by, record.merged_at = result.merged_by, result.merged_at
    return record


def run(args) -> int:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", args.github_repo):
        raise UsageError(f"--github-repo {args.github_repo!r}: expected OWNER/NAME")
    if args.applied_at and not disposition.is_time(args.applied_at):
        raise UsageError(f"--applied-at {args.applied_at!r}: expected an ISO 8601 time such as 2026-11-27T05:04:00Z")
    sha = gitread.resolve(args.repo, args.commit)
    try:
        record = build(args.github_repo, sha, args.pr, approvals.GitHub())
    except approvals.ApiError as exc:
        raise UsageError(str(exc)) from None
    if args.applied_at:
        record.applied_at, record.applied = args.applied_at, args.applied_result
    try:
        trailers = record.trailers()
    except ValueError as exc:  # e.g. a role name in disposition.yml that the trailer format cannot carry
        raise UsageError(f"cannot record {sha[:12]}: {exc}") from None
    if args.print_only:
        sys.stdout.write(trailers)
        return 0
    if not gitread.git(args.repo, "config", "user.email", check=False).strip() and "GIT_COMMITTER_EMAIL" not in os.environ:
        # A runner without a git identity: the note still needs a committer.
        os.environ.update({"GIT_COMMITTER_NAME": "bandwidth record", "GIT_COMMITTER_EMAIL": "bandwidth-record@localhost"})
    gitread.git(args.repo, "notes", f"--ref={gitread.NOTES_REF}", "add", "--force", "--file=-", sha, stdin=trailers.encode())
    what = f"PR #{record.pull_request}" if record.pull_request is not None else "no pull request"
    print(f"recorded on {sha[:12]} in {gitread.NOTES_REF}: {what}, {len(record.approvals)} approval(s), {len(record.missing)} missing")
    if record.missing:
        print(f"bandwidth: warning: disposition of {sha[:12]} incomplete: " + "; ".join(f"{r}: {w}" for r, w in record.missing), file=sys.stderr)
    return 0
