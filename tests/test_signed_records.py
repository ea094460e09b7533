"""The audit trail cannot be written by a requester: only a note the workflow signed counts as a verified record.

A repository whose main trusts one key (.github/allowed-signers); PR #11 merged and recorded by the workflow with
that key; then what someone with write access could do instead: a note written by hand, a note signed with their
own key, the workflow's note altered or copied onto another commit, and trailers in a squash commit's message.
`bandwidth audit` shows each as unverified.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bandwidth.history import signature
from conftest import BANDWIDTH, CHAIN, GH_REPO, SITI, History, Repo, bandwidth, record, serve_pull

FULL_CHAIN = (  # what a forger would claim: the whole chain
    "Bandwidth-Pull-Request: {pr}\n"
    "Bandwidth-Disposition: kasubag_tu tu-1 2026-11-03T01:00:00Z\n"
    "Bandwidth-Disposition: administrator_tik admin-1 2026-11-03T02:00:00Z\n"
    "Bandwidth-Disposition: kasi_infrastruktur kasi-1 2026-11-03T03:00:00Z\n"
)


def keypair(folder: Path, name: str) -> tuple[Path, str]:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    kind, blob = (folder / f"{name}.pub").read_text().split()[:2]
    return key, f'{signature.PRINCIPAL} namespaces="{signature.NAMESPACE}" {kind} {blob}\n'


def note(h: History, commit: str, text: str) -> None:
    h.git("notes", "--ref=bandwidth", "add", "--force", "-m", text, commit)


def audited(repo: Repo) -> dict[str, dict]:
    done = subprocess.run([BANDWIDTH, "audit", "--format=json"], cwd=repo.path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return {e["commit"]: e for e in json.loads(done.stdout)["events"]}


@pytest.fixture
def signed(repo: Repo, httpserver, tmp_path: Path):
    """main trusts the workflow's key; PR #11 is merged and recorded with it. (history, key, the merge, its base, its head)"""
    h = History(repo)
    key, allowed = keypair(tmp_path, "workflow")
    repo.write(".github/disposition.yml", CHAIN)
    repo.write(signature.ALLOWED_SIGNERS, allowed)
    repo.request("BW-2026-0001", "gw-a", subnets="[198.18.1.0/24]")
    h.commit("Inventaris dan alokasi pertama")
    h.git("checkout", "-q", "-b", "pr-11")
    repo.request("BW-2026-0002", "gw-a", subnets="[198.18.2.0/24]")
    head = h.commit("Permohonan BW-2026-0002", who=SITI, date="2026-11-03T08:00:00+08:00")
    h.git("checkout", "-q", "main")
    base = h.git("rev-parse", "HEAD")
    merge = h.merge("pr-11", "Merge pull request #11 from dinkes/pr-11", "2026-11-03T14:00:00+08:00")
    serve_pull(httpserver, 11, merge, head, base, "siti-rahma", "2026-11-03")
    record(repo, httpserver, merge, "--sign-key", str(key))
    return h, key, merge


def test_the_workflows_signed_note_is_verified(repo: Repo, signed):
    _h, _key, merge = signed
    events = audited(repo)
    assert events[merge]["verified"] is True and [a["login"] for a in events[merge]["approvers"]] == ["tu-1", "admin-1", "kasi-1"]
    text = subprocess.run([BANDWIDTH, "audit", "BW-2026-0002"], cwd=repo.path, capture_output=True, text=True, timeout=60, check=True).stdout
    assert "PR #11, kasubag_tu=tu-1, administrator_tik=admin-1, kasi_infrastruktur=kasi-1, verified" in text


def later_change(h: History, repo: Repo, message: str, date: str) -> str:
    repo.request("BW-2026-0003", "gw-a", subnets="[198.18.3.0/24]")
    return h.commit(message, date=date)


