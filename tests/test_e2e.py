"""The life of a request, run for real: the workflow files end to end, offline (`make e2e`).

Each scenario seeds a fake GitHub (tests/fakegithub.py) with this checkout's files as `main`, does
what people do on GitHub (an issue, a pull request, reviews, merges) and runs the real
.github/workflows/*.yml with act for the events GitHub would send (tests/actrun.py, the world in
tests/e2eworld.py). It asserts on what the fake recorded (comments, issues, pull requests, pushes,
every call authorised and answered), on the origin repository's refs and notes, and, where the jobs
of the environment `production` run, on the lab's gateways.

Without the lab, no job that reaches a gateway can start: the harness gives such jobs (runs-on:
vars.PRODUCTION_RUNNER) a runner label act has no platform for, and passes no gateway secret. The
lab scenarios (4, 7 and the drift issue of 6) share one lab, built from the merged main: there the
label is mapped to this machine, and the lab's inventory, key and host keys are the environment's
variables and secret.

Scenarios: 1 request (issue -> pull request; a bad field -> a comment; the change and give-back
forms -> a pull request changing or removing the file, another agency's id -> a comment), 2 availability (the sticky
form, an overflow says what is free), 3 disposition (none, requester, self, stale, complete; a
pull request retargeted away and back is judged every time, never skipped; a dispatch of apply.yml
from a branch applies nothing), 5 race (two merged pull requests overflow an uplink: the re-check
fails, nothing is applied, an issue names who must act), 6 expiry (expired allocations -> a pull
request removing them, once), 8 settings (a weakened setting -> one issue, updated), 11 the monthly report (from a
real Prometheus holding a synthetic month, only when its URL is set); on the lab: 4
merge to report (apply, verify, comment, signed notes, ten SOP step times), 7 re-run (changed=0),
6 drift (a class changed by hand -> one issue, updated on the next run; the month's candidates
issue, opened then edited, its links the prefilled forms), 10 forms on the lab (a change raises the
ceiling, an extension is shaped past the old end, a give-back removes the class; the report and the letter say so), 9 the gate (an admin merge
whose pull request rewrote the check to pass, then a direct push: nothing applied, one issue for
the Kasi; then the Kasi's emergency dispatch with a reason: applied, the reason on the record).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from actrun import Gateways
from bandwidth.textid import BULAN, tanggal
from conftest import BANDWIDTH, ROOT, minor, running_prometheus
from e2eworld import ANSWERS, CHAIN, KASI, TIK, TU, Merged, World, available_mbps, issue_body, lab_classes, merge_to_report, new_world, request_yaml, tc_in, today
from fakegithub_settings import WEAKENED

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(tmp_path: Path):
    with new_world(tmp_path) as made:
        yield made


# ---- 1. request: an issue from the form ----


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


def test_request_the_change_forms_become_pull_requests_that_change_or_remove_the_file(world: World):
    """Perubahan changes the agency's file, Pengembalian (cabut sekarang) removes it, and a form naming another
    agency's allocation gets a comment: through the same intake workflow, told apart by the form's label."""
    github = world.github
    templates = ROOT / ".github/ISSUE_TEMPLATE"
    path = "allocations/gw-samarinda/BW-2026-0001.yaml"
    common = {
        "id": "BW-2026-0001", "agency": "Dinas Kesehatan Provinsi Kalimantan Timur", "letter_number": "440/2345/DINKES-XII/2026",
        "letter_date": today().isoformat(), "contact_name": "Budi Santoso", "contact_email": "budi.santoso@example.go.id",
    }  # fmt: skip
    change = issue_body({**common, "download_max": "120", "reason": "SIMRS baru"}, templates / "perubahan-bandwidth.yml")
    number = github.open_issue("Perubahan Bandwidth: BW-2026-0001", change, "budi-santoso", ["perubahan-bandwidth"])
    run = world.run("issues", github.issues_event(number), "issue-intake.yml")
    assert run.jobs() == {"read": "success", "write": "success"}, run.text()
    pull = next(p for p in github.pulls.values() if p["head"]["ref"] == f"permohonan/issue-{number}")
    assert pull["title"] == f"Perubahan bandwidth BW-2026-0001 (issue #{number})" and f"Closes #{number}" in pull["body"]
    head = github.ref(f"refs/heads/permohonan/issue-{number}")
    assert github.git("diff", "--name-status", "refs/heads/main", head).split() == ["M", path]
    text = world.file_on(head, path)
    assert "download: {guaranteed_mbps: 50, max_mbps: 120}" in text and "number: 440/2345/DINKES-XII/2026" in text and "github: budi-santoso" in text

    give_back = issue_body({**common, "letter_number": "440/2346/DINKES-XII/2026", "how": "Cabut sekarang", "reason": "Layanan pindah"}, templates / "pengembalian-bandwidth.yml")
    number = github.open_issue("Pengembalian Bandwidth: BW-2026-0001", give_back, "budi-santoso", ["pengembalian-bandwidth"])
    run = world.run("issues", github.issues_event(number), "issue-intake.yml")
    assert run.jobs() == {"read": "success", "write": "success"}, run.text()
    pull = next(p for p in github.pulls.values() if p["head"]["ref"] == f"permohonan/issue-{number}")
    assert pull["title"] == f"Pengembalian bandwidth BW-2026-0001 (issue #{number})" and "dihapus" in pull["body"]
    assert github.git("diff", "--name-status", "refs/heads/main", github.ref(f"refs/heads/permohonan/issue-{number}")).split() == ["D", path]

    # Another agency's allocation: a comment naming the field, no branch; two forms' labels on one issue: a comment saying so.
    pushes = len(github.pushes)
    number = github.open_issue("Perubahan Bandwidth: BW-2026-0002", change.replace("BW-2026-0001", "BW-2026-0002"), "budi-santoso", ["perubahan-bandwidth"])
    run = world.run("issues", github.issues_event(number), "issue-intake.yml")
    assert run.jobs() == {"read": "success", "write": "success"}, run.text()
    comments = github.comments_on(number)
    assert len(comments) == 1 and "tercatat atas nama instansi lain" in comments[0]["body"] and len(github.pushes) == pushes
    number = github.open_issue("Perubahan Bandwidth", change, "budi-santoso", ["perubahan-bandwidth", "pengembalian-bandwidth"])
    run = world.run("issues", github.issues_event(number), "issue-intake.yml")
    assert run.jobs() == {"read": "success", "write": "success"} and len(github.pushes) == pushes, run.text()
    (comment,) = github.comments_on(number)
    assert "berlabel lebih dari satu formulir (pengembalian-bandwidth, perubahan-bandwidth)" in comment["body"]


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
    marker, checked, blank, heading = first["body"].split("\n", 4)[:4]
    assert marker == "<!-- bandwidth-availability -->" and blank == "" and heading == "## Form Laporan Pengecekan Kesediaan Bandwidth"
    # When the check ran and on which head: SOP steps 5-6 of the completion report (`bandwidth record` reads it).
    head = github.pulls[number]["head"]["sha"]
    assert re.fullmatch(rf"<!-- bandwidth-checked-at: \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ commit: {head} -->", checked), checked
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


def test_disposition_a_retargeted_pull_request_is_judged_every_time_never_skipped(world: World):
    """Moved to another branch, reviewed there, moved back: a skipped check would count as passed. Each run fails."""
    github = world.github
    path = "allocations/gw-balikpapan/BW-2026-0013.yaml"
    world.branch("lain", {"README.md": "cabang lain\n"}, "Cabang lain")
    world.branch("permohonan", {path: request_yaml("BW-2026-0013", "gw-balikpapan", "isp-a", "198.18.203.0/24", 5)}, "Permohonan BW-2026-0013")
    number = github.open_pull("permohonan", TU[1], "Permohonan BW-2026-0013")
    results = []

    def disposition(event_name: str, payload: dict):
        run = world.run(event_name, payload, "disposition.yml")
        results.append(run.jobs())
        return run

    disposition("pull_request", github.pull_request_event(number, "opened"))
    away = disposition("pull_request", github.retarget(number, "lain"))
    assert [a["message"] for a in away.annotations("approvals")] == ["Pull request ini menuju cabang 'lain', bukan main: rantai disposisi hanya menilai pull request ke main."]
    github.review(number, TIK[0], state="COMMENTED")  # any review runs the check again: there, it fails too
    disposition("pull_request_review", github.review_event(number, github.reviews[number][-1]))
    back = disposition("pull_request", github.retarget(number, "main"))
    assert "Status: **belum lengkap**" in back.output("approvals")
    assert results == [{"approvals": "failure"}] * 4, results


def test_dispatch_of_apply_from_another_branch_applies_nothing(world: World):
    """`workflow_dispatch` may name any branch: the branch's files and code never reach a gateway."""
    github = world.github
    sha = world.branch("pintas", {"allocations/gw-balikpapan/BW-2026-0013.yaml": request_yaml("BW-2026-0013", "gw-balikpapan", "isp-a", "198.18.204.0/24", 5)}, "Tanpa disposisi")
    dispatch = {"inputs": {}, "ref": "refs/heads/pintas", "repository": github.repository_json(), "sender": {"login": TU[0], "type": "User"}}
    run = world.run("workflow_dispatch", dispatch, "apply.yml", sha=sha)
    assert run.jobs().get("check") == "failure" and run.jobs().get("apply") in ("skipped", None), run.jobs()
    assert [a["message"] for a in run.annotations("check")] == ["Run ini pada refs/heads/pintas: konfigurasi gateway hanya diterapkan dari main; tidak ada gateway yang diubah."]
    assert not github.pushes[-1:] or github.pushes[-1].ref != "refs/notes/bandwidth"


