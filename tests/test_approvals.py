"""`bandwidth approvals` against a local HTTP server that answers like the GitHub REST API."""

from __future__ import annotations

import base64
import os
import subprocess

import pytest

from conftest import BANDWIDTH

REPO = "pemprov-kaltim/bandwidth"
HEAD, OLD, BASE = "a" * 40, "b" * 40, "c" * 40
CHAIN = """\
ordered: true
chain:
  - {role: kasubag_tu, title: Kasubag TU, members: [tu-1, tu-2]}
  - {role: administrator_tik, title: Pejabat Administrator Bidang TIK, members: [admin-1, both]}
  - {role: kasi_infrastruktur, title: Pejabat Pengawas / Kasi Infrastruktur TIK, members: [kasi-1, both]}
"""


def review(login, state, at, commit=HEAD, review_id=None):
    return {"id": review_id or hash((login, at)) % 10**6, "user": {"login": login}, "state": state, "submitted_at": at, "commit_id": commit}


GOOD = [
    review("tu-1", "APPROVED", "2026-11-28T01:00:00Z"),
    review("admin-1", "APPROVED", "2026-11-28T02:00:00Z"),
    review("kasi-1", "APPROVED", "2026-11-28T03:00:00Z"),
]


@pytest.fixture
def github(httpserver):
    """Serve a pull request, its reviews (paged by 2) and the chain at base and head."""

    def serve(reviews, author="pemohon", head_chain=None, page_size=2, files=()):
        httpserver.expect_request(f"/repos/{REPO}/pulls/7").respond_with_json({"number": 7, "user": {"login": author}, "head": {"sha": HEAD}, "base": {"sha": BASE}})
        # files: (filename, status, {ref: text}) of the pull request's changed files
        httpserver.expect_request(f"/repos/{REPO}/pulls/7/files", query_string={"per_page": "100"}).respond_with_json([{"filename": name, "status": status} for name, status, _ in files])
        for name, _, versions in files:
            for ref, text in versions.items():
                httpserver.expect_request(f"/repos/{REPO}/contents/{name}", query_string={"ref": ref}).respond_with_json({"content": base64.b64encode(text.encode()).decode(), "encoding": "base64"})
        for ref, text in ((BASE, CHAIN), (HEAD, head_chain or CHAIN)):
            httpserver.expect_request(f"/repos/{REPO}/contents/.github/disposition.yml", query_string={"ref": ref}).respond_with_json(
                {"content": base64.b64encode(text.encode()).decode(), "encoding": "base64"}
            )
        pages = [reviews[i : i + page_size] for i in range(0, len(reviews), page_size)] or [[]]
        for number, page in enumerate(pages, 1):
            headers = {}
            if number < len(pages):
                headers["Link"] = f'<{httpserver.url_for(f"/repos/{REPO}/pulls/7/reviews")}?per_page=100&page={number + 1}>; rel="next"'
            query = {"per_page": "100"} if number == 1 else {"per_page": "100", "page": str(number)}
            httpserver.expect_request(f"/repos/{REPO}/pulls/7/reviews", query_string=query).respond_with_json(page, headers=headers)

    return serve


def approvals(httpserver) -> subprocess.CompletedProcess:
    env = {**os.environ, "GITHUB_API_URL": httpserver.url_for("").rstrip("/"), "GITHUB_TOKEN": "test-token"}
    return subprocess.run([BANDWIDTH, "approvals", "--repo", REPO, "--pr", "7"], capture_output=True, text=True, env=env, timeout=60, check=False)


def test_complete_chain_in_order(github, httpserver):
    github(GOOD)
    done = approvals(httpserver)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Status: **lengkap**" in done.stdout
    assert "| 1 | Kasubag TU | `tu-1` | 2026-11-28T01&#58;00&#58;00Z | disetujui |" in done.stdout
    assert httpserver.log[0][0].headers["Authorization"] == "Bearer test-token"


def test_self_approval_does_not_count(github, httpserver):
    github(GOOD, author="tu-1")
    done = approvals(httpserver)
    assert done.returncode == 1
    assert "| 1 | Kasubag TU | - | - | pemohon tidak boleh menyetujui sendiri |" in done.stdout


def request_file(github_login: str) -> str:
    return f"id: BW-2026-0001\ncontact: {{name: Pemohon, email: p@example.go.id, github: {github_login}}}\n"


