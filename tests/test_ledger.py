"""`bandwidth ledger`: the availability list today, at a past commit, and at a past date."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BANDWIDTH, GH_REPO, ROOT, Repo, bandwidth, request_text

CHROMIUM = Path("/usr/bin/chromium")


def ledger(repo_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BANDWIDTH, "ledger", *args], cwd=repo_path, capture_output=True, text=True, timeout=60, check=False)


def ledger_json(repo_path: Path, *args: str) -> dict:
    done = ledger(repo_path, "--format=json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def placed(doc: dict) -> dict[str, list[str]]:
    """'gateway/uplink' -> the ids in force."""
    return {f"{g['name']}/{u['name']}": [a["id"] for a in u["allocations"]] for g in doc["gateways"] for u in g["uplinks"]}


def files_at(repo: Repo, commit: str) -> dict[str, list[str]]:
    """What git itself says is there: 'gateway/isp-a' -> ids, from the tree of the commit."""
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", commit, "allocations/"], cwd=repo.path, capture_output=True, text=True, check=True).stdout.split()
    found: dict[str, list[str]] = {"gw-a/isp-a": [], "gw-a/isp-b": [], "gw-b/isp-a": []}
    for name in names:
        _, gateway, file = name.split("/")
        found[f"{gateway}/isp-a"].append(file.removesuffix(".yaml"))
    return found


def test_ledger_at_each_past_commit_matches_that_commit(built):
    repo, steps = built
    for name, step in steps.items():
        doc = ledger_json(repo.path, f"--at={step.commit}")
        assert doc["source"] == {"kind": "commit", "commit": step.commit, "commit_date": doc["source"]["commit_date"]}
        assert doc["date"] == step.date, name
        assert placed(doc) == files_at(repo, step.commit), name
    raised = ledger_json(repo.path, f"--at={steps['raise-0002'].commit}")
    isp_a = raised["gateways"][0]["uplinks"][0]
    assert [a["download"]["max_kbit"] for a in isp_a["allocations"]] == [20_000, 30_000]
    assert isp_a["download"] == {
        "capacity_kbit": 100_000, "reserve_kbit": 10_000, "reserve_percent": 10, "guaranteeable_kbit": 90_000,
        "guaranteed_kbit": 20_000, "max_kbit": 50_000, "free_kbit": 70_000, "available_kbit": 70_000,
    }  # fmt: skip
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repo.path, capture_output=True, text=True, check=True).stdout == ""


def test_ledger_at_a_date_is_main_at_the_end_of_that_day(built):
    repo, steps = built
    assert placed(ledger_json(repo.path, "--at=2026-11-21")) == files_at(repo, steps["move-0002"].commit)
    assert ledger_json(repo.path, "--at=2026-11-21")["date"] == "2026-11-21"
    assert placed(ledger_json(repo.path, "--at=2026-11-10")) == files_at(repo, steps["raise-0002"].commit)  # 15:00 WITA that day
    early = ledger(repo.path, "--at=2026-10-01")
    assert early.returncode == 2 and "HEAD has no commit on or before that day" in early.stderr
    bad = ledger(repo.path, "--at=2026-13-01")
    assert bad.returncode == 2 and "not a date" in bad.stderr
    assert ledger(repo.path, "--at=nonsense").returncode == 2


def test_temporary_and_scheduled_allocations_in_every_format(repo: Repo):
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24]")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/24]", start="2026-11-20", end="2026-12-31", agency="Panitia <b>MTQ</b> | @everyone")
    repo.request("BW-2026-0003", subnets="[198.18.3.0/24]", start="2027-01-01")
    doc = ledger_json(repo.path)
    isp_a = doc["gateways"][0]["uplinks"][0]
    assert [(a["id"], a["temporary"]) for a in isp_a["allocations"]] == [("BW-2026-0001", False), ("BW-2026-0002", True)]
    assert [a["id"] for a in isp_a["scheduled"]] == ["BW-2026-0003"]
    # in force today: 10 + 10 guaranteed; from 2027 on 0002 is gone and 0003 comes: the peak ahead is still 20.
    assert (isp_a["download"]["guaranteed_kbit"], isp_a["download"]["available_kbit"]) == (20_000, 70_000)
    md = ledger(repo.path, "--format=md").stdout
    assert "| BW-2026-0002 | Panitia &lt;b&gt;MTQ&lt;/b&gt; \\| &#64;everyone |" in md
    assert "20 November 2026 s.d. 31 Desember 2026 | berlaku, sementara |" in md
    assert "| BW-2026-0003 |" in md and "terjadwal, tetap" in md
    html = ledger(repo.path, "--format=html").stdout
    assert "<b>MTQ" not in html and "Panitia &lt;b&gt;MTQ&lt;/b&gt; | @everyone" in html
    assert "Kepala Seksi Infrastruktur TIK" in html
    text = ledger(repo.path).stdout
    assert "BW-2026-0002  down 10/20 up 5/10  Panitia <b>MTQ</b> | @everyone  until 2026-12-31" in text


def test_a_broken_file_is_left_out_and_named(repo: Repo):
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24]")
    repo.write("allocations/gw-a/BW-2026-0002.yaml", "id: [\n")
    done = ledger(repo.path)
    assert done.returncode == 0
    assert "allocations/gw-a/BW-2026-0002.yaml:" in done.stderr and "left out of the ledger" in done.stderr
    assert "1 request file(s) with errors left out" in done.stdout


def test_ledger_html_prints_on_one_a4_page(tmp_path: Path):
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("/usr/bin/chromium is not installed")
    page = tmp_path / "ledger.html"
    done = subprocess.run([BANDWIDTH, "--repo", str(ROOT), "ledger", "--format=html", f"--output={page}"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    pdf = tmp_path / "ledger.pdf"
    argv = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update"]
    argv += ["--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()]
    printed = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert pdf.exists(), printed.stderr
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert pages == 1, f"the shipped availability list prints on {pages} pages"


def test_pending_lists_what_open_pull_requests_change_read_from_github(repo: Repo, httpserver):
    """A new request, a change and a give-back waiting for their disposition; the file each version is read as the check reads it."""
    repo.request("BW-2026-0001")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/24]")

    def serve_file(path: str, ref: str, text: str) -> None:
        httpserver.expect_request(f"/repos/{GH_REPO}/contents/{path}", query_string={"ref": ref}).respond_with_json({"content": base64.b64encode(text.encode()).decode(), "encoding": "base64"})

    pulls = [
        {"number": 21, "title": "Permohonan bandwidth BW-2026-0003 <b>x</b>", "head": {"sha": "a" * 40}, "base": {"sha": "b" * 40}},
        {"number": 22, "title": "Perubahan bandwidth BW-2026-0001", "head": {"sha": "c" * 40}, "base": {"sha": "b" * 40}},
        {"number": 23, "title": "Pengembalian bandwidth BW-2026-0002", "head": {"sha": "d" * 40}, "base": {"sha": "b" * 40}},
        {"number": 24, "title": "Dokumentasi", "head": {"sha": "e" * 40}, "base": {"sha": "b" * 40}},
    ]
    httpserver.expect_request(f"/repos/{GH_REPO}/pulls", query_string={"state": "open", "base": "main", "per_page": "100"}).respond_with_json(pulls)
    files = {
        21: [{"filename": "allocations/gw-a/BW-2026-0003.yaml", "status": "added"}],
        22: [{"filename": "allocations/gw-a/BW-2026-0001.yaml", "status": "modified"}],
        23: [{"filename": "allocations/gw-a/BW-2026-0002.yaml", "status": "removed"}],
        24: [{"filename": "README.md", "status": "modified"}],
    }
    for number, listed in files.items():
        httpserver.expect_request(f"/repos/{GH_REPO}/pulls/{number}/files", query_string={"per_page": "100"}).respond_with_json(listed)
    serve_file("allocations/gw-a/BW-2026-0003.yaml", "a" * 40, request_text("BW-2026-0003", "gw-a", subnets="[198.18.3.0/24]"))
    serve_file("allocations/gw-a/BW-2026-0001.yaml", "b" * 40, request_text("BW-2026-0001", "gw-a"))
    serve_file("allocations/gw-a/BW-2026-0001.yaml", "c" * 40, request_text("BW-2026-0001", "gw-a", download="{guaranteed_mbps: 10, max_mbps: 30}"))
    serve_file("allocations/gw-a/BW-2026-0002.yaml", "b" * 40, request_text("BW-2026-0002", "gw-a", subnets="[198.18.2.0/24]"))

    done = bandwidth(repo, httpserver, "ledger", "--pending", GH_REPO, "--format", "json")
    assert done.returncode == 0, done.stderr
    pending = json.loads(done.stdout)["pending"]
    assert [(p["number"], [c["action"] for c in p["changes"]]) for p in pending["pulls"]] == [(21, ["added"]), (22, ["changed"]), (23, ["removed"])]
    change = pending["pulls"][1]["changes"][0]
    assert change["before"]["download"] == {"guaranteed_kbit": 10_000, "max_kbit": 20_000} and change["after"]["download"]["max_kbit"] == 30_000
    markdown = bandwidth(repo, httpserver, "ledger", "--pending", GH_REPO, "--format", "md").stdout
    assert "### Perubahan yang menunggu disposisi (pull request terbuka)" in markdown
    assert "| #22 Perubahan bandwidth BW-2026-0001 | allocations/gw-a/BW-2026-0001.yaml | perubahan | gw-a / isp-a | unduh 10 / 20, unggah 5 / 10 → unduh 10 / 30, unggah 5 / 10 |" in markdown
    assert "| pengembalian |" in markdown and "<b>" not in markdown  # a title is anyone's text
    html = bandwidth(repo, httpserver, "ledger", "--pending", GH_REPO, "--format", "html").stdout
    assert "<td>perubahan</td>" in html and "&lt;b&gt;x&lt;/b&gt;" in html
    text = bandwidth(repo, httpserver, "ledger", "--pending", GH_REPO).stdout
    assert "pending PR #23: removed allocations/gw-a/BW-2026-0002.yaml: down 10/20 up 5/10" in text
    # GitHub cannot be read: a usage error that says so, never a list without its pending part.
    env = {**os.environ, "GITHUB_API_URL": "http://127.0.0.1:9", "GITHUB_TOKEN": "test-token"}  # nothing listens there
    failed = subprocess.run([BANDWIDTH, "ledger", "--pending", GH_REPO], cwd=repo.path, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert failed.returncode == 2 and "--pending: GET" in failed.stderr and "Traceback" not in failed.stderr
