"""The e2e world: a fake GitHub seeded with this checkout, act, and what people do on GitHub.

Shared by tests/test_e2e.py (the scenarios) and bench/lead_time_bench.py (the same merge, timed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from actrun import Act, Gateways, Run
from bandwidth.history import signature
from conftest import ANSIBLE_PLAYBOOK, BANDWIDTH, ROOT
from fakegithub import FakeGitHub

FORM = ROOT / ".github/ISSUE_TEMPLATE/permohonan-bandwidth.yml"
CHAIN = yaml.safe_load((ROOT / ".github/disposition.yml").read_text(encoding="utf-8"))
TU, TIK, KASI = ([*role["members"]] for role in CHAIN["chain"])
PERSON = {"GIT_AUTHOR_NAME": "Budi Santoso", "GIT_AUTHOR_EMAIL": "budi@example.go.id", "GIT_COMMITTER_NAME": "Budi Santoso", "GIT_COMMITTER_EMAIL": "budi@example.go.id"}


def today() -> dt.date:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()  # WITA, as the workflows' bandwidth check


def available_mbps(gateway: str, uplink: str, direction: str = "download") -> int:
    """What a new open-ended request could still guarantee on main (the shipped allocations), Mbit/s."""
    done = subprocess.run([BANDWIDTH, "ledger", "--format", "json"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    for entry in json.loads(done.stdout)["gateways"]:
        for link in entry["uplinks"]:
            if entry["name"] == gateway and link["name"] == uplink:
                return link[direction]["available_kbit"] // 1000
    raise AssertionError(f"{gateway}/{uplink} not in the ledger")


def request_yaml(request_id: str, gateway: str, uplink: str, subnet: str, guaranteed: int, github: str | None = None, end: str | None = None, start: str | None = None) -> str:
    lines = [
        f"id: {request_id}", "agency: Dinas Uji Coba Provinsi Kalimantan Timur", "letter: {number: 001/UJI/2026, date: 2026-11-01}",
        "contact: {name: Penguji, email: penguji@example.go.id" + (f", github: {github}" if github else "") + "}",
        f"gateway: {gateway}", f"uplink: {uplink}", f"subnets: [{subnet}]",
        f"download: {{guaranteed_mbps: {guaranteed}, max_mbps: {guaranteed}}}", "upload: {guaranteed_mbps: 1, max_mbps: 2}",
        "priority: 3", f"start: {start or '2026-11-01'}", *([f"end: {end}"] if end else []), "purpose: Pengujian e2e",
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def issue_body(answers: dict, form: Path = FORM) -> str:
    """The body GitHub writes for a submitted issue form: one `### label` section per field."""
    items = yaml.safe_load(form.read_text(encoding="utf-8"))["body"]
    labels = {item["id"]: item["attributes"]["label"] for item in items if item.get("id")}
    return "".join(f"### {labels[key]}\n\n{value}\n\n" for key, value in answers.items())


@dataclass
class World:
    github: FakeGitHub
    act: Act
    work: Path  # a clone where people commit

    def person_git(self, *args: str) -> str:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, **PERSON}
        return subprocess.run(["git", *args], cwd=self.work, env=env, capture_output=True, text=True, check=True, timeout=60).stdout

    def branch(self, name: str, files: dict[str, str | None], message: str, start: str = "origin/main") -> str:
        """Commit `files` (None: remove) on branch `name` and push it to the origin as a person would; its sha."""
        self.person_git("fetch", "--quiet", "origin")
        self.person_git("switch", "--quiet", "--force-create", name, start)
        for rel, content in files.items():
            path = self.work / rel
            if content is None:
                self.person_git("rm", "--quiet", rel)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
                self.person_git("add", rel)
        self.person_git("commit", "--quiet", "-m", message)
        self.person_git("push", "--quiet", "--force", "origin", f"HEAD:refs/heads/{name}")
        self.github.sync_pulls()
        return self.person_git("rev-parse", "HEAD").strip()

    def run(
        self, event_name: str, payload: dict, workflow: str, job: str | None = None, sha: str | None = None,
        gateways: Gateways | None = None, secrets: dict | None = None, actor: str = "github-actions[bot]",
    ):  # fmt: skip
        """act for `workflow` as in the event's commit; asserts that every GitHub call was authorised and answered, and that
        the payload, each request and each answer held to GitHub's published descriptions (tests/githubcontract.py)."""
        if sha is None:
            sha = self._event_sha(event_name, payload)
        payload = self.github.as_sent(event_name, payload)  # held to GitHub's webhook description of the event
        run = self.act.run(event_name, payload, workflow, sha, job, gateways=gateways, secrets=secrets, actor=actor)
        assert not self.github.unanswered, f"calls the fake did not answer: {self.github.unanswered}\n{run.text()}"
        assert not self.github.violations, f"calls that do not hold to GitHub's REST description: {self.github.violations}\n{run.text()}"
        assert all(call.authorized for call in self.github.calls), [c for c in self.github.calls if not c.authorized]
        return run

    def _event_sha(self, event_name: str, payload: dict) -> str:
        if event_name in ("pull_request", "pull_request_review"):
            return self.github.ref(f"refs/pull/{payload['pull_request']['number']}/merge")
        if event_name == "push":
            return payload["after"]
        return self.github.ref("refs/heads/main")

    def file_on(self, ref: str, path: str) -> str | None:
        data = self.github.file_at(ref, path)
        return data.decode() if data is not None else None