def test_a_note_written_by_hand_is_unverified(repo: Repo, signed):
    h, _key, _merge = signed
    pushed = later_change(h, repo, "Langsung ke main", "2026-11-04T09:00:00+08:00")
    note(h, pushed, FULL_CHAIN.format(pr=12))  # claims the whole chain
    event = audited(repo)[pushed]
    assert event["verified"] is False and [a["login"] for a in event["approvers"]] == ["tu-1", "admin-1", "kasi-1"]  # shown, but not trusted
    assert "UNVERIFIED (not a note signed by the workflow)" in subprocess.run([BANDWIDTH, "audit"], cwd=repo.path, capture_output=True, text=True, check=True).stdout


def test_a_note_signed_with_another_key_is_unverified(repo: Repo, signed, tmp_path: Path):
    h, _key, _merge = signed
    pushed = later_change(h, repo, "Langsung ke main", "2026-11-04T09:00:00+08:00")
    other, _ = keypair(tmp_path, "attacker")
    note(h, pushed, signature.sign(other, pushed, FULL_CHAIN.format(pr=12)))
    assert audited(repo)[pushed]["verified"] is False


def test_the_workflows_note_altered_or_copied_is_unverified(repo: Repo, signed):
    h, _key, merge = signed
    original = h.git("notes", "--ref=bandwidth", "show", merge) + "\n"
    note(h, merge, original.replace("kasi-1", "kasi-2"))  # one approver changed, signature kept
    assert audited(repo)[merge]["verified"] is False
    note(h, merge, original)
    assert audited(repo)[merge]["verified"] is True
    pushed = later_change(h, repo, "Langsung ke main", "2026-11-04T09:00:00+08:00")
    note(h, pushed, original)  # the merge's genuine note, onto another commit
    assert audited(repo)[pushed]["verified"] is False


def test_trailers_in_a_commit_message_are_unverified(repo: Repo, signed, httpserver):
    """A squash message is the requester's text (their commit message or the pull request's body)."""
    h, key, _merge = signed
    printed = bandwidth(repo, httpserver, "record", "--github-repo", GH_REPO, "--pr", "11", "--print", "--sign-key", str(key))
    assert printed.returncode == 0 and "-----BEGIN SSH SIGNATURE-----" in printed.stdout
    squash = later_change(h, repo, f"Naikkan BW-2026-0003 (#11)\n\n{printed.stdout}", "2026-11-05T09:00:00+08:00")
    event = audited(repo)[squash]
    assert event["pull_request"] == 11 and event["verified"] is False


def test_a_record_deleted_or_replaced_on_the_origin_breaks_the_chain_audit_says_so_and_the_gate_refuses(repo: Repo, signed, httpserver):
    """refs/notes/bandwidth is not protected by any rule: each signed record names the one before it."""
    h, key, merge = signed
    first = h.git("rev-list", "--max-parents=0", "HEAD")
    note(h, first, signature.sign(key, first, "Bandwidth-Applied: 2026-11-02T02:00:00Z success\n"))
    record(repo, httpserver, merge, "--sign-key", str(key), "--applied-at", "2026-11-03T07:00:00Z")  # signed after the first one's
    assert f"Bandwidth-Previous-Record: {first}" in h.git("notes", "--ref=bandwidth", "show", merge)

    def audit_and_gate() -> tuple[str, subprocess.CompletedProcess]:
        audit = subprocess.run([BANDWIDTH, "audit"], cwd=repo.path, capture_output=True, text=True, timeout=60, check=True)
        gate = subprocess.run([BANDWIDTH, "gate"], cwd=repo.path, capture_output=True, text=True, timeout=60, check=False)
        return audit.stderr, gate

    warnings, gate = audit_and_gate()
    assert "rewritten" not in warnings and gate.returncode == 0, warnings + gate.stdout
    rewritten = f"the record on {first[:12]}, named by the signed record on {merge[:12]}, is gone or no longer verifies"
    h.git("notes", "--ref=bandwidth", "remove", first)  # deleted
    warnings, gate = audit_and_gate()
    assert f"refs/notes/bandwidth was rewritten: {rewritten}" in warnings
    assert gate.returncode == 1 and f"its record names the record on {first[:12]}, which is gone or no longer verifies" in gate.stdout
    note(h, first, "Bandwidth-Applied: 2026-11-02T02:00:00Z success\n")  # replaced by one that does not verify
    warnings, gate = audit_and_gate()
    assert rewritten in warnings and gate.returncode == 1
