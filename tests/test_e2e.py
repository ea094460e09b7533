"""The life of a request, run for real: the workflow files end to end, offline (`make e2e`).

Each scenario seeds a fake GitHub (tests/fakegithub.py) with this checkout's files as `main`, does
what people do on GitHub (an issue, a pull request, reviews, merges) and runs the real
.github/workflows/*.yml with act for the events GitHub would send (tests/actrun.py). It asserts on
what the fake recorded (comments, issues, pull requests, pushes, every call authorised and answered)
and on the origin repository's refs. Nothing here needs the lab: the scenarios that do (merge to
report, the drift issue, the re-run) are not here, and no job that reaches a gateway runs: the
harness gives such jobs (runs-on: vars.PRODUCTION_RUNNER) a runner label act has no platform for,
and passes no gateway secret.

Scenarios: 1 request (issue -> pull request; a bad field -> a comment), 2 availability (the sticky
form, an overflow says what is free), 3 disposition (none, requester, self, stale, complete), 5 race
(two merged pull requests overflow an uplink: the re-check fails, nothing is applied, an issue
names who must act), 6 expiry (expired allocations -> a pull request removing them, once).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from actrun import Act
from conftest import BANDWIDTH, ROOT
from fakegithub import FakeGitHub

pytestmark = pytest.mark.e2e

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


def issue_body(answers: dict) -> str:
    """The body GitHub writes for a submitted issue form: one `### label` section per field."""
    form = yaml.safe_load(FORM.read_text(encoding="utf-8"))
    labels = {item["id"]: item["attributes"]["label"] for item in form["body"] if item.get("id")}
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

    def run(self, event_name: str, payload: dict, workflow: str, job: str | None = None, sha: str | None = None):
        """act for `workflow` as in the event's commit; asserts that every GitHub call was authorised and answered."""
        if sha is None:
            sha = self._event_sha(event_name, payload)
        run = self.act.run(event_name, payload, workflow, sha, job)
        assert not self.github.unanswered, f"calls the fake did not answer: {self.github.unanswered}\n{run.text()}"
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


