"""`bandwidth settings-check` against the fake GitHub: a repository set up as required passes; each weakened setting is
caught and named; what the token may not read is named with the permission it lacks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bandwidth.escape import code_span, markdown
from conftest import BANDWIDTH, ROOT
from fakegithub import FakeGitHub
from fakegithub_settings import WEAKENED

REPO = "pemprov-kaltim/bandwidth"


@pytest.fixture
def github(tmp_path: Path):
    fake = FakeGitHub(tmp_path / "github")
    try:
        yield fake
    finally:
        fake.close()


def settings_check(github: FakeGitHub, *extra: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "GITHUB_API_URL": github.api_url, "GITHUB_TOKEN": github.token}
    done = subprocess.run([BANDWIDTH, "settings-check", "--github-repo", REPO, *extra], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert github.calls and all(call.authorized for call in github.calls)
    assert not github.violations, github.violations  # every answer as GitHub's REST description has it
    return done


def test_a_repository_set_up_as_required_passes(github: FakeGitHub):
    done = settings_check(github)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == f"{REPO}: every setting of .github/required-settings.yml holds\n"
    read = {call.path for call in github.calls}
    assert {f"/repos/{REPO}/branches/main/protection", f"/repos/{REPO}/rules/branches/main", f"/repos/{REPO}/environments/production", "/orgs/pemprov-kaltim/actions/runner-groups"} <= read
    assert not github.unanswered, github.unanswered  # every endpoint it read is one GitHub documents, served here


@pytest.mark.parametrize("name", list(WEAKENED), ids=list(WEAKENED))
def test_each_weakened_setting_is_caught_and_named(github: FakeGitHub, tmp_path: Path, name: str):
    weaken, key = WEAKENED[name]
    weaken(github.settings, REPO)
    issue = tmp_path / "issue.md"
    done = settings_check(github, "--output", str(issue))
    if key is None:  # the other source of the same rule still holds it
        assert done.returncode == 0, done.stdout
        assert not issue.exists()
        return
    assert done.returncode == 1, done.stdout + done.stderr
    weaker = [line for line in done.stdout.splitlines() if line.startswith("WEAKER ")]
    assert [line.split(":", 1)[0] for line in weaker] == [f"WEAKER {key}"], done.stdout  # that one, and nothing else
    body = issue.read_text(encoding="utf-8")
    assert f"- {code_span(key)}: " in body and "Pengaturan yang melemah" in body


def test_what_the_token_may_not_read_is_named_with_the_permission(github: FakeGitHub):
    github.settings[f"/repos/{REPO}/branches/main/protection"] = 403
    github.settings["/orgs/pemprov-kaltim/actions/runner-groups"] = 403
    done = settings_check(github)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"UNREADABLE GET /repos/{REPO}/branches/main/protection (HTTP 403): the token needs Administration: read" in done.stdout
    assert "UNREADABLE GET /orgs/pemprov-kaltim/actions/runner-groups (HTTP 403): the token needs Self-hosted runners: read (organisation)" in done.stdout


def test_the_issue_says_in_bahasa_indonesia_what_weakened(github: FakeGitHub, tmp_path: Path):
    for name in ("no code-owner review", "gateway key as a repository secret"):
        WEAKENED[name][0](github.settings, REPO)
    issue = tmp_path / "issue.md"
    assert settings_check(github, "--output", str(issue)).returncode == 1
    body = issue.read_text(encoding="utf-8")
    assert f"- {code_span('branch_rules.require_code_owner_review')}: {markdown('main: review oleh Code Owners tidak diwajibkan')}" in body
    secret = "GATEWAY_SSH_KEY juga secret repositori: setiap workflow di cabang mana pun dapat membacanya"
    assert f"- {code_span('environments.production.secrets.GATEWAY_SSH_KEY')}: {markdown(secret)}" in body
    assert "Rantai disposisi (Kasubag TU → Pejabat Administrator Bidang TIK → Kasi Infrastruktur TIK) hanya mengikat" in body


def test_a_bad_declaration_is_named_with_its_line(github: FakeGitHub, tmp_path: Path):
    (tmp_path / ".github").mkdir()
    text = (ROOT / ".github/required-settings.yml").read_text(encoding="utf-8").replace("  no_deletion: true\n", "  no_deletion: true\n  no_rebase: true\n")
    (tmp_path / ".github/required-settings.yml").write_text(text, encoding="utf-8")
    line = text.splitlines().index("  no_rebase: true") + 1
    done = subprocess.run(
        [BANDWIDTH, "settings-check", "--github-repo", REPO], cwd=tmp_path, env={**os.environ, "GITHUB_API_URL": github.api_url}, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert f".github/required-settings.yml:{line}: unknown key 'no_rebase' in branch_rules" in done.stderr
