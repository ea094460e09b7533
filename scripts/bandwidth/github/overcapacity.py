"""`bandwidth overcapacity`: when main itself fails the check, the issue that says who must act.

Two pull requests that each fit can together overflow an uplink once both are merged. The apply
workflow's re-check of main then fails and nothing is applied (the gateways keep what was applied
last), which alone is only a red run. Its job *Issue pemeriksaan ulang main* runs this command and
opens (or comments on) an issue with what it prints: per overflowing uplink the check's message,
the request files that came since main last passed the check, the pull requests that merged them
with their authors and requesters, and the members of the last role of the disposition chain (the
Kasi Infrastruktur TIK), all as @mentions. Other errors of main are listed too.

"Since": the newest first-parent ancestor of --commit that was applied (a `Bandwidth-Applied: ...
success` note of `bandwidth record`; the workflow fetches refs/notes/bandwidth), else the newest
that passes `bandwidth check` today (searched back --depth commits); the check is run again with it
as --base, so that the capacity errors blame the requests that came since. The pull requests come from the REST API
(GITHUB_API_URL, GITHUB_TOKEN), as for `bandwidth approvals`.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from bandwidth import gitread
from bandwidth.allocations.checker import CheckOptions, local_today, run_check
from bandwidth.errors import UsageError
from bandwidth.escape import code_span, plain
from bandwidth.github import approvals

MARKER = "<!-- bandwidth-overcapacity -->"
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")


def mention(login: str | None) -> str:
    """An @mention of a person; a bot or anything that is not a plain login stands as text."""
    if login and LOGIN.fullmatch(login):
        return f"@{login}"
    return plain(login) if login else "-"


def since(root: Path, sha: str, inventory: str, today, depth: int) -> tuple[str | None, str]:
    """Where the requests that are not yet on the gateways begin: the newest first-parent ancestor of
    `sha` that was applied (its note under refs/notes/bandwidth says `Bandwidth-Applied: ... success`),
    else the newest that passes the check today. (None, "") when there is neither within `depth`."""
    from bandwidth.history import disposition

    parents = gitread.text(gitread.git(root, "rev-list", "--first-parent", f"--max-count={depth}", f"{sha}^", check=False)).split()
    notes = gitread.notes(root)
    for parent in parents:
        record = disposition.parse(notes.get(parent, ""))
        if record and record.applied == "success":
            return parent, "terakhir diterapkan ke gateway"
    for parent in parents:
        with tempfile.TemporaryDirectory(prefix="bandwidth-overcapacity-") as folder:
            try:
                gitread.extract_tree(root, parent, Path(folder), inventory)
            except UsageError:
                continue
            if not run_check(CheckOptions(root=Path(folder), inventory=inventory, today=today)).errors:
                return parent, "terakhir lolos pemeriksaan"
    return None, ""


def merged_pull(github: approvals.GitHub, repo: str, sha: str) -> dict | None:
    pulls = github.get(f"/repos/{repo}/commits/{sha}/pulls")
    merged = [p for p in pulls if isinstance(p, dict) and p.get("merged_at")] if isinstance(pulls, list) else []
    exact = [p for p in merged if p.get("merge_commit_sha") == sha]
    return (exact or merged or [None])[0]


def build(root: Path, repo: str, sha: str, inventory: str, today, depth: int, run_url: str, github: approvals.GitHub) -> tuple[str, bool]:
    """The issue body (Markdown, Bahasa Indonesia), and whether main fails the check at all."""
    good, what = since(root, sha, inventory, today, depth)
    result = run_check(CheckOptions(root=root, inventory=inventory, base=good, today=today))
    if not result.errors:
        return "", False
    by_path = {a.path: a for a in result.allocations}
    overflows: dict[tuple[str, str], list] = defaultdict(list)
    others = []
    for problem in result.errors:
        allocation = by_path.get(problem.path)
        if problem.rule == "capacity" and allocation is not None:
            overflows[(allocation.gateway, allocation.uplink)].append(problem)
        else:
            others.append(problem)

    lines = [MARKER, f"Pemeriksaan ulang `main` pada commit `{sha[:12]}` gagal (`bandwidth check`): **konfigurasi gateway tidak diterapkan**."]
    lines.append("Gateway tetap pada konfigurasi yang terakhir diterapkan; permohonan yang baru di-merge belum berlaku.")
    if run_url:
        lines.append(f"Run: {run_url}")
    window = f"sejak `main` yang {what} (commit `{good[:12]}`)" if good else f"(tidak ada `main` yang lolos pemeriksaan dalam {depth} commit terakhir: permohonan terbaru)"
    people: list[str] = []
    for (gateway, uplink), problems in sorted(overflows.items()):
        lines += ["", f"### Kapasitas uplink {plain(gateway)}/{plain(uplink)} terlampaui", ""]
        lines += [f"- {code_span(p.message)}" for p in sorted(problems, key=lambda p: (p.path, p.message))]
        lines += ["", f"Permohonan pada uplink ini {window}:", "", "| Berkas | Pull request | Dibuka oleh | Pemohon (contact.github) |", "|---|---|---|---|"]
        for path in sorted({p.path for p in problems}):
            allocation = by_path[path]
            log_range = f"{good}..{sha}" if good else sha
            commits = gitread.text(gitread.git(root, "log", "--first-parent", "--format=%H", log_range, "--", path, check=False)).split()
            pulls = [pull for pull in (merged_pull(github, repo, commit) for commit in commits[: 1 if not good else 20]) if pull]
            numbers = ", ".join(f"#{int(pull['number'])}" for pull in pulls) or "tanpa pull request (push langsung)"
            authors = sorted({(pull.get("user") or {}).get("login") or "" for pull in pulls} - {""})
            people += authors + [allocation.contact_github or ""]
            lines.append(f"| {code_span(path)} | {numbers} | {', '.join(mention(a) for a in authors) or '-'} | {mention(allocation.contact_github)} |")
    if others:
        lines += ["", "### Masalah lain pada main", ""]
        lines += [f"- {code_span(f'{p.path}:{p.line}: {p.message}')}" for p in others[:50]]
        if len(others) > 50:
            lines.append(f"- ... dan {len(others) - 50} lagi (lihat log run)")

    role = _last_role(root)
    kasi = [mention(m) for m in role.members] if role else []
    who = [m for m in dict.fromkeys(mention(login) for login in people if login) if m.startswith("@")]
    lines += ["", "### Tindak lanjut", ""]
    lines.append(
        f"{' '.join(kasi) or '-'} ({plain(role.title) if role else 'Kasi Infrastruktur TIK'})"
        + (f", {' '.join(who)}" if who else "")
        + ": `main` harus kembali lolos `bandwidth check`. Kurangi kecepatan yang dijamin atau batalkan (revert) salah satu"
        " pull request di atas melalui pull request baru; setelah `main` lolos pemeriksaan, workflow **Terapkan** menerapkannya ke gateway."
    )
    return "\n".join(lines) + "\n", True


def _last_role(root: Path) -> approvals.Role | None:
    try:
        _ordered, chain = approvals.load_chain((root / approvals.DISPOSITION_PATH).read_text(encoding="utf-8"))
    except (OSError, approvals.ApiError):
        return None
    return chain[-1]


def run(args) -> int:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", args.github_repo):
        raise UsageError(f"--github-repo {args.github_repo!r}: expected OWNER/NAME")
    sha = gitread.resolve(args.repo, args.commit)
    try:
        body, failing = build(args.repo, args.github_repo, sha, args.inventory, args.today or local_today(), args.depth, args.run_url, approvals.GitHub())
    except approvals.ApiError as exc:
        raise UsageError(str(exc)) from None
    if not failing:  # nothing to write: the caller opens no issue
        print(f"bandwidth: {sha[:12]} passes the check: no issue to write", file=sys.stderr)
        body = ""
    if args.output:
        args.output.write_text(body, encoding="utf-8")
    else:
        sys.stdout.write(body)
    return 0