# ---- 5. race: two pull requests that each fit overflow an uplink together ----


def test_race_main_over_capacity_is_not_applied_and_an_issue_names_who_must_act(world: World):
    github = world.github
    seeded = github.ref("refs/heads/main")  # what the gateways hold: the harness signed its Applied record (e2eworld.seed)
    share = available_mbps("gw-balikpapan", "isp-a") * 6 // 10  # each fits; both are 120% of what is free
    first = "allocations/gw-balikpapan/BW-2026-0013.yaml"
    second = "allocations/gw-balikpapan/BW-2026-0014.yaml"
    world.branch("rsud", {first: request_yaml("BW-2026-0013", "gw-balikpapan", "isp-a", "198.18.203.0/24", share, "budi-santoso")}, "Permohonan BW-2026-0013")
    intake = github.open_issue("Permohonan bandwidth BW-2026-0014", "(formulir)", "sari-dewi", labels=("permohonan-bandwidth",))
    branch = f"permohonan/issue-{intake}"  # the intake workflow's pull request for that issue
    world.branch(branch, {second: request_yaml("BW-2026-0014", "gw-balikpapan", "isp-a", "198.18.204.0/24", share, "sari-dewi")}, "Permohonan BW-2026-0014")
    one = github.open_pull("rsud", "budi-santoso", "Permohonan BW-2026-0013")
    two = github.open_pull(branch, "github-actions[bot]", "Permohonan BW-2026-0014")
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
    # Nothing after the failed re-check ran: no gateway touched, no applied time, no report.
    for job in ("apply", "applied", "comment"):
        assert jobs.get(job) == "skipped", (job, jobs)
        assert not run.steps(job), f"job {job} ran steps"
    assert "Skipping job 'Konfigurasi dan verifikasi gateway'" in run.log.read_text()
    # The disposition runs beside the re-check: the merge and its approvals happened, so the note records
    # them; it is the only ref that moves, and it says nothing was applied.
    assert jobs.get("disposition") == "success", jobs
    moved = {name for name in github.refs() if github.refs()[name] != refs_before.get(name)}
    assert moved <= {"refs/notes/bandwidth"} and len(github.pushes) <= pushes_before + 1, (moved, github.pushes[pushes_before:])
    note = github.git("notes", "--ref=refs/notes/bandwidth", "show", after)
    assert f"Bandwidth-Pull-Request: {two}" in note and "Bandwidth-Applied" not in note, note
    assert f"Bandwidth-Requested-At: {github.issues[intake]['created_at']}" in note, note  # the intake issue's time
    # It names the signed record before it (the seed's applied record): a rewritten notes ref breaks that link.
    previous = re.search(r"^Bandwidth-Previous-Record: ([0-9a-f]{40})$", note, re.M)
    assert previous and "Bandwidth-Applied:" in github.git("notes", "--ref=refs/notes/bandwidth", "show", previous.group(1)), note

    issues = [i for i in github.issues.values() if "pull_request" not in i and i["number"] != intake]
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
    assert len([i for i in github.issues.values() if "pull_request" not in i and i["number"] != intake]) == 1
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


