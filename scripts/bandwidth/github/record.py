"""`bandwidth record`: write the disposition chain of a merged pull request into git itself.

The apply workflow runs it after every push to main, so that `bandwidth audit` can later say who
approved what without asking GitHub: it finds the pull request merged as the commit, evaluates
its approvals exactly as `bandwidth approvals` does, and writes the result (plus who merged and
when the gateways were configured) as a note under refs/notes/bandwidth, which the workflow
pushes. `--print` only prints the trailers, e.g. for the message of a squash merge.

The times of the SOP steps GitHub knows go in too, each only when GitHub says it plainly (a pull
request's body is anyone's text and is never read):
- Opened-At: the pull request's created_at.
- Requested-At: the created_at of the issue the intake workflow turned into the pull request: only
  for a head branch permohonan/issue-<N> of a pull request a bot opened.
- Checked-At and Availability-At: from the availability form the pull-request workflow keeps as
  one comment: the last comment by github-actions[bot] whose first line is AVAILABILITY_MARKER.
  Its second line, `<!-- bandwidth-checked-at: TIME commit: SHA -->`, says when `bandwidth check`
  ran and on which commit: Checked-At when that is the approved head; the comment's updated_at is
  Availability-At.
A time GitHub cannot give (an API error, a deleted issue) is left out with a warning: the
disposition itself is what the note is for.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys

from bandwidth import gitread
from bandwidth.errors import UsageError
from bandwidth.github import approvals
from bandwidth.history import chain, disposition, signature

BOT = "github-actions[bot]"  # the login of the workflows' token: the only author of the availability comment
AVAILABILITY_MARKER = "<!-- bandwidth-availability -->"
CHECKED_LINE = re.compile(f"<!-- bandwidth-checked-at: ({disposition.TIME}) commit: ([0-9a-f]{{40}}|[0-9a-f]{{64}}) -->")
INTAKE_BRANCH = re.compile(r"permohonan/issue-([1-9][0-9]{0,8})")


def _warn(message: str) -> None:
    print(f"bandwidth: warning: {message}", file=sys.stderr)


def _time(value) -> str | None:
    """A time from GitHub as the trailers take it, or None."""
    return value if isinstance(value, str) and disposition.is_time(value) else None


def _intake_issue(github: approvals.GitHub, repo: str, result: approvals.Result) -> dict | None:
    """The issue the intake workflow turned into this pull request (a bot's, from branch permohonan/issue-<N>), else None."""
    branch = INTAKE_BRANCH.fullmatch(result.head_ref or "")
    if branch is None or not result.author.endswith("[bot]"):
        return None
    try:
        issue = github.get(f"/repos/{repo}/issues/{branch.group(1)}")
    except approvals.ApiError as exc:
        _warn(f"no Requested-At, no Letter: {exc}")
        return None
    if not isinstance(issue, dict) or issue.get("pull_request") is not None:  # the number of a pull request is no intake issue
        return None
    return issue


def _letter(root, issue: dict | None) -> tuple[str, str] | None:
    """(date, number) of the Surat Permohonan the intake form names: every form asks for it under the same labels."""
    from bandwidth.allocations import intake

    if root is None or issue is None or not isinstance(issue.get("body"), str):
        return None
    try:
        labels = intake.form_labels(root)
    except UsageError:
        return None
    answers = intake.parse_body(issue["body"], {label: field for label, field in labels.items() if field in ("letter_number", "letter_date")})
    number, date = " ".join(answers.get("letter_number", "").split()), answers.get("letter_date", "").strip()
    if not number or not disposition.valid("Letter", f"{date} {number}"):
        _warn("no Letter: the intake issue's letter number or date does not read")
        return None
    return date, number


def _availability(github: approvals.GitHub, repo: str, number: int, head: str) -> tuple[str | None, str | None]:
    """(Checked-At, Availability-At) from the pull request's availability comment."""
    try:
        comments = github.get_all(f"/repos/{repo}/issues/{number}/comments")
    except approvals.ApiError as exc:
        _warn(f"no Checked-At, no Availability-At: {exc}")
        return None, None
    ours = [
        c for c in comments
        if isinstance(c, dict) and isinstance(c.get("user"), dict) and c["user"].get("login") == BOT
        and isinstance(c.get("body"), str) and c["body"].split("\n", 1)[0].removesuffix("\r") == AVAILABILITY_MARKER
    ]  # fmt: skip
    if not ours:
        return None, None
    comment = ours[-1]
    second = (comment["body"].split("\n", 2) + [""])[1].removesuffix("\r")
    checked = CHECKED_LINE.fullmatch(second)
    checked_at = None
    if checked is None and second.startswith("<!-- bandwidth-checked-at"):
        _warn(f"no Checked-At: the checked-at line of the availability form of PR #{number} is malformed")
    elif checked and checked.group(2) != head:
        _warn(f"no Checked-At: the availability form of PR #{number} is for commit {checked.group(2)[:12]}, not the approved head {head[:12]}")
    elif checked:
        checked_at = _time(checked.group(1))
    return checked_at, _time(comment.get("updated_at")) or _time(comment.get("created_at"))


def _merged_pull(github: approvals.GitHub, repo: str, sha: str) -> int | None:
    pulls = github.get(f"/repos/{repo}/commits/{sha}/pulls")
    if not isinstance(pulls, list):
        raise approvals.ApiError(f"/repos/{repo}/commits/{sha}/pulls: expected a list")
    merged = [p for p in pulls if isinstance(p, dict) and p.get("merged_at")]
    exact = [p for p in merged if p.get("merge_commit_sha") == sha]
    chosen = (exact or merged or [None])[0]
    return int(chosen["number"]) if chosen else None


def _emergency(args, sha: str) -> tuple[str, str, str]:
    """(login, now, reason) when --emergency-by is a member of the chain's last role at `sha` and the reason fits a trailer."""
    from bandwidth.history import gate

    login, reason = args.emergency_by or "", " ".join((args.emergency_reason or "").split())
    if not reason or len(reason) > 200 or not re.fullmatch(r"[ -~]+", reason):
        raise UsageError("--emergency-reason: one line of printable ASCII, 1 to 200 characters, is required")
    title, members = gate.last_role(args.repo, sha)
    if login not in members:
        raise UsageError(f"--emergency-by {login!r}: only a member of the chain's last role ({title or 'unreadable'}: {', '.join(members) or '-'}) may apply without the chain")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return login, now, reason


def build(repo: str, sha: str, pr: int | None, github: approvals.GitHub, root=None) -> disposition.Disposition:
    record = disposition.Disposition()
    number = pr if pr is not None else _merged_pull(github, repo, sha)
    if number is None:  # pushed to main directly: no disposition at all, and the note says so
        record.missing.append((disposition.NO_PULL_REQUEST, "pushed without a pull request"))
        return record
    result = approvals.evaluate(repo, number, github)
    record.pull_request = number
    record.requested_by = result.author
    record.approved_commit = result.head
    record.opened_at = _time(result.opened_at)
    issue = _intake_issue(github, repo, result)
    record.requested_at = _time(issue.get("created_at")) if issue else None
    record.letter = _letter(root, issue)
    record.checked_at, record.availability_at = _availability(github, repo, number, result.head)
    for outcome in result.outcomes:
        if outcome.login:
            record.approvals.append(disposition.Approval(outcome.role.role, outcome.login, outcome.at or ""))
        else:
            record.missing.append((outcome.role.role, outcome.missing or "no approval yet"))
    for login, _at in result.blocked_by:
        record.missing.append((disposition.CHANGES_REQUESTED, f"changes requested by {login}"))
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
        record = build(args.github_repo, sha, args.pr, approvals.GitHub(), args.repo)
    except approvals.ApiError as exc:
        raise UsageError(str(exc)) from None
    if args.applied_at:
        record.applied_at, record.applied = args.applied_at, args.applied_result
    if args.emergency_by is not None or args.emergency_reason is not None:
        record.emergency = _emergency(args, sha)
    if args.sign_key is not None:  # the link a rewritten refs/notes/bandwidth breaks (history.chain)
        verifier = signature.Verifier(gitread.file_at(args.repo, sha, signature.ALLOWED_SIGNERS))
        record.previous_record = chain.previous_verified(args.repo, sha, gitread.notes(args.repo), verifier)
    try:
        trailers = record.trailers()
    except ValueError as exc:  # e.g. a role name in disposition.yml that the trailer format cannot carry
        raise UsageError(f"cannot record {sha[:12]}: {exc}") from None
    note = trailers
    if args.sign_key is not None:
        try:
            note = signature.sign(args.sign_key, sha, trailers)
        except signature.SignatureError as exc:
            raise UsageError(str(exc)) from None
    if args.print_only:
        sys.stdout.write(note)
        return 0
    if not gitread.git(args.repo, "config", "user.email", check=False).strip() and "GIT_COMMITTER_EMAIL" not in os.environ:
        # A runner without a git identity: the note still needs a committer.
        os.environ.update({"GIT_COMMITTER_NAME": "bandwidth record", "GIT_COMMITTER_EMAIL": "bandwidth-record@localhost"})
    gitread.git(args.repo, "notes", f"--ref={gitread.NOTES_REF}", "add", "--force", "--file=-", sha, stdin=note.encode())
    what = f"PR #{record.pull_request}" if record.pull_request is not None else "no pull request"
    signed = "signed" if args.sign_key is not None else "unsigned: `bandwidth audit` shows it unverified"
    print(f"recorded on {sha[:12]} in {gitread.NOTES_REF}: {what}, {len(record.approvals)} approval(s), {len(record.missing)} missing ({signed})")
    if record.missing:
        print(f"bandwidth: warning: disposition of {sha[:12]} incomplete: " + "; ".join(f"{r}: {w}" for r, w in record.missing), file=sys.stderr)
    return 0