def seed(github: FakeGitHub, folder: Path) -> None:
    """main = this checkout's files (tracked and new, as they are on disk), one commit."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
    folder.mkdir(parents=True)
    for rel in filter(None, listed.decode().split("\0")):
        source = ROOT / rel
        if source.is_file() and not source.is_symlink():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / rel)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, **PERSON}
    for args in (("init", "--quiet", "-b", "main"), ("add", "-A"), ("commit", "--quiet", "-m", "main"), ("push", "--quiet", str(github.bare), "HEAD:refs/heads/main")):
        subprocess.run(["git", *args], cwd=folder, env=env, capture_output=True, check=True, timeout=120)


@pytest.fixture
def world(tmp_path: Path):
    github = FakeGitHub(tmp_path / "github")
    try:
        seed(github, tmp_path / "seed")
        work = tmp_path / "work"
        subprocess.run(["git", "clone", "--quiet", str(github.bare), str(work)], check=True, timeout=60, capture_output=True)
        yield World(github, Act(github, tmp_path / "act"), work)
    finally:
        github.dump(tmp_path / "fakegithub.json")  # with act's logs in tmp_path/act/: what to read when a scenario fails
        github.close()


# ---- 1. request: an issue from the form ----

ANSWERS = {
    "agency": "Dinas Kelautan dan Perikanan Provinsi Kalimantan Timur", "letter_number": "523/0101/DKP-XI/2026", "letter_date": "2026-11-20",
    "contact_name": "Lina Marlina", "contact_email": "lina@example.go.id", "gateway": "gw-samarinda", "uplink": "isp-b", "subnets": "198.18.100.0/24",
    "download_guaranteed": "20", "download_max": "40", "upload_guaranteed": "10", "upload_max": "20", "priority": "3",
    "start": today().isoformat(), "end": "_No response_", "purpose": "Sistem informasi perikanan",
}  # fmt: skip


def test_request_an_issue_becomes_a_pull_request_that_passes_the_check(world: World):
    github = world.github
    number = github.open_issue("Permohonan Bandwidth: DKP", issue_body(ANSWERS), "lina-marlina", ["permohonan-bandwidth"])
    run = world.run("issues", github.issues_event(number), "issue-intake.yml")
    assert run.returncode == 0, run.text()
    assert run.jobs() == {"read": "success", "write": "success"}

    pulls = list(github.pulls.values())
    assert len(pulls) == 1, pulls
    pull = pulls[0]
    branch = f"permohonan/issue-{number}"
    assert pull["head"]["ref"] == branch and pull["user"]["login"] == "github-actions[bot]" and pull["base"]["ref"] == "main"
    request_id = pull["title"].split()[2]  # the next free id of the year: BW-<year>-<4 digits>
    assert pull["title"] == f"Permohonan bandwidth {request_id} (issue #{number})" and request_id.startswith(f"BW-{today().year}-")
    path = f"allocations/gw-samarinda/{request_id}.yaml"
    assert f"Closes #{number}" in pull["body"] and "@lina-marlina" in pull["body"]
    # The branch holds exactly the request file, by the bot, with the requester as co-author.
    assert [p.ref for p in github.pushes] == [f"refs/heads/{branch}"]
    head = github.ref(f"refs/heads/{branch}")
    changed = github.git("diff", "--name-status", "refs/heads/main", head).split()
    assert changed == ["A", path]
    message = github.git("log", "-1", "--format=%an%n%B", head)
    assert message.startswith("github-actions[bot]\n") and "Co-authored-by: lina-marlina <" in message
    text = world.file_on(head, path)
    assert "github: lina-marlina" in text and "subnets: [198.18.100.0/24]" in text
    # ... which passes `bandwidth check` on the pull request's merge commit.
    checkout = world.work.parent / "check"
    subprocess.run(["git", "clone", "--quiet", str(github.bare), str(checkout)], check=True, capture_output=True, timeout=60)
    subprocess.run(["git", "-C", str(checkout), "fetch", "--quiet", "origin", f"refs/pull/{pull['number']}/merge"], check=True, capture_output=True, timeout=60)
    subprocess.run(["git", "-C", str(checkout), "checkout", "--quiet", "--detach", "FETCH_HEAD"], check=True, capture_output=True, timeout=60)
    done = subprocess.run([BANDWIDTH, "check", "--base", "origin/main"], cwd=checkout, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # The requester is told, on the issue, where the request went.
    thanks = github.comments_on(number)
    assert len(thanks) == 1 and request_id in thanks[0]["body"] and pull["html_url"] in thanks[0]["body"]

    # Editing the issue without changing an answer keeps the pull request's commit (and its approvals).
    run = world.run("issues", github.issues_event(number, "edited"), "issue-intake.yml")
    assert run.jobs() == {"read": "success", "write": "success"}, run.text()
    assert f"#{pull['number']} already holds this request" in run.output("write")
    assert len(github.pushes) == 1 and len(github.pulls) == 1 and github.ref(f"refs/heads/{branch}") == head


def test_request_a_bad_field_gets_a_comment_naming_it_in_plain_characters(world: World):
    github = world.github
    number = github.open_issue("Permohonan Bandwidth: DKP", issue_body({**ANSWERS, "subnets": "198.18.200.0/24"}), "lina-marlina", ["permohonan-bandwidth"])
    run = world.run("issues", github.issues_event(number), "issue-intake.yml")
    assert run.jobs() == {"read": "success", "write": "success"}, run.text()
    assert not github.pulls and not github.pushes
    comments = github.comments_on(number)
    assert len(comments) == 1
    body = comments[0]["body"]
    assert body.startswith("<!-- bandwidth-intake -->\nPermohonan belum dapat diproses.")
    assert "- Kolom «Subnet jaringan instansi» tidak valid: ` subnet 198.18.200.0/24 is outside the networks behind gw-samarinda" in body
    assert "&#" not in body and "&amp;" not in body  # plain characters, in the e-mail too


# ---- 2. availability: the pull request's check and its sticky comment ----


def test_availability_the_form_is_one_comment_updated_and_an_overflow_says_what_is_free(world: World):
    github = world.github
    free = available_mbps("gw-samarinda", "isp-b")
    path = "allocations/gw-samarinda/BW-2026-0013.yaml"
    world.branch("dinkes", {path: request_yaml("BW-2026-0013", "gw-samarinda", "isp-b", "198.18.101.0/24", 10, "budi-santoso")}, "Permohonan BW-2026-0013")
    number = github.open_pull("dinkes", "budi-santoso", "Permohonan BW-2026-0013")
    run = world.run("pull_request", github.pull_request_event(number, "opened"), "pull-request.yml", job="comment")
    assert run.jobs() == {"check": "success", "comment": "success"}, run.text()  # lint and the lab's plan are not asked for here
    comments = github.comments_on(number)
    assert len(comments) == 1
    first = comments[0]
    assert first["body"].startswith("<!-- bandwidth-availability -->\n\n## Form Laporan Pengecekan Kesediaan Bandwidth")
    assert "**Hasil: bandwidth tersedia.**" in first["body"] and "BW-2026-0013" in first["body"]

    # The next push asks for more than is free: the check fails, and the same comment says how much is left.
    world.branch("dinkes", {path: request_yaml("BW-2026-0013", "gw-samarinda", "isp-b", "198.18.101.0/24", free + 50, "budi-santoso")}, "Lebih besar", start="dinkes")
    run = world.run("pull_request", github.pull_request_event(number, "synchronize"), "pull-request.yml", job="comment")
    assert run.jobs() == {"check": "failure", "comment": "success"}, run.text()
    comments = github.comments_on(number)
    assert [c["id"] for c in comments] == [first["id"]] and comments[0]["edits"] == 1
    body = comments[0]["body"]
    assert "**Hasil: bandwidth tidak tersedia.**" in body
    from bandwidth.textid import mbps

    assert f"yang masih tersedia untuk permohonan ini {mbps(free * 1000)} Mbit/s" in body
    # The annotation on the request file's line, which GitHub shows in the pull request's diff.
    capacity = [a for a in run.annotations("check") if a["command"] == "error" and a.get("file") == path]
    assert capacity and capacity[0]["title"] == "bandwidth check: capacity" and "gw-samarinda/isp-b exceeded" in capacity[0]["message"]


# ---- 3. disposition: the chain of .github/disposition.yml (base branch), in order ----


def test_disposition_none_requester_stale_and_complete(world: World):
    github = world.github
    # Opened by the intake workflow's bot; the requester (contact.github) holds the first role.
    path = "allocations/gw-balikpapan/BW-2026-0013.yaml"
    world.branch("permohonan/issue-1", {path: request_yaml("BW-2026-0013", "gw-balikpapan", "isp-a", "198.18.201.0/24", 5, TU[1])}, "Permohonan BW-2026-0013")
    number = github.open_pull("permohonan/issue-1", "github-actions[bot]", "Permohonan bandwidth BW-2026-0013")

    def disposition(payload) -> tuple[str, str]:
        run = world.run("pull_request_review" if "review" in payload else "pull_request", payload, "disposition.yml")
        return run.jobs().get("approvals", "absent"), run.output("approvals")

    result, out = disposition(github.pull_request_event(number, "opened"))
    assert result == "failure" and "Status: **belum lengkap**" in out and out.count("menunggu persetujuan") == 3

    github.review(number, TU[1])  # the requester approves their own request
    result, out = disposition(github.review_event(number, github.reviews[number][-1]))
    assert result == "failure" and "pemohon (contact.github) tidak boleh menyetujui sendiri" in out

    for login in (TU[0], TIK[0], KASI[0]):
        github.review(number, login)
    result, out = disposition(github.review_event(number, github.reviews[number][-1]))
    assert result == "success", out
    assert "Status: **lengkap**" in out and f"`{KASI[0]}`" in out

    # A new push makes every approval stale.
    world.branch("permohonan/issue-1", {path: request_yaml("BW-2026-0013", "gw-balikpapan", "isp-a", "198.18.201.0/24", 6, TU[1])}, "Ubah", start="permohonan/issue-1")
    result, out = disposition(github.pull_request_event(number, "synchronize"))
    assert result == "failure" and "Status: **belum lengkap**" in out
    assert "| 2 | Pejabat Administrator Bidang TIK | - | - | persetujuan untuk versi lama; perlu disetujui ulang |" in out
    assert "| 3 | Pejabat Pengawas / Kasi Infrastruktur TIK | - | - | persetujuan untuk versi lama; perlu disetujui ulang |" in out


def test_disposition_a_self_approval_does_not_count(world: World):
    github = world.github
    path = "allocations/gw-balikpapan/BW-2026-0013.yaml"
    world.branch("kasi", {path: request_yaml("BW-2026-0013", "gw-balikpapan", "isp-a", "198.18.202.0/24", 5)}, "Permohonan BW-2026-0013")
    number = github.open_pull("kasi", KASI[0], "Permohonan BW-2026-0013")
    for login in (TU[0], TIK[0], KASI[0]):
        github.review(number, login)
    run = world.run("pull_request_review", github.review_event(number, github.reviews[number][-1]), "disposition.yml")
    assert run.jobs() == {"approvals": "failure"}, run.text()
    assert "| 3 | Pejabat Pengawas / Kasi Infrastruktur TIK | - | - | pemohon tidak boleh menyetujui sendiri |" in run.output("approvals")


# ---- 5. race: two pull requests that each fit overflow an uplink together ----


def test_race_main_over_capacity_is_not_applied_and_an_issue_names_who_must_act(world: World):
    github = world.github
    seeded = github.ref("refs/heads/main")
    # main as it stands is what the gateways hold (what the apply workflow's `applied` job records).
    github.git("notes", "--ref=refs/notes/bandwidth", "add", "-m", "Bandwidth-Applied: 2026-11-30T16:05:00Z success", seeded)
    share = available_mbps("gw-balikpapan", "isp-a") * 6 // 10  # each fits; both are 120% of what is free
    first = "allocations/gw-balikpapan/BW-2026-0013.yaml"
    second = "allocations/gw-balikpapan/BW-2026-0014.yaml"
    world.branch("rsud", {first: request_yaml("BW-2026-0013", "gw-balikpapan", "isp-a", "198.18.203.0/24", share, "budi-santoso")}, "Permohonan BW-2026-0013")
    world.branch("permohonan/issue-9", {second: request_yaml("BW-2026-0014", "gw-balikpapan", "isp-a", "198.18.204.0/24", share, "sari-dewi")}, "Permohonan BW-2026-0014")
    one = github.open_pull("rsud", "budi-santoso", "Permohonan BW-2026-0013")
    two = github.open_pull("permohonan/issue-9", "github-actions[bot]", "Permohonan BW-2026-0014")
    for number in (one, two):  # each passes the check on its own
        run = world.run("pull_request", github.pull_request_event(number), "pull-request.yml", job="check")
        assert run.jobs() == {"check": "success"}, run.text()
    github.merge(one, KASI[0])
    before, after = github.merge(two, KASI[0])
    refs_before = github.refs()
    pushes_before = len(github.pushes)

    run = world.run("push", github.push_event(before, after), "apply.yml")
    jobs = run.jobs()
    assert jobs.get("check") == "failure" and jobs.get("recheck-issue") == "success", run.text()
    # Nothing after the failed re-check ran: no note pushed, no gateway touched, no report.
    for job in ("disposition", "apply", "applied", "comment"):
        assert jobs.get(job) == "skipped", (job, jobs)
        assert not run.steps(job), f"job {job} ran steps"
    assert "Skipping job 'Konfigurasi dan verifikasi gateway'" in run.log.read_text()
    assert github.refs() == refs_before and len(github.pushes) == pushes_before

    issues = [i for i in github.issues.values() if "pull_request" not in i]
    assert len(issues) == 1, issues
    issue = issues[0]
    assert issue["title"] == "Pemeriksaan ulang main gagal: konfigurasi gateway tidak diterapkan" and issue["user"]["login"] == "github-actions[bot]"
    body = issue["body"]
    assert "### Kapasitas uplink gw-balikpapan/isp-a terlampaui" in body
    assert f"| ` {first} ` | #{one} | @budi-santoso | @budi-santoso |" in body
    assert f"| ` {second} ` | #{two} | ` github-actions[bot] ` | @sari-dewi |" in body
    assert f"commit `{seeded[:12]}`" in body  # since what the gateways hold
    assert " ".join(f"@{login}" for login in KASI) in body  # the Kasi, so that someone acts
    assert "&#" not in body

    # The next run (the daily one) finds main still over: the same issue gets a comment, not a twin.
    run = world.run("schedule", github.schedule_event("5 16 * * *"), "apply.yml")
    assert run.jobs().get("recheck-issue") == "success" and run.jobs().get("apply") == "skipped", run.text()
    assert len([i for i in github.issues.values() if "pull_request" not in i]) == 1
    assert len(github.comments_on(issue["number"])) == 1 and "gw-balikpapan/isp-a" in github.comments_on(issue["number"])[0]["body"]


# ---- 6. schedule: expired allocations are removed in a pull request ----


def test_expiry_a_pull_request_removes_expired_allocations_once(world: World):
    github = world.github
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    path = "allocations/gw-samarinda/BW-2026-0013.yaml"
    world.branch("main", {path: request_yaml("BW-2026-0013", "gw-samarinda", "isp-a", "198.18.102.0/24", 5, end=yesterday, start="2026-10-01")}, "Alokasi sementara")
    main = github.ref("refs/heads/main")

    run = world.run("schedule", github.schedule_event("0 22 * * *"), "scheduled.yml", job="expiry")
    assert run.jobs() == {"expiry": "success"}, run.text()
    branch = "otomatis/hapus-alokasi-kedaluwarsa"
    pulls = list(github.pulls.values())
    assert len(pulls) == 1 and pulls[0]["head"]["ref"] == branch and pulls[0]["user"]["login"] == "github-actions[bot]"
    assert pulls[0]["title"] == f"Hapus alokasi bandwidth yang telah berakhir ({today().isoformat()})"
    assert f"- `{path}`" in pulls[0]["body"]
    head = github.ref(f"refs/heads/{branch}")
    assert github.git("diff", "--name-status", main, head).split() == ["D", path]
    assert [p.ref for p in github.pushes] == [f"refs/heads/{branch}"]

    # The next day: the same files, so the pull request keeps its commit (and its approvals).
    run = world.run("schedule", github.schedule_event("0 22 * * *"), "scheduled.yml", job="expiry")
    assert run.jobs() == {"expiry": "success"}, run.text()
    assert f"#{pulls[0]['number']} already removes exactly these files" in run.output("expiry")
    assert len(github.pulls) == 1 and len(github.pushes) == 1 and github.ref(f"refs/heads/{branch}") == head