# ---- 11. the monthly report: Prometheus' month, built by the scheduled workflow ----


def test_monthly_report_the_scheduled_workflow_builds_it_from_prometheus_when_a_url_is_set(world: World, tmp_path: Path):
    """The job `monthly-report` by hand (a schedule runs it on the 1st, WITA): the month before, read from a real Prometheus
    holding a synthetic month, kept as an artifact. Without the variable it does not run at all."""
    local = dt.datetime.now(WITA)
    first = local.date().replace(day=1)
    month = (first - dt.timedelta(days=1)).strftime("%Y-%m")
    start = int(dt.datetime.combine(first - dt.timedelta(days=1), dt.time(), WITA).replace(day=1).timestamp())
    end = int(dt.datetime.combine(first, dt.time(), WITA).timestamp())
    times = range(start - 1800, end + 1800, 300)
    families: dict[str, list[str]] = {"bandwidth_allocation_guaranteed_bytes_per_second": [], "bandwidth_allocation_maximum_bytes_per_second": [], "bandwidth_allocation_sent_bytes": []}
    for direction in ("download", "upload"):
        labels = MONTHLY_LABELS.format(direction=direction)
        families["bandwidth_allocation_guaranteed_bytes_per_second"] += [f"bandwidth_allocation_guaranteed_bytes_per_second{{{labels}}} {20 * 125_000} {t}" for t in times]
        families["bandwidth_allocation_maximum_bytes_per_second"] += [f"bandwidth_allocation_maximum_bytes_per_second{{{labels}}} {40 * 125_000} {t}" for t in times]
        # 1 Mbit/s all month: 5 % of the guaranteed 20, a candidate to give back.
        families["bandwidth_allocation_sent_bytes"] += [f"bandwidth_allocation_sent_bytes_total{{{labels}}} {n * 125_000 * 300} {t}" for n, t in enumerate(times)]
    lines = [line for name, samples in families.items() for line in (f"# TYPE {name} {'counter' if name.endswith('bytes') else 'gauge'}", *samples)]
    (tmp_path / "month.om").write_text("\n".join([*lines, "# EOF", ""]), encoding="utf-8")
    backfill = ["promtool", "tsdb", "create-blocks-from", "openmetrics", "--quiet", "--max-block-duration=744h", str(tmp_path / "month.om"), str(tmp_path / "data")]
    subprocess.run(backfill, check=True, capture_output=True, timeout=120)
    dispatch = {"inputs": {}, "ref": "refs/heads/main", "repository": world.github.repository_json(), "sender": {"login": TIK[0], "type": "User"}}

    unset = world.run("workflow_dispatch", dispatch, "scheduled.yml", job="monthly-report")
    assert unset.jobs().get("monthly-report") in ("skipped", None), unset.jobs()

    with running_prometheus(tmp_path, "global: {}\n", tmp_path / "data", "--storage.tsdb.retention.time=100y") as prometheus:
        runner = Gateways(inventory=ROOT / "inventory" / "production", ssh_key="", known_hosts="", variables={"BANDWIDTH_PROMETHEUS_URL": prometheus})
        run = world.run("workflow_dispatch", dispatch, "scheduled.yml", job="monthly-report", gateways=runner)
    assert run.jobs() == {"monthly-report": "success"}, run.text()
    (folder,) = world.act.artifacts.glob(f"laporan-monitoring-bulanan-{month}-*")
    report = json.loads((folder / "monitoring.json").read_text())
    assert report["kind"] == "monthly" and report["month"] == month, report.get("month")
    (entry,) = report["allocations"]
    assert entry["id"] == "BW-2026-0001"
    assert report["candidates"]["underused"] == ["BW-2026-0001"] and report["candidates"]["at_ceiling"] == []
    assert "Laporan Monitoring Bandwidth Bulanan" in (folder / "monitoring.md").read_text()


