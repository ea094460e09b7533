"""The security rules of .github/, read from the files themselves (no GitHub, no network)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.y*ml"))
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")
ENVIRONMENTS = {"production", "settings-audit", "disposition-record"}  # where secrets live: each limited to main (docs/repository-setup.md)
ALLOWED_ACTIONS = {"actions/checkout", "actions/setup-python", "actions/upload-artifact", "actions/download-artifact"}  # GitHub's own, each with an e2e stand-in


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the key `on` as True; PyYAML's safe_load does so too.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on


def steps(workflow: dict):
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def test_there_are_workflows():
    names = {path.name for path in WORKFLOWS}
    assert {"pull-request.yml", "disposition.yml", "apply.yml", "scheduled.yml"} <= names


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_pull_request_target_or_workflow_run(path: Path):
    on = triggers(load(path))
    assert "pull_request_target" not in on
    assert "workflow_run" not in on
    assert "pull_request_target" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path):
    text = path.read_text(encoding="utf-8")
    uses_lines = [line.strip() for line in text.splitlines() if re.match(r"\s*(- )?uses:", line)]
    assert uses_lines, "a workflow without actions: then the test would prove nothing"
    for line in uses_lines:
        match = re.fullmatch(r"(?:- )?uses: (\S+) # v\d+\.\d+\.\d+", line)
        assert match, f"{path.name}: not `uses: owner/name@<sha> # vX.Y.Z`: {line}"
        assert PINNED.fullmatch(match.group(1)), f"{path.name}: not pinned to a 40-hex commit: {line}"
        assert match.group(1).split("@")[0] in ALLOWED_ACTIONS, f"{path.name}: an action outside the allowed ones: {line}"
    # And the parsed view agrees (no `uses:` hidden in a form the line scan missed).
    for job, step in steps(load(path)):
        if "uses" in step:
            assert PINNED.fullmatch(step["uses"]), f"{path.name} job {job}: {step['uses']}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_explicit_and_least_by_default(path: Path):
    workflow = load(path)
    assert "permissions" in workflow, f"{path.name}: no top-level permissions"
    assert workflow["permissions"] in ({}, {"contents": "read"}), f"{path.name}: top-level permissions {workflow['permissions']}"
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} has no explicit permissions"
        assert job["permissions"] not in ("write-all", "read-all"), f"{path.name}: job {name}"
        assert "id-token" not in (job["permissions"] or {}), f"{path.name}: job {name} needs no OIDC token"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkout_persists_no_credentials(path: Path):
    for job, step in steps(load(path)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert (step.get("with") or {}).get("persist-credentials") is False, f"{path.name} job {job}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_only_in_jobs_of_an_environment(path: Path):
    workflow = load(path)
    for name, job in workflow["jobs"].items():
        if "secrets." in yaml.safe_dump(job):
            assert job.get("environment") in ENVIRONMENTS, f"{path.name}: job {name} reads a secret outside an environment"
            assert set(job["permissions"].values()) <= {"read", "none"}, f"{path.name}: job {name} holds a secret and a write token"
    assert "secrets." not in yaml.safe_dump({k: v for k, v in workflow.items() if k != "jobs"}), f"{path.name}: a secret at workflow level"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_expression_in_run_scripts(path: Path):
    """Values reach scripts through env:, never as ${{ }} pasted into the script."""
    for job, step in steps(load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name} job {job} step {step.get('name')}"


def test_apply_is_one_at_a_time_and_never_cancelled():
    workflow = load(GITHUB / "workflows/apply.yml")
    assert workflow["concurrency"] == {"group": "apply-main", "cancel-in-progress": False}
    assert triggers(workflow)["push"]["branches"] == ["main"]
    assert any(job.get("environment") == "production" for job in workflow["jobs"].values())


def test_disposition_chain_has_the_three_roles_in_order():
    disposition = load(GITHUB / "disposition.yml")
    assert disposition["ordered"] is True
    assert [role["role"] for role in disposition["chain"]] == ["kasubag_tu", "administrator_tik", "kasi_infrastruktur"]
    for role in disposition["chain"]:
        assert role["title"] and role["members"], role
        assert all(re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})", login) for login in role["members"]), role
    logins = [login for role in disposition["chain"] for login in role["members"]]
    assert len(logins) == len(set(logins)), "a login fills two roles"


def test_issue_form_asks_for_every_field_of_a_request_file():
    form = load(GITHUB / "ISSUE_TEMPLATE/permohonan-bandwidth.yml")
    fields = {item["id"]: item for item in form["body"] if "id" in item}
    assert list(fields) == [
        "agency", "letter_number", "letter_date", "contact_name", "contact_email", "gateway", "uplink", "subnets",
        "download_guaranteed", "download_max", "upload_guaranteed", "upload_max", "priority", "start", "end", "purpose",
    ]  # fmt: skip
    labels = [item["attributes"]["label"] for item in fields.values()]
    assert len(labels) == len(set(labels)), "labels are how from-issue finds the answers: they must be unique"
    assert [name for name, item in fields.items() if not item.get("validations", {}).get("required")] == ["end"]
    # The dropdowns offer what inventory/production has.
    gateways = load(ROOT / "inventory/production/hosts.yml")["all"]["children"]["gateways"]["hosts"]
    uplinks = {uplink["name"] for name in gateways for uplink in load(ROOT / f"inventory/production/host_vars/{name}.yml")["bandwidth_uplinks"]}
    assert fields["gateway"]["attributes"]["options"] == ["gw-samarinda", "gw-balikpapan"] == list(gateways)
    assert fields["uplink"]["attributes"]["options"] == ["isp-a", "isp-b"] == sorted(uplinks)
    assert [option.split()[0] for option in fields["priority"]["attributes"]["options"]] == [str(n) for n in range(8)]
    assert "permohonan-bandwidth" in form["labels"]
    assert load(GITHUB / "ISSUE_TEMPLATE/config.yml")["blank_issues_enabled"] is False


@pytest.mark.parametrize(
    ("name", "required"),
    [("perubahan-bandwidth", ["reason"]), ("perpanjangan-bandwidth", ["end", "reason"]), ("pengembalian-bandwidth", ["how", "reason"])],
)
def test_each_change_form_names_the_allocation_the_agency_and_a_new_letter(name: str, required: list[str]):
    form = load(GITHUB / f"ISSUE_TEMPLATE/{name}.yml")
    assert form["labels"] == [name]  # the label is how the intake workflow knows the form
    fields = {item["id"]: item for item in form["body"] if "id" in item}
    labels = [item["attributes"]["label"] for item in fields.values()]
    assert len(labels) == len(set(labels)), "labels are how from-issue finds the answers: they must be unique"
    common = ["id", "agency", "letter_number", "letter_date", "contact_name", "contact_email"]
    assert [f for f, item in fields.items() if item.get("validations", {}).get("required")] == common + required
    if name == "perubahan-bandwidth":  # the dropdowns start with "(tidak berubah)", then what inventory/production has
        gateways = load(ROOT / "inventory/production/hosts.yml")["all"]["children"]["gateways"]["hosts"]
        assert fields["gateway"]["attributes"]["options"] == ["(tidak berubah)", *gateways]
        assert fields["uplink"]["attributes"]["options"][0] == fields["priority"]["attributes"]["options"][0] == "(tidak berubah)"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_github_url_comes_from_the_run_and_no_graphql(path: Path):
    """github.com, GitHub Enterprise Server and the e2e harness alike: URLs from GITHUB_SERVER_URL/GITHUB_API_URL, REST only."""
    for job, step in steps(load(path)):
        script = step.get("run", "")
        assert "https://github.com" not in script and "api.github.com" not in script, f"{path.name} job {job}: a hard-coded GitHub URL"
        assert not re.search(r"(^|[\s;|&(])gh\s", script), f"{path.name} job {job}: the gh CLI (its pr/issue commands speak GraphQL; use .github/scripts/github.sh)"
    scripts = GITHUB / "scripts"
    for script in scripts.glob("*.sh"):
        text = script.read_text(encoding="utf-8")
        assert "https://github.com" not in text and "api.github.com" not in text and not re.search(r"(^|[\s;|&(])gh\s", text, re.M), script.name


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_steps_that_source_the_helper_check_it_out_first(path: Path):
    for name, job in load(path)["jobs"].items():
        checked_out = False
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                checked_out = True
                assert (job.get("permissions") or {}).get("contents") in ("read", "write"), f"{path.name} job {name}: checkout without contents permission"
            if "source .github/scripts/github.sh" in step.get("run", ""):
                assert checked_out, f"{path.name} job {name}: sources .github/scripts/github.sh before any checkout"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_root_steps_work_with_and_without_sudo(path: Path):
    """A self-hosted runner may run as root with no sudo installed: root goes through as-root."""
    for job, step in steps(load(path)):
        assert not re.search(r"(^|[\s;|&(])sudo\s", step.get("run", "")), f"{path.name} job {job} step {step.get('name')}: use .github/scripts/as-root"


def test_as_root_runs_the_command_directly_as_root_and_through_sudo_otherwise(tmp_path: Path):
    import os
    import subprocess

    script = str(GITHUB / "scripts" / "as-root")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sudo").write_text('#!/bin/sh\necho "sudo $*"\n')
    (fake / "sudo").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:/usr/bin:/bin"}
    done = subprocess.run([script, "id", "-u"], capture_output=True, text=True, env=env, check=True)
    if os.geteuid() == 0:
        assert done.stdout.strip() == "0"  # no sudo involved, though one is on PATH
    else:
        assert done.stdout.strip() == "sudo id -u"


def test_tokens_reach_git_and_curl_only_through_the_helper():
    """`git -c http.extraheader=<token>` puts the token on a command line, readable in /proc by every process of a shared runner."""
    texts = {path.name: path.read_text(encoding="utf-8") for path in [*WORKFLOWS, *(GITHUB / "scripts").iterdir()]}
    for name, text in texts.items():
        if name != "github.sh":
            assert "extraheader" not in text and "Authorization:" not in text, f"{name}: a token on a command line (use .github/scripts/github.sh)"


def test_the_audit_trail_scripts_keep_the_token_off_every_command_line(tmp_path: Path):
    import base64
    import os
    import subprocess

    token = "ghs_e2eTokenThatMustNeverShow0123456789"  # made up: looked for in every command line
    shims = tmp_path / "bin"
    shims.mkdir()
    log = tmp_path / "calls"
    # Every git and bandwidth call is recorded: its command line, and whether its environment carries the header.
    (shims / "git").write_text(f'#!/bin/sh\necho "git $* | header:${{GIT_CONFIG_KEY_0:-none}}" >> {log}\n')
    (shims / "bandwidth").write_text(f'#!/bin/sh\necho "bandwidth $*" >> {log}\necho Bandwidth-Pull-Request: 7\n')
    for shim in shims.iterdir():
        shim.chmod(0o755)
    env = {
        **os.environ, "PATH": f"{shims}:{os.environ['PATH']}", "BANDWIDTH": str(shims / "bandwidth"), "GITHUB_TOKEN": token, "REPO": "pemprov/bw",
        "SHA": "0" * 40, "GITHUB_SERVER_URL": "http://127.0.0.1:9", "GITHUB_API_URL": "http://127.0.0.1:9/api/v3", "GITHUB_REPOSITORY": "pemprov/bw",
        "SIGNING_KEY": "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----", "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
    }  # fmt: skip
    subprocess.run([str(GITHUB / "scripts/sign-disposition.sh"), "--applied-at", "2026-12-01T00:00:00Z"], env=env, check=True, capture_output=True, text=True)
    note = (tmp_path / "output").read_text().split("note=", 1)[1].strip()
    subprocess.run([str(GITHUB / "scripts/push-disposition.sh")], env={**env, "NOTE_B64": note}, check=True, capture_output=True, text=True)
    calls = log.read_text(encoding="utf-8")
    assert f"bandwidth record --github-repo pemprov/bw --commit {'0' * 40} --print --sign-key {tmp_path}/disposition-key --applied-at 2026-12-01T00:00:00Z" in calls
    assert not (tmp_path / "disposition-key").exists()  # the key file is gone with the step
    assert "git fetch --quiet origin refs/notes/bandwidth:refs/notes/bandwidth | header:http.http://127.0.0.1:9/.extraheader" in calls  # never `+`
    assert "git push --quiet origin refs/notes/bandwidth | header:http.http://127.0.0.1:9/.extraheader" in calls
    assert token not in calls and base64.b64encode(f"x-access-token:{token}".encode()).decode() not in calls
