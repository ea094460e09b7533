"""`bandwidth gate`: may the gateways take main? Decided from git alone, before any change to a gateway.

Every commit of main's first-parent history since the last one applied (a verified record with `Applied:
... success`) that changes allocations/ or inventory/ must carry a verified disposition record (a note the
workflow signed, history.signature) that is complete: every role of the chain approved, nothing missing.
A verified emergency record (`Emergency:` login, time, reason: a dispatch of the apply workflow by a member
of the chain's last role) on a commit stands for that commit and every one before it. Without any applied
or emergency record in the history, every change since the first commit needs its record: the first apply
of a repository is an emergency, by the last role, saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bandwidth import gitread
from bandwidth.escape import code_span
from bandwidth.escape import markdown as md
from bandwidth.history import chain, disposition, signature

WATCHED = ("allocations/", "inventory/")
DISPOSITION_FILE = ".github/disposition.yml"
TITLE = "Perubahan tanpa disposisi lengkap tidak diterapkan"


@dataclass
class Refusal:
    commit: str
    subject: str
    why: str  # English, for the log
    alasan: str  # Bahasa Indonesia, for the issue


@dataclass
class Decision:
    head: str
    since: str | None  # the last commit applied or covered by an emergency (None: the whole history was judged)
    since_why: str | None  # "applied" or "emergency"
    judged: list[str] = field(default_factory=list)  # the commits that changed allocations/ or inventory/ since then
    refused: list[Refusal] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.refused


def decide(root: Path, ref: str = "HEAD") -> Decision:
    head = gitread.resolve(root, ref)
    lines = gitread.text(gitread.git(root, "log", "--first-parent", "--format=%H %s", head)).splitlines()
    subjects = dict(line.partition(" ")[::2] for line in lines)  # sha -> subject, newest first (dicts keep their order)
    touching = set(gitread.text(gitread.git(root, "log", "--first-parent", "--diff-merges=first-parent", "--format=%H", head, "--", *WATCHED)).split())
    notes = gitread.notes(root)
    verifier = signature.Verifier(gitread.file_at(root, head, signature.ALLOWED_SIGNERS))
    decision = Decision(head, None, None)
    for sha, subject in subjects.items():  # newest first
        record = _verified(notes.get(sha), sha, verifier)
        if record and record.applied == "success" and record.applied_at:
            decision.since, decision.since_why = sha, "applied"
            break
        if record and record.emergency:
            decision.since, decision.since_why = sha, "emergency"
            break
        if sha not in touching:
            continue
        decision.judged.append(sha)
        refusal = _refusal(notes.get(sha), record, sha, subject)
        if refusal:
            decision.refused.append(refusal)
    decision.refused.reverse()  # oldest first, as they landed
    # The records judged, and the one it starts from, must still be linked to the records they were signed after.
    walked = list(subjects)
    upto = walked.index(decision.since) + 1 if decision.since else len(walked)
    for link in chain.breaks(walked[:upto], notes, verifier):
        decision.refused.append(Refusal(
            link.commit, subjects.get(link.commit, ""),
            f"its record names the record on {link.previous[:12]}, which is gone or no longer verifies: {gitread.NOTES_REF} was rewritten",
            f"catatannya merujuk catatan pada commit {link.previous[:12]} yang hilang atau berubah: {gitread.NOTES_REF} ditulis ulang",
        ))  # fmt: skip
    return decision


def _verified(note: str | None, sha: str, verifier: signature.Verifier) -> disposition.Disposition | None:
    if note is None or not verifier.verified(sha, note):
        return None
    return disposition.parse(signature.split(note)[0])


def _refusal(note: str | None, record: disposition.Disposition | None, sha: str, subject: str) -> Refusal | None:
    if note is None:
        return Refusal(sha, subject, "no disposition recorded", "tidak ada catatan disposisi")
    if record is None:
        return Refusal(sha, subject, "its record is not signed by the workflow (unverified)", "catatan disposisinya tidak ditandatangani workflow (tidak terverifikasi)")
    if any(role == disposition.NO_PULL_REQUEST for role, _why in record.missing):
        return Refusal(sha, subject, "pushed to main without a pull request", "di-push langsung ke main tanpa pull request")
    if record.missing or not record.approvals:
        missing = ", ".join(f"{role} ({why})" for role, why in record.missing) or "every role"
        return Refusal(sha, subject, f"disposition incomplete: missing {missing}", f"disposisi belum lengkap: belum ada {missing}")
    return None


def emergency_of(root: Path, commit: str) -> dict | None:
    """{"login", "time", "reason"} of a verified emergency record on `commit` (the one applied), else None."""
    note = gitread.notes(root).get(commit)
    record = _verified(note, commit, signature.Verifier(gitread.file_at(root, commit, signature.ALLOWED_SIGNERS)))
    return dict(zip(("login", "time", "reason"), record.emergency, strict=True)) if record and record.emergency else None


def text(decision: Decision) -> str:
    since = f"since {decision.since[:12]} ({decision.since_why})" if decision.since else "in the whole history (nothing applied or covered by an emergency yet)"
    if decision.allowed:
        return f"gate: main {decision.head[:12]} may be applied: {len(decision.judged)} change(s) {since}, each with a complete, verified disposition\n"
    lines = [f"gate: main {decision.head[:12]} is NOT applied: {len(decision.refused)} of {len(decision.judged)} change(s) {since} lack a complete, verified disposition"]
    lines += [f"  {r.commit[:12]} {r.subject[:72]}: {r.why}" for r in decision.refused]
    return "\n".join(lines) + "\n"


def last_role(root: Path, head: str) -> tuple[str, list[str]]:
    """(title, members) of the chain's last role in .github/disposition.yml at `head`; ("", []) when unreadable."""
    try:
        chain = yaml.safe_load(gitread.file_at(root, head, DISPOSITION_FILE) or "")["chain"]
        role = chain[-1]
        return str(role.get("title", role["role"])), [str(m) for m in role.get("members") or []]
    except (yaml.YAMLError, KeyError, TypeError, IndexError):
        return "", []


def issue(root: Path, decision: Decision, run_url: str | None = None) -> str:
    """The issue TITLE in Bahasa Indonesia: which commits, why, and who decides (the last role, mentioned)."""
    title, members = last_role(root, decision.head)
    mentions = " ".join(f"@{m}" for m in members if re.fullmatch(disposition.LOGIN, m))
    out = [
        f"Workflow **Terapkan** tidak mengubah gateway mana pun: main ({code_span(decision.head[:12])}) memuat perubahan pada "
        "`allocations/` atau `inventory/` yang tidak membawa catatan disposisi lengkap yang ditandatangani workflow.",
        "",
        "| Commit | Judul | Alasan |",
        "|---|---|---|",
    ]
    out += [f"| {code_span(r.commit[:12])} | {md(r.subject[:100])} | {md(r.alasan)} |" for r in decision.refused]
    out += [
        "",
        f"Tindak lanjut ({md(title) or 'pejabat terakhir rantai disposisi'}{': ' + mentions if mentions else ''}): kembalikan perubahan itu "
        "lewat pull request yang melalui rantai disposisi, atau, bila memang darurat, jalankan workflow **Terapkan** (workflow_dispatch) "
        "dengan alasan; alasan, pelaku dan waktunya dicatat pada commit dan tampil di laporan dan `bandwidth audit`.",
    ]
    if run_url:
        out += ["", f"Run: {run_url}"]
    return "\n".join(out) + "\n"
