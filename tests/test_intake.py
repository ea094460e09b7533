"""`bandwidth from-issue`: the issue form's body becomes a request file that passes the check."""

from __future__ import annotations

import shutil

import pytest
import yaml

from conftest import ROOT, Repo

FORM = ROOT / ".github/ISSUE_TEMPLATE/permohonan-bandwidth.yml"
ANSWERS = {
    "agency": "Dinas Kelautan dan Perikanan Provinsi Kalimantan Timur",
    "letter_number": "523/0101/DKP-XI/2026",
    "letter_date": "2026-11-20",
    "contact_name": "Lina Marlina",
    "contact_email": "lina@example.go.id",
    "gateway": "gw-a",
    "uplink": "isp-b",
    "subnets": "198.18.5.0/24",
    "download_guaranteed": "12,5",
    "download_max": "25",
    "upload_guaranteed": "5",
    "upload_max": "10",
    "priority": "3",
    "start": "2026-12-01",
    "end": "_No response_",
    "purpose": "Sistem informasi perikanan",
}


def body(answers: dict) -> str:
    """The issue body GitHub writes for a submitted form: one `### label` section per field."""
    form = yaml.safe_load(FORM.read_text())
    labels = {item["id"]: item["attributes"]["label"] for item in form["body"] if item.get("id")}
    return "".join(f"### {labels[field]}\n\n{value}\n\n" for field, value in answers.items())


@pytest.fixture
def form_repo(repo: Repo) -> Repo:
    (repo.path / ".github/ISSUE_TEMPLATE").mkdir(parents=True)
    shutil.copy(FORM, repo.path / ".github/ISSUE_TEMPLATE" / FORM.name)
    return repo


def test_form_body_becomes_a_valid_request(form_repo: Repo):
    form_repo.write("issue.md", body(ANSWERS))
    done = form_repo.run("from-issue", "--body-file", "issue.md", "--github", "lina-m", "--today", "2026-11-28", today=None)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "write allocations/gw-a/BW-2026-0001.yaml"
    text = (form_repo.path / "allocations/gw-a/BW-2026-0001.yaml").read_text()
    assert "download: {guaranteed_mbps: 12.5, max_mbps: 25}\n" in text and "github: lina-m" in text and "end:" not in text
    assert form_repo.check().returncode == 0


def test_a_bad_answer_is_named_not_written(form_repo: Repo):
    form_repo.write("issue.md", body({**ANSWERS, "subnets": "10.0.0.0/8", "download_max": "banyak"}))
    done = form_repo.run("from-issue", "--body-file", "issue.md", "--today", "2026-11-28", today=None)
    assert done.returncode == 1
    assert done.stdout.startswith("Permohonan belum dapat diproses.")
    assert "tidak valid" in done.stdout
    assert not (form_repo.path / "allocations/gw-a").exists()


def test_a_missing_answer_is_named(form_repo: Repo):
    answers = dict(ANSWERS)
    answers["purpose"] = "_No response_"
    form_repo.write("issue.md", body(answers))
    done = form_repo.run("from-issue", "--body-file", "issue.md", "--today", "2026-11-28", today=None)
    assert done.returncode == 1
    assert "belum diisi" in done.stdout


def test_subnet_outside_the_gateway_names_the_subnet_field(form_repo: Repo):
    form_repo.write("issue.md", body({**ANSWERS, "subnets": "198.18.99.0/24"}))
    done = form_repo.run("from-issue", "--body-file", "issue.md", "--today", "2026-11-28", today=None)
    assert done.returncode == 1
    form = yaml.safe_load(FORM.read_text())
    label = next(item["attributes"]["label"] for item in form["body"] if item.get("id") == "subnets")
    assert label in done.stdout and "outside the networks behind gw-a" in done.stdout


def test_the_comment_shows_plain_characters_not_entities(form_repo: Repo):
    # The comment is read on the page and in notification e-mails: a colon stays a colon.
    form_repo.write("issue.md", body({**ANSWERS, "subnets": "198.18.99.0/24"}))
    done = form_repo.run("from-issue", "--body-file", "issue.md", "--today", "2026-11-28", today=None)
    assert done.returncode == 1
    assert "&#" not in done.stdout and "&amp;" not in done.stdout
    assert "- Kolom «Subnet jaringan instansi» tidak valid: ` subnet 198.18.99.0/24 is outside the networks behind gw-a" in done.stdout


def test_quoted_values_cannot_mention_link_or_break_out():
    from bandwidth.escape import code_span

    assert code_span("a `b` @team <x> :+1: http://x") == "`` a `b` @team <x> :+1: http://x ``"
    assert code_span("``") == "``` `` ```"
    assert code_span("line\nnext\u202e") == "` line\\u000anext\\u202e `"  # one line; control characters visible
