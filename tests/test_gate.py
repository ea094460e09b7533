"""`bandwidth gate`: the gateways take main only when every change since the last apply carries a complete, verified
disposition record, or an emergency by the chain's last role covers it. From git alone, through the real CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bandwidth.history import signature
from conftest import BANDWIDTH, CHAIN, GH_REPO, History, Repo, bandwidth

COMPLETE = (
    "Bandwidth-Pull-Request: {pr}\n"
    "Bandwidth-Disposition: kasubag_tu tu-1 2026-11-03T01:00:00Z\n"
    "Bandwidth-Disposition: administrator_tik admin-1 2026-11-03T02:00:00Z\n"
    "Bandwidth-Disposition: kasi_infrastruktur kasi-1 2026-11-03T03:00:00Z\n"
)
ADMIN_MERGE = "Bandwidth-Pull-Request: {pr}\nBandwidth-Disposition: kasubag_tu tu-1 2026-11-03T01:00:00Z\nBandwidth-Disposition-Missing: kasi_infrastruktur no approval yet\n"
APPLIED = "Bandwidth-Applied: 2026-11-02T02:00:00Z success\n"


class Main:
    """A main branch whose records the workflow signs with `key` (trusted by .github/allowed-signers)."""

    def __init__(self, repo: Repo, folder: Path):
        self.repo, self.h = repo, History(repo)
        self.key = folder / "workflow"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)], check=True)
        kind, blob = (folder / "workflow.pub").read_text().split()[:2]
        repo.write(signature.ALLOWED_SIGNERS, f'{signature.PRINCIPAL} namespaces="{signature.NAMESPACE}" {kind} {blob}\n')
        repo.write(".github/disposition.yml", CHAIN)
        self.count = 0

    def change(self, message: str, path: str = "allocations") -> str:
        """A commit on main changing a request file (or, with path="docs", nothing the gateways take)."""
        self.count += 1
        if path == "allocations":
            self.repo.request(f"BW-2026-{self.count:04d}", "gw-a", subnets=f"[198.18.{self.count}.0/24]")
        else:
            self.repo.write(f"docs/catatan-{self.count}.md", "catatan\n")
        return self.h.commit(message, date=f"2026-11-{self.count + 1:02d}T09:00:00+08:00")

    def sign(self, commit: str, trailers: str, key: Path | None = None) -> None:
        note = signature.sign(key or self.key, commit, trailers)
        self.h.git("notes", "--ref=bandwidth", "add", "--force", "-m", note, commit)

    def gate(self, *extra: str) -> subprocess.CompletedProcess:
        done = subprocess.run([BANDWIDTH, "gate", *extra], cwd=self.repo.path, capture_output=True, text=True, timeout=60, check=False)
        assert "Traceback" not in done.stderr, done.stderr
        return done


@pytest.fixture
def main(repo: Repo, tmp_path: Path) -> Main:
    made = Main(repo, tmp_path)
    first = made.change("Inventaris dan alokasi pertama")
    made.sign(first, APPLIED)  # applied before: the history up to here is not judged again
    return made


def test_a_merge_with_the_whole_chain_may_be_applied(main: Main):
    merge = main.change("Merge pull request #11")
    main.sign(merge, COMPLETE.format(pr=11))
    main.change("Dokumentasi saja", path="docs")  # no record needed: nothing the gateways take
    done = main.gate()
    assert done.returncode == 0, done.stdout
    assert "may be applied: 1 change(s) since" in done.stdout and "(applied)" in done.stdout


@pytest.mark.parametrize(
    ("trailers", "why"),
    [
        (ADMIN_MERGE.format(pr=12), "disposition incomplete: missing kasi_infrastruktur (no approval yet)"),  # an admin merge
        ("Bandwidth-Disposition-Missing: pull-request pushed without a pull request\n", "pushed to main without a pull request"),  # a direct push
        (None, "no disposition recorded"),  # nothing recorded at all
    ],
    ids=["admin merge", "direct push", "no record"],
)
def test_a_change_without_the_whole_chain_is_refused_and_named(main: Main, trailers, why, tmp_path: Path):
    good = main.change("Merge pull request #11")
    main.sign(good, COMPLETE.format(pr=11))
    bad = main.change("Perubahan tanpa rantai")
    if trailers:
        main.sign(bad, trailers)
    issue = tmp_path / "issue.md"
    done = main.gate("--output", str(issue), "--run-url", "https://github.invalid/run/1")
    assert done.returncode == 1
    assert f"  {bad[:12]} Perubahan tanpa rantai: {why}" in done.stdout and good[:12] not in done.stdout
    body = issue.read_text(encoding="utf-8")
    assert f"` {bad[:12]} `" in body and "@dewi-lestari-infra" not in body  # the test chain's last role: kasi-1
    assert "@kasi-1" in body and "Run: https://github.invalid/run/1" in body


def test_a_forged_or_foreign_record_does_not_count(main: Main, tmp_path: Path):
    forged = main.change("Merge pull request #12")
    main.h.git("notes", "--ref=bandwidth", "add", "--force", "-m", COMPLETE.format(pr=12), forged)  # written by hand
    foreign = main.change("Merge pull request #13")
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    main.sign(foreign, COMPLETE.format(pr=13), key=other)  # signed, but not by the workflow
    done = main.gate()
    assert done.returncode == 1
    assert f"{forged[:12]} Merge pull request #12: its record is not signed by the workflow (unverified)" in done.stdout
    assert f"{foreign[:12]} Merge pull request #13: its record is not signed by the workflow (unverified)" in done.stdout


def test_only_the_changes_since_the_last_apply_are_judged(main: Main):
    unrecorded = main.change("Langsung ke main")
    applied = main.change("Merge pull request #11")
    main.sign(applied, COMPLETE.format(pr=11) + APPLIED)  # the next run applied it: the push before was judged then
    assert main.gate().returncode == 0
    # An apply that failed is not an apply: the history before it is still judged.
    main.sign(applied, COMPLETE.format(pr=11) + "Bandwidth-Applied: 2026-11-02T02:00:00Z failure\n")
    done = main.gate()
    assert done.returncode == 1 and unrecorded[:12] in done.stdout


def test_an_emergency_by_the_last_role_covers_main_and_is_recorded(main: Main, httpserver):
    pushed = main.change("Langsung ke main saat gangguan")
    assert main.gate().returncode == 1
    httpserver.expect_request(f"/repos/{GH_REPO}/commits/{pushed}/pulls").respond_with_json([])
    refused = bandwidth(main.repo, httpserver, "record", "--github-repo", GH_REPO, "--commit", pushed, "--sign-key", str(main.key), "--emergency-by", "tu-1", "--emergency-reason", "darurat")
    assert refused.returncode == 2 and "only a member of the chain's last role" in refused.stderr and "kasi-1" in refused.stderr
    recorded = bandwidth(
        main.repo, httpserver, "record", "--github-repo", GH_REPO, "--commit", pushed, "--sign-key", str(main.key),
        "--emergency-by", "kasi-1", "--emergency-reason", "gangguan layanan RSUD, disposisi menyusul",
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    done = main.gate()
    assert done.returncode == 0 and "(emergency)" in done.stdout, done.stdout
    audit = subprocess.run([BANDWIDTH, "audit", "--format=json"], cwd=main.repo.path, capture_output=True, text=True, check=True).stdout
    assert '"emergency": {"login": "kasi-1"' in audit and "gangguan layanan RSUD, disposisi menyusul" in audit