def signing_key(folder: Path) -> tuple[Path, str]:
    """The key the harness gives the environment disposition-record (its file), and its allowed-signers line."""
    key = folder / "disposition-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e disposition-record", "-f", str(key)], check=True, timeout=60)
    kind, blob = (folder / "disposition-key.pub").read_text().split()[:2]
    return key, f'{signature.PRINCIPAL} namespaces="{signature.NAMESPACE}" {kind} {blob}\n'


def seed(github: FakeGitHub, folder: Path, key: Path, allowed_signers: str) -> None:
    """main = this checkout's files (tracked and new, as they are on disk), one commit; main trusts the harness's signing key,
    and is what the gateways hold: a signed note records it applied (as the apply workflow's `applied` jobs would have)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
    folder.mkdir(parents=True)
    for rel in filter(None, listed.decode().split("\0")):
        source = ROOT / rel
        if source.is_symlink():  # as git holds it: a link, not the file it names
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).symlink_to(os.readlink(source))
        elif source.is_file():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / rel)
    (folder / signature.ALLOWED_SIGNERS).write_text(allowed_signers, encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, **PERSON}
    for args in (("init", "--quiet", "-b", "main"), ("add", "-A"), ("commit", "--quiet", "-m", "main"), ("push", "--quiet", str(github.bare), "HEAD:refs/heads/main")):
        subprocess.run(["git", *args], cwd=folder, env=env, capture_output=True, check=True, timeout=120)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    applied = signature.sign(key, head, f"Bandwidth-Applied: {github.now()} success\n")
    for args in (("notes", "--ref=refs/notes/bandwidth", "add", "-m", applied, head), ("push", "--quiet", str(github.bare), "refs/notes/bandwidth")):
        subprocess.run(["git", *args], cwd=folder, env=env, capture_output=True, check=True, timeout=120)


@contextlib.contextmanager
def new_world(folder: Path):
    github = FakeGitHub(folder / "github", members={*TU, *TIK, *KASI})  # the chain's officials are the organisation's members
    try:
        (folder / "keys").mkdir(parents=True)
        key, allowed = signing_key(folder / "keys")
        seed(github, folder / "seed", key, allowed)
        work = folder / "work"
        subprocess.run(["git", "clone", "--quiet", str(github.bare), str(work)], check=True, timeout=60, capture_output=True)
        yield World(github, Act(github, folder / "act", secrets={"DISPOSITION_SIGNING_KEY": key.read_text()}), work)
    finally:
        github.dump(folder / "fakegithub.json")  # with act's logs in folder/act/: what to read when a scenario fails
        github.close()


ANSWERS = {
    "agency": "Dinas Kelautan dan Perikanan Provinsi Kalimantan Timur", "letter_number": "523/0101/DKP-XI/2026", "letter_date": "2026-11-20",
    "contact_name": "Lina Marlina", "contact_email": "lina@example.go.id", "gateway": "gw-samarinda", "uplink": "isp-b", "subnets": "198.18.100.0/24",
    "download_guaranteed": "20", "download_max": "40", "upload_guaranteed": "10", "upload_max": "20", "priority": "3",
    "start": today().isoformat(), "end": (today() + dt.timedelta(days=180)).isoformat(), "purpose": "Sistem informasi perikanan",
}  # fmt: skip


@dataclass
class Merged:
    """A request that went from an issue to main, and the push run that applied it to the lab."""

    world: World
    gateways: Gateways
    lab: Path  # the checkout that holds the lab (lab/)
    issue: int
    pull: int
    request_id: str
    path: str
    before: str
    after: str
    run: Run
    pushed: float  # time.monotonic() when the push run started


def lab_git(lab: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=lab, capture_output=True, text=True, check=True, timeout=60).stdout


def lab_command(lab: Path, *argv: str) -> str:
    done = subprocess.run(argv, cwd=lab, capture_output=True, text=True, timeout=900, check=False, env={**os.environ, "ANSIBLE_NOCOLOR": "1"})
    assert done.returncode == 0, f"{argv}: {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def lab_up_as_before_the_merge(world: World, lab: Path, before: str, after: str) -> Gateways:
    """The lab of the merged main (a client for every allocation, the new one too: the agency's network
    exists before it asks), with main as it was before the merge applied: what production holds."""
    subprocess.run(["git", "clone", "--quiet", str(world.github.bare), str(lab)], check=True, capture_output=True, timeout=60)
    lab_git(lab, "checkout", "--quiet", "--detach", after)
    (lab / ".venv").symlink_to(ROOT / ".venv")
    lab_command(lab, BANDWIDTH, "lab", "up")
    lab_git(lab, "checkout", "--quiet", "--detach", before)
    lab_command(lab, ANSIBLE_PLAYBOOK, "-i", "lab/inventory", "playbooks/apply.yml")
    ssh = json.loads((lab / "lab" / "lab.json").read_text())["ssh"]
    return Gateways(
        inventory=lab / "lab" / "inventory", ssh_key=Path(ssh["private_key"]).read_text(), known_hosts=Path(ssh["known_hosts"]).read_text().strip(),
        variables={"MONITOR_DURATION_SECONDS": "10"},
    )  # fmt: skip


def merge_to_report(world: World, lab: Path) -> Merged:
    """SOP steps 1-10 as people and GitHub do them: an issue, the intake workflow's pull request, its
    check and availability form, the three approvals, the merge, and the push run on the lab."""
    import time

    github = world.github
    issue = github.open_issue("Permohonan Bandwidth: DKP", issue_body(ANSWERS), "lina-marlina", ["permohonan-bandwidth"])
    run = world.run("issues", github.issues_event(issue), "issue-intake.yml")
    assert run.jobs() == {"read": "success", "write": "success"}, run.text()
    (pull,) = github.pulls
    request_id = github.pulls[pull]["title"].split()[2]
    path = f"allocations/gw-samarinda/{request_id}.yaml"
    run = world.run("pull_request", github.pull_request_event(pull, "opened"), "pull-request.yml", job="comment")
    assert run.jobs() == {"check": "success", "comment": "success"}, run.text()
    for login in (TU[0], TIK[0], KASI[0]):
        github.review(pull, login)
    before, after = github.merge(pull, KASI[0])
    gateways = lab_up_as_before_the_merge(world, lab, before, after)
    pushed = time.monotonic()
    run = world.run("push", github.push_event(before, after), "apply.yml", gateways=gateways)
    return Merged(world, gateways, lab, issue, pull, request_id, path, before, after, run, pushed)


def lab_classes(gateway: str) -> str:
    """Every HTB class of a lab gateway, without counters."""
    namespace = f"bwlab-{gateway}"
    links = json.loads(subprocess.run(["ip", "-n", namespace, "-j", "link", "show"], capture_output=True, text=True, check=True).stdout)
    lines = []
    for link in sorted(link["ifname"] for link in links):
        lines += subprocess.run(["ip", "netns", "exec", namespace, "tc", "class", "show", "dev", link], capture_output=True, text=True, check=True).stdout.splitlines()
    return "\n".join(lines)


def tc_in(gateway: str, *args: str) -> str:
    return subprocess.run(["ip", "netns", "exec", f"bwlab-{gateway}", "tc", *args], capture_output=True, text=True, check=True).stdout