MONTHLY_LABELS = 'gateway="gw-samarinda",uplink="isp-a",allocation="BW-2026-0001",agency="Dinas Uji",direction="{direction}",family="ipv4"'
WITA = dt.timezone(dt.timedelta(hours=8))


# ---- 4. merge to report, 7. re-run, 6. drift: the jobs of the environment `production`, on the lab ----


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("on-lab")
    lab = folder / "lab-checkout"
    with new_world(folder) as world:
        try:
            yield merge_to_report(world, lab)
        finally:
            if (lab / "lab" / "lab.json").exists():
                subprocess.run([BANDWIDTH, "lab", "down"], cwd=lab, capture_output=True, timeout=300, check=False)


@pytest.mark.lab
def test_merge_to_report_applies_verifies_comments_and_records_every_sop_step(merged: Merged):
    import docx

    github, run = merged.world.github, merged.run
    assert run.returncode == 0, run.text()
    assert run.jobs() == {
        "check": "success", "disposition": "success", "disposition-push": "success", "apply": "success", "applied": "success",
        "applied-push": "success", "comment": "success", "gate-issue": "skipped", "recheck-issue": "skipped",
    }, run.text()  # fmt: skip
    assert "gate: main " in run.output("apply") and "may be applied: 1 change(s) since" in run.output("apply")

    # The gateway holds the new allocation: its class, with the requested ceiling.
    shaped = [line for line in lab_classes("gw-samarinda").splitlines() if f"class htb {minor(merged.request_id)} " in line]
    assert shaped and any("ceil 40Mbit" in line for line in shaped), shaped

    # The report, commented on the merged pull request, mentions the requester.
    reports = [c for c in github.comments_on(merged.pull) if c["body"].startswith("<!-- bandwidth-report -->")]
    assert len(reports) == 1, github.comments_on(merged.pull)
    body = reports[0]["body"]
    assert "## Laporan Penyelesaian Tugas Penyediaan Bandwidth" in body and "@lina-marlina" in body and merged.request_id in body
    assert "&#" not in body

    # The artifact: report.json, report.md, report.html and the letter, with the copy to the requester dated.
    (folder,) = merged.world.act.artifacts.glob("laporan-penyelesaian-*")
    # The availability list beside it, with what open pull requests are waiting for (read from GitHub).
    assert "### Perubahan yang menunggu disposisi (pull request terbuka)" in (folder / "daftar-kesediaan.md").read_text()
    assert "pending" in json.loads((folder / "daftar-kesediaan.json").read_text())
    report = json.loads((folder / "report.json").read_text())
    entry = next(a for a in report["allocations"] if a["id"] == merged.request_id)
    assert entry["verdict"] == "pass" and entry["changed"] is True, entry
    measured = [a["id"] for a in report["allocations"] if a["download"]["measured_mbps"] is not None]
    assert measured == [merged.request_id]  # bandwidth_verify_measure=changed: only what the merge touched
    timeline = entry["timeline"]
    issue = github.issues[merged.issue]
    assert timeline["requested"] == issue["created_at"]  # step 1: the issue, not a commit
    assert timeline["opened"] == github.pulls[merged.pull]["created_at"]
    assert [(d["role"], d["login"]) for d in timeline["dispositions"]] == [(role["role"], login) for role, login in zip(CHAIN["chain"], (TU[0], TIK[0], KASI[0]), strict=True)]
    for key in ("checked", "availability_reported", "merged", "applied", "verified", "copied"):
        assert timeline[key], (key, timeline)
    moments = [
        timeline["requested"],
        timeline["opened"],
        *(d["time"] for d in timeline["dispositions"]),
        timeline["merged"],
        timeline["applied"],
        timeline["verified"],
        report["finished"],
        timeline["copied"],
    ]
    instants = [dt.datetime.fromisoformat(moment) for moment in moments]
    assert instants == sorted(instants), moments  # every step after the one before
    letter = docx.Document(str(folder / f"Laporan_Penyelesaian_Tugas_{merged.request_id}.docx"))
    steps = letter.tables[-1]
    cells = [steps.cell(i, 3).text for i in range(1, 11)]
    assert all("WITA" in cell and "durasi" in cell for cell in cells), cells  # an actual time and a duration for each of the ten steps

    # The audit trail in git: on a fresh clone of the origin, with the notes.
    clone = merged.lab.parent / "auditor"
    subprocess.run(["git", "clone", "--quiet", str(github.bare), str(clone)], check=True, capture_output=True, timeout=60)
    subprocess.run(["git", "-C", str(clone), "fetch", "--quiet", "origin", "refs/notes/bandwidth:refs/notes/bandwidth"], check=True, capture_output=True, timeout=60)
    done = subprocess.run([BANDWIDTH, "audit", "--format", "json", merged.request_id], cwd=clone, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    (event,) = json.loads(done.stdout)["events"]
    assert event["action"] == "created" and event["pull_request"] == merged.pull, event
    assert [a["login"] for a in event["approvers"]] == [TU[0], TIK[0], KASI[0]], event
    assert event["disposition"]["applied"] == "success" and event["disposition"]["applied_at"], event
    assert event["verified"] is True, event  # the workflow signed it with the key main trusts


@pytest.mark.lab
def test_rerun_the_apply_workflow_changes_nothing_and_says_so(merged: Merged):
    github = merged.world.github
    classes = lab_classes("gw-samarinda")
    comments = len(github.comments)
    dispatch = {"inputs": {}, "ref": "refs/heads/main", "repository": github.repository_json(), "sender": {"login": KASI[0], "type": "User"}}
    run = merged.world.run("workflow_dispatch", dispatch, "apply.yml", gateways=merged.gateways)
    assert run.jobs() == {
        "check": "success", "disposition": "skipped", "disposition-push": "skipped", "apply": "success", "applied": "skipped",
        "applied-push": "skipped", "comment": "skipped", "gate-issue": "skipped", "recheck-issue": "skipped",
    }, run.text()  # fmt: skip
    notices = [a for a in run.annotations("apply") if a["command"] == "notice"]
    assert [n["message"] for n in notices] == ["no gateway changed: every gateway already matches main"], run.annotations("apply")
    assert "changed=0" in run.output("apply") and not re.search(r"changed=[1-9]", run.output("apply"))
    assert lab_classes("gw-samarinda") == classes and len(github.comments) == comments  # no comment: no pull request was merged


@pytest.mark.lab
def test_drift_a_class_changed_by_hand_opens_one_issue_updated_on_the_next_run_and_the_candidates_one_a_month(merged: Merged):
    """The whole scheduled workflow, twice: the drift issue opened then commented on; the month's candidates issue (the lab
    is idle: every allocation is a candidate to give back, each with a link to its prefilled form) opened then edited."""
    github = merged.world.github
    classid = minor(merged.request_id)
    device = next(link for link in ("eth1", "eth2") if f"class htb {classid} " in tc_in("gw-samarinda", "class", "show", "dev", link))
    shaped = next(line for line in tc_in("gw-samarinda", "class", "show", "dev", device).splitlines() if f"class htb {classid} " in line)
    parent = shaped.split(" parent ", 1)[1].split()[0]
    tc_in("gw-samarinda", "class", "change", "dev", device, "parent", parent, "classid", classid, "htb", "rate", "1mbit", "ceil", "1mbit")

    title = "Drift konfigurasi bandwidth"
    candidates = f"Kandidat perubahan alokasi bandwidth, {BULAN[today().month - 1]} {today().year}"
    secrets = {"SETTINGS_READ_TOKEN": github.token}  # the whole workflow: its settings job reads them too (all as required)
    for attempt in (1, 2):
        run = merged.world.run("schedule", github.schedule_event("0 22 * * *"), "scheduled.yml", gateways=merged.gateways, secrets=secrets)
        jobs = run.jobs()
        assert (jobs.get("drift"), jobs.get("drift-issue"), jobs.get("candidates-issue")) == ("failure", "success", "success"), run.text()
        assert (jobs.get("settings"), jobs.get("settings-issue")) == ("success", "skipped"), jobs
        issues = [i for i in github.issues.values() if "pull_request" not in i and i["title"] == title]
        assert len(issues) == 1, issues  # opened once, then commented on
        issue = issues[0]
        assert issue["user"]["login"] == "github-actions[bot]"
        # One line per drift, from the report: the gateway, the device and the allocation whose class differs.
        drift = [line for line in issue["body"].splitlines() if line.startswith("DRIFT ")]
        assert drift and all(line.startswith(f"DRIFT gw-samarinda {device} {merged.request_id}: ") for line in drift), issue["body"]
        assert "fatal:" not in issue["body"]
        assert len(github.comments_on(issue["number"])) == attempt - 1

        monthly = [i for i in github.issues.values() if "pull_request" not in i and i["title"] == candidates]
        assert len(monthly) == 1, monthly  # opened once, then its body edited
        assert monthly[0]["user"]["login"] == "github-actions[bot]" and not github.comments_on(monthly[0]["number"])
        body = monthly[0]["body"]
        assert f"@{KASI[0]}" in body and "### Kandidat pengembalian (" in body, body
        link = re.search(rf"\[formulir Pengembalian / Pencabutan Bandwidth\]\(({re.escape(github.url)}/[^)\s]+)\)", body)
        assert link, body
        url = urllib.parse.urlsplit(link.group(1))
        query = dict(urllib.parse.parse_qsl(url.query, strict_parsing=True))
        assert url.path == f"/{github.repository}/issues/new" and query["template"] == "pengembalian-bandwidth.yml"
        assert re.fullmatch(r"BW-[0-9]{4}-[0-9]{4}", query["id"]) and query["agency"]


@pytest.mark.lab
def test_forms_a_change_an_extension_and_a_give_back_reach_the_gateway_with_a_report_and_letter_that_say_so(merged: Merged):
    """Perubahan raises the agency's download ceiling, Perpanjangan moves its end later, then Pengembalian (cabut sekarang)
    removes it: each through the intake,
    the chain and the push run on the lab; the gateway, the report commented on the pull request and the letter follow."""
    import docx

    world, github = merged.world, merged.world.github
    templates = ROOT / ".github/ISSUE_TEMPLATE"
    common = {
        "id": merged.request_id, "agency": ANSWERS["agency"], "letter_date": today().isoformat(),
        "contact_name": ANSWERS["contact_name"], "contact_email": ANSWERS["contact_email"], "reason": "Layanan baru",
    }  # fmt: skip

    def through_the_chain(form: str, answers: dict) -> tuple[int, object, Path]:
        number = github.open_issue(f"{form}: {merged.request_id}", issue_body(answers, templates / f"{form}.yml"), "lina-marlina", [form])
        run = world.run("issues", github.issues_event(number), "issue-intake.yml")
        assert run.jobs() == {"read": "success", "write": "success"}, run.text()
        pull = next(n for n, p in github.pulls.items() if p["head"]["ref"] == f"permohonan/issue-{number}")
        for login in (TU[0], TIK[0], KASI[0]):
            github.review(pull, login)
        before, after = github.merge(pull, KASI[0])
        artifacts = set(world.act.artifacts.glob("laporan-penyelesaian-*"))
        run = world.run("push", github.push_event(before, after), "apply.yml", gateways=merged.gateways)
        assert run.jobs().get("apply") == "success" and run.jobs().get("comment") == "success", run.text()
        (folder,) = set(world.act.artifacts.glob("laporan-penyelesaian-*")) - artifacts
        return pull, run, folder

    def letter_text(path: Path) -> str:
        document = docx.Document(str(path))
        return "\n".join([p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells])

    classid = f"class htb {minor(merged.request_id)} "
    pull, _run, folder = through_the_chain("perubahan-bandwidth", {**common, "letter_number": "523/0202/DKP-XII/2026", "download_max": "60"})
    shaped = [line for line in lab_classes("gw-samarinda").splitlines() if classid in line]
    assert shaped and any("ceil 60Mbit" in line for line in shaped), shaped
    (comment,) = [c["body"] for c in github.comments_on(pull) if c["body"].startswith("<!-- bandwidth-report -->")]
    assert f"### Perubahan alokasi\n\n- {merged.request_id} (" in comment and "Unduh maksimum 40 Mbit/s → 60 Mbit/s" in comment
    letter = letter_text(folder / f"Laporan_Penyelesaian_Tugas_{merged.request_id}.docx")
    assert "Laporan Penyelesaian Perubahan Alokasi Bandwidth" in letter and "Nomor 523/0202/DKP-XII/2026" in letter
    assert "Unduh maksimum\n40 Mbit/s\n60 Mbit/s" in letter

    # Perpanjangan: a later end. The class stays as it is; the report and the letter say what changed, and the day after
    # the old end the allocation is still shaped and not expired (what the scheduled expiry job reads).
    before = lab_classes("gw-samarinda")
    old_end, new_end = dt.date.fromisoformat(ANSWERS["end"]), today() + dt.timedelta(days=400)
    pull, run, folder = through_the_chain("perpanjangan-bandwidth", {**common, "letter_number": "523/0252/DKP-XII/2026", "end": new_end.isoformat()})
    assert lab_classes("gw-samarinda") == before
    assert any(a["message"].startswith("no gateway changed") for a in run.annotations("apply")), run.annotations("apply")
    (comment,) = [c["body"] for c in github.comments_on(pull) if c["body"].startswith("<!-- bandwidth-report -->")]
    assert f"Tanggal berakhir {tanggal(old_end)} → {tanggal(new_end)}" in comment, comment
    letter = letter_text(folder / f"Laporan_Penyelesaian_Tugas_{merged.request_id}.docx")
    assert "Laporan Penyelesaian Perpanjangan Alokasi Bandwidth" in letter and "Nomor 523/0252/DKP-XII/2026" in letter
    clone = merged.lab.parent / "after-extension"
    subprocess.run(["git", "clone", "--quiet", str(github.bare), str(clone)], check=True, capture_output=True, timeout=60)
    day_after = (old_end + dt.timedelta(days=1)).isoformat()
    checked = subprocess.run([BANDWIDTH, "check", f"--today={day_after}"], cwd=clone, capture_output=True, text=True, timeout=120, check=False)
    rendered = subprocess.run([BANDWIDTH, "render", "--gateway", "gw-samarinda", f"--today={day_after}"], cwd=clone, capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0 and "expired on" not in checked.stdout, checked.stdout + checked.stderr
    assert rendered.returncode == 0 and merged.request_id in rendered.stdout, rendered.stderr

    pull, _run, folder = through_the_chain("pengembalian-bandwidth", {**common, "letter_number": "523/0303/DKP-XII/2026", "how": "Cabut sekarang"})
    assert classid not in lab_classes("gw-samarinda")  # its class is gone from the gateway
    (comment,) = [c["body"] for c in github.comments_on(pull) if c["body"].startswith("<!-- bandwidth-report -->")]
    assert f"### Alokasi dicabut\n\n- {merged.request_id} (" in comment and "@lina-marlina" in comment
    report = json.loads((folder / "report.json").read_text())
    assert [r["id"] for r in report["removed"]] == [merged.request_id] and report["removed"][0]["applied"]
    letter = letter_text(folder / f"Laporan_Penyelesaian_Tugas_{merged.request_id}.docx")
    assert "Laporan Penyelesaian Pengembalian Alokasi Bandwidth" in letter and "alokasi tersebut dicabut dari gw-samarinda" in letter
    assert "Nomor 523/0303/DKP-XII/2026" in letter  # the give-back's own letter, from its form through the signed record


# ---- 8. settings: what GitHub must enforce, checked daily ----


def test_settings_a_weakened_setting_opens_one_issue_updated_and_none_when_all_hold(world: World):
    github = world.github
    title = "Pengaturan keamanan repositori melemah"
    secrets = {"SETTINGS_READ_TOKEN": github.token}

    def daily() -> dict:
        run = world.run("schedule", github.schedule_event("0 22 * * *"), "scheduled.yml", job="settings-issue", secrets=secrets)
        return run.jobs()

    assert daily() == {"settings": "success", "settings-issue": "skipped"}  # as required: nothing to say
    assert not [i for i in github.issues.values() if i["title"] == title]
    original = json.loads(json.dumps(github.settings))
    WEAKENED["no code-owner review"][0](github.settings, github.repository)
    assert daily() == {"settings": "failure", "settings-issue": "success"}
    issues = [i for i in github.issues.values() if i["title"] == title]
    assert len(issues) == 1 and "branch_rules.require_code_owner_review" in issues[0]["body"] and "review oleh Code Owners tidak diwajibkan" in issues[0]["body"]
    assert daily() == {"settings": "failure", "settings-issue": "success"}  # the next day: a comment, not a second issue
    assert len([i for i in github.issues.values() if i["title"] == title]) == 1 and len(github.comments_on(issues[0]["number"])) == 1
    github.settings.clear()
    github.settings.update(original)
    assert daily() == {"settings": "success", "settings-issue": "skipped"}
    assert len(github.comments_on(issues[0]["number"])) == 1


@pytest.mark.lab
def test_gate_main_without_the_whole_chain_reaches_no_gateway_until_the_kasi_says_why(merged: Merged):
    """An admin merge (one role approved), then a direct push: nothing applied, one issue for the Kasi, updated. Then the
    Kasi's emergency dispatch with a reason: applied, and the reason is on the record."""
    world, github = merged.world, merged.world.github
    title = "Perubahan tanpa disposisi lengkap tidak diterapkan"
    path = "allocations/gw-balikpapan/BW-2026-0031.yaml"
    # The pull request also rewrites the check to pass: on the pull request it does (its own copy runs, which only a
    # ruleset "require workflows to pass" pinned to main would stop: settings-check), but the record does not lie.
    rewritten = (ROOT / ".github/workflows/disposition.yml").read_text(encoding="utf-8").split("    steps:\n")[0] + "    steps:\n      - run: exit 0\n"
    files = {path: request_yaml("BW-2026-0031", "gw-balikpapan", "isp-a", "198.18.231.0/24", 5), ".github/workflows/disposition.yml": rewritten}
    world.branch("pintas-admin", files, "Permohonan BW-2026-0031")
    number = github.open_pull("pintas-admin", "budi-santoso", "Permohonan BW-2026-0031")
    github.review(number, TU[0])  # only the first role
    check = world.run("pull_request_review", github.review_event(number, github.reviews[number][-1]), "disposition.yml")
    assert check.jobs() == {"approvals": "success"}, check.text()  # the rewritten check, green
    before, after = github.merge(number, "admin-repositori")
    classes = lab_classes("gw-balikpapan")

    run = world.run("push", github.push_event(before, after), "apply.yml", gateways=merged.gateways)
    jobs = run.jobs()
    assert jobs.get("disposition-push") == "success" and jobs.get("apply") == "failure" and jobs.get("gate-issue") == "success", run.text()
    assert f"{after[:12]} Merge pull request #{number}" in run.output("apply") and "disposition incomplete: missing" in run.output("apply")
    assert lab_classes("gw-balikpapan") == classes  # nothing reached the gateway
    issues = [i for i in github.issues.values() if i["title"] == title]
    assert len(issues) == 1 and after[:12] in issues[0]["body"] and " ".join(f"@{login}" for login in KASI) in issues[0]["body"]

    world.branch("main", {"allocations/gw-balikpapan/BW-2026-0032.yaml": request_yaml("BW-2026-0032", "gw-balikpapan", "isp-a", "198.18.232.0/24", 5)}, "Langsung ke main")
    pushed = github.ref("refs/heads/main")
    run = world.run("push", github.push_event(after, pushed), "apply.yml", gateways=merged.gateways)
    assert run.jobs().get("apply") == "failure" and "pushed to main without a pull request" in run.output("apply"), run.text()
    assert len([i for i in github.issues.values() if i["title"] == title]) == 1 and len(github.comments_on(issues[0]["number"])) == 1
    assert lab_classes("gw-balikpapan") == classes

    dispatch = {"inputs": {"alasan": "gangguan layanan RSUD, disposisi menyusul"}, "ref": "refs/heads/main", "repository": github.repository_json(), "sender": {"login": KASI[0], "type": "User"}}
    run = world.run("workflow_dispatch", dispatch, "apply.yml", gateways=merged.gateways, actor=KASI[0])
    steps = run.steps("apply")
    assert steps.get("bandwidth gate (every change since the last apply has a complete, verified disposition)") == "success", steps
    assert steps.get("ansible-playbook playbooks/apply.yml (SOP 7)") == "success" and "(emergency)" in run.output("apply"), run.text()
    assert lab_classes("gw-balikpapan") != classes  # now it did (the lab has no clients for the two new ids: verify says so, and fails)
    note = github.git("notes", "--ref=refs/notes/bandwidth", "show", pushed)
    assert f"Bandwidth-Emergency: {KASI[0]} " in note and "gangguan layanan RSUD, disposisi menyusul" in note and "-----BEGIN SSH SIGNATURE-----" in note
