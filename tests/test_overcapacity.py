"""`bandwidth overcapacity`: two merged pull requests that each fit but together overflow an uplink."""

from __future__ import annotations

import os
import subprocess

from conftest import BANDWIDTH, Repo

GH_REPO = "pemprov-kaltim/bandwidth"
CHAIN = """\
ordered: true
chain:
  - {role: kasubag_tu, title: Kasubag TU, members: [tu-1]}
  - {role: kasi_infrastruktur, title: Kasi Infrastruktur TIK, members: [kasi-1, kasi-2]}
"""


def merge(repo: Repo, branch_commit: str, number: int) -> str:
    repo.git("merge", "--no-ff", "--quiet", "-m", f"Merge pull request #{number} from pemprov-kaltim/pr-{number}", branch_commit)
    return repo.git("rev-parse", "HEAD").strip()


def branch(repo: Repo, name: str, request_id: str, guaranteed: int, github: str) -> str:
    repo.git("switch", "--quiet", "-c", name, "main")
    repo.request(
        request_id,
        subnets=f"[198.18.{int(request_id[-2:])}.0/24]",
        download=f"{{guaranteed_mbps: {guaranteed}, max_mbps: {guaranteed}}}",
        contact=f"{{name: Pemohon, email: p@example.go.id, github: {github}}}",
    )
    repo.git("add", "-A")
    repo.git("commit", "--quiet", "-m", f"Permohonan {request_id}")
    sha = repo.git("rev-parse", "HEAD").strip()
    repo.git("switch", "--quiet", "main")
    return sha


def test_both_pull_requests_and_the_kasi_are_named(repo: Repo, httpserver):
    # gw-a/isp-a: 100 Mbit/s download, 10% reserve: 90 can be guaranteed; 10 taken on main.
    repo.write(".github/disposition.yml", CHAIN)
    repo.request("BW-2026-0001")
    repo.git("init", "--quiet", "-b", "main")
    repo.git("add", "-A")
    repo.git("commit", "--quiet", "-m", "main")
    applied = repo.git("rev-parse", "HEAD").strip()
    repo.git("notes", "--ref=refs/notes/bandwidth", "add", "-m", "Bandwidth-Applied: 2026-11-27T05:04:00Z success", applied)
    first = branch(repo, "pr-5", "BW-2026-0002", 50, "budi")  # 60 of 90: fits
    second = branch(repo, "pr-6", "BW-2026-0003", 40, "sari")  # 50 of 90: fits; with the first, 100
    merge_5 = merge(repo, first, 5)
    merge_6 = merge(repo, second, 6)
    assert repo.check().returncode == 1
    for number, sha, author in ((5, merge_5, "andi"), (6, merge_6, "github-actions[bot]")):
        httpserver.expect_request(f"/repos/{GH_REPO}/commits/{sha}/pulls").respond_with_json(
            [{"number": number, "merged_at": "2026-11-28T01:00:00Z", "merge_commit_sha": sha, "user": {"login": author}}]
        )
    env = {**os.environ, "GITHUB_API_URL": httpserver.url_for("").rstrip("/"), "GITHUB_TOKEN": "test-token"}
    done = subprocess.run(
        [BANDWIDTH, "overcapacity", "--github-repo", GH_REPO, "--today", "2026-11-28", "--run-url", "https://example.invalid/run/1"],
        cwd=repo.path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    body = done.stdout
    assert body.startswith("<!-- bandwidth-overcapacity -->\n")
    assert "### Kapasitas uplink gw-a/isp-a terlampaui" in body
    assert f"sejak `main` yang terakhir diterapkan ke gateway (commit `{applied[:12]}`)" in body
    assert "| ` allocations/gw-a/BW-2026-0002.yaml ` | #5 | @andi | @budi |" in body
    assert "| ` allocations/gw-a/BW-2026-0003.yaml ` | #6 | ` github-actions[bot] ` | @sari |" in body  # a bot is not mentioned
    assert "@kasi-1 @kasi-2 (Kasi Infrastruktur TIK), @andi @budi @sari:" in body
    assert "&#" not in body
    assert "Run: https://example.invalid/run/1" in body


def test_without_a_note_the_last_passing_main_is_the_start(repo: Repo, httpserver):
    repo.request("BW-2026-0001")
    repo.git("init", "--quiet", "-b", "main")
    repo.git("add", "-A")
    repo.git("commit", "--quiet", "-m", "main")
    first = branch(repo, "pr-5", "BW-2026-0002", 50, "budi")
    second = branch(repo, "pr-6", "BW-2026-0003", 40, "sari")
    merge_5 = merge(repo, first, 5)
    merge_6 = merge(repo, second, 6)
    httpserver.expect_request(f"/repos/{GH_REPO}/commits/{merge_6}/pulls").respond_with_json([{"number": 6, "merged_at": "x", "merge_commit_sha": merge_6, "user": {"login": "sari"}}])
    env = {**os.environ, "GITHUB_API_URL": httpserver.url_for("").rstrip("/"), "GITHUB_TOKEN": "t"}
    done = subprocess.run([BANDWIDTH, "overcapacity", "--github-repo", GH_REPO, "--today", "2026-11-28"], cwd=repo.path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert f"sejak `main` yang terakhir lolos pemeriksaan (commit `{merge_5[:12]}`)" in done.stdout
    assert "BW-2026-0003.yaml ` | #6 | @sari | @sari |" in done.stdout and "BW-2026-0002.yaml ` |" not in done.stdout


def test_a_main_that_passes_gets_no_issue(repo: Repo):
    repo.request("BW-2026-0001")
    repo.git("init", "--quiet", "-b", "main")
    repo.git("add", "-A")
    repo.git("commit", "--quiet", "-m", "main")
    env = {**os.environ, "GITHUB_API_URL": "http://127.0.0.1:9", "GITHUB_TOKEN": "t"}
    done = subprocess.run([BANDWIDTH, "overcapacity", "--github-repo", GH_REPO, "--today", "2026-11-28"], cwd=repo.path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout == ""
    assert "passes the check" in done.stderr