def test_the_requesters_approval_does_not_count_when_a_bot_opened_the_pull_request(github, httpserver):
    # The intake workflow opens the pull request as github-actions[bot]; the requester is the file's contact.github.
    github(GOOD, author="github-actions[bot]", files=[("allocations/gw-a/BW-2026-0001.yaml", "added", {HEAD: request_file("tu-1")})])
    done = approvals(httpserver)
    assert done.returncode == 1
    assert "| 1 | Kasubag TU | - | - | pemohon (contact.github) tidak boleh menyetujui sendiri |" in done.stdout


def test_the_requester_of_a_removed_request_is_read_at_the_base(github, httpserver):
    github(GOOD, files=[("allocations/gw-a/BW-2026-0001.yaml", "removed", {BASE: request_file("kasi-1")}), ("README.md", "modified", {})])
    done = approvals(httpserver)
    assert done.returncode == 1
    assert "| 3 | Pejabat Pengawas / Kasi Infrastruktur TIK | - | - | pemohon (contact.github) tidak boleh menyetujui sendiri |" in done.stdout
    assert not any(entry[0].path.endswith("README.md") for entry in httpserver.log)


def test_non_member_does_not_count(github, httpserver):
    github([review("somebody", "APPROVED", "2026-11-28T01:00:00Z"), *GOOD[1:]])
    done = approvals(httpserver)
    assert done.returncode == 1
    assert "| 1 | Kasubag TU | - | - | menunggu persetujuan |" in done.stdout


def test_stale_approval_on_an_older_commit(github, httpserver):
    github([review("tu-1", "APPROVED", "2026-11-28T01:00:00Z", commit=OLD), *GOOD[1:]])
    done = approvals(httpserver)
    assert done.returncode == 1
    assert "persetujuan untuk versi lama; perlu disetujui ulang" in done.stdout


def test_later_changes_requested_blocks(github, httpserver):
    github([*GOOD, review("admin-1", "CHANGES_REQUESTED", "2026-11-28T04:00:00Z")])
    done = approvals(httpserver)
    assert done.returncode == 1
    assert "Diminta perubahan oleh `admin-1`" in done.stdout


def test_a_later_dismissal_voids_an_approval(github, httpserver):
    github([*GOOD, review("kasi-1", "DISMISSED", "2026-11-28T05:00:00Z")])
    assert approvals(httpserver).returncode == 1


def test_plain_comments_do_not_replace_an_approval(github, httpserver):
    github([*GOOD, review("kasi-1", "COMMENTED", "2026-11-28T05:00:00Z")])
    assert approvals(httpserver).returncode == 0


def test_one_person_in_two_roles_counts_once(github, httpserver):
    github([GOOD[0], review("both", "APPROVED", "2026-11-28T02:00:00Z")])
    done = approvals(httpserver)
    assert done.returncode == 1
    assert "| 2 | Pejabat Administrator Bidang TIK | `both` |" in done.stdout
    assert "| 3 | Pejabat Pengawas / Kasi Infrastruktur TIK | - | - | sudah bertindak dalam peran lain |" in done.stdout


def test_out_of_order_approvals(github, httpserver):
    github([review("kasi-1", "APPROVED", "2026-11-28T01:00:00Z"), review("tu-1", "APPROVED", "2026-11-28T02:00:00Z"), review("admin-1", "APPROVED", "2026-11-28T03:00:00Z")])
    done = approvals(httpserver)
    assert done.returncode == 1
    assert "disetujui sebelum peran sebelumnya (urutan disposisi)" in done.stdout


def test_reviews_are_read_across_pages(github, httpserver):
    noise = [review(f"warga-{i}", "COMMENTED", f"2026-11-27T0{i}:00:00Z") for i in range(5)]
    github([*noise, *GOOD], page_size=2)  # 8 reviews, 4 pages: the approvals are on pages 3 and 4
    assert approvals(httpserver).returncode == 0
    assert sum(1 for entry in httpserver.log if entry[0].path.endswith("/reviews")) == 4


def test_the_chain_comes_from_the_base_commit_not_the_head(github, httpserver):
    # The pull request appoints its author as every approver in its own copy of the file.
    evil = "ordered: false\nchain:\n  - {role: kasubag_tu, title: Kasubag TU, members: [kawan]}\n"
    github([review("kawan", "APPROVED", "2026-11-28T01:00:00Z")], head_chain=evil)
    done = approvals(httpserver)
    assert done.returncode == 1
    assert all(entry[0].args.get("ref") != HEAD for entry in httpserver.log)


def test_api_errors_exit_2(httpserver):
    httpserver.expect_request(f"/repos/{REPO}/pulls/7").respond_with_json({"message": "Not Found"}, status=404)
    done = approvals(httpserver)
    assert done.returncode == 2
    assert "HTTP 404" in done.stderr and "Traceback" not in done.stderr
