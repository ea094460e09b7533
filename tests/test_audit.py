"""`bandwidth record` and `bandwidth audit` on a repository built commit by commit.

The history: a direct push creates BW-2026-0001; PR #11 (merge commit) creates BW-2026-0002;
PR #12 (squash, trailers pasted from `record --print`) raises its download max; PR #13 moves it
from gw-a to gw-b (a rename); PR #14 removes BW-2026-0001. The apply workflow's step,
`bandwidth record`, writes each merge's disposition as a git note, asking a local server that
answers like the GitHub API.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import re
import subprocess
from pathlib import Path

import docx
import pytest

from bandwidth.reports import report_text
from conftest import BANDWIDTH, CHAIN, GH_REPO, ROOT, SITI, History, Repo, bandwidth, record, serve_pull


def audit(repo: Repo, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BANDWIDTH, "audit", *args], cwd=repo.path, capture_output=True, text=True, timeout=60, check=False)


def test_audit_reports_exactly_the_events_with_authors_and_approvers(built):
    repo, steps = built
    done = audit(repo, "--format=json")
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)["events"]
    summary = [(e["id"], e["action"], e["commit"], e["author"], e["pull_request"], [a["login"] for a in e["approvers"]]) for e in events]
    assert summary == [
        ("BW-2026-0001", "created", steps["create-0001"].commit, "Admin Jaringan <admin@diskominfo.example.go.id>", None, []),
        ("BW-2026-0002", "created", steps["create-0002"].commit, "Siti Rahma <siti@dinkes.example.go.id>", 11, ["tu-1", "admin-1", "kasi-1"]),
        ("BW-2026-0002", "changed", steps["raise-0002"].commit, "Siti Rahma <siti@dinkes.example.go.id>", 12, ["tu-1", "admin-1", "kasi-1"]),
        ("BW-2026-0002", "changed", steps["move-0002"].commit, "Admin Jaringan <admin@diskominfo.example.go.id>", 13, ["tu-1", "admin-1", "kasi-1"]),
        ("BW-2026-0001", "removed", steps["remove-0001"].commit, "Admin Jaringan <admin@diskominfo.example.go.id>", 14, ["tu-1", "admin-1"]),
    ]
    raise_changes = events[2]["changes"]
    assert raise_changes == [{"field": "download.max_mbps", "old": 20, "new": 30}]
    moved = {c["field"]: (c["old"], c["new"]) for c in events[3]["changes"]}
    assert moved == {
        "(path)": ("allocations/gw-a/BW-2026-0002.yaml", "allocations/gw-b/BW-2026-0002.yaml"),
        "gateway": ("gw-a", "gw-b"),
        "subnets": (["198.18.2.0/24"], ["198.18.18.0/24"]),
    }
    assert events[1]["disposition"]["applied_at"] == "2026-11-03T06:05:00Z"
    assert events[1]["disposition"]["merged_by"] == "kasi-1"
    assert events[4]["disposition"]["missing"] == [{"role": "kasi_infrastruktur", "reason": "no approval yet"}]
    assert events[1]["date"] == "2026-11-03T14:00:00+08:00"


def test_audit_of_one_id_follows_the_rename_and_since_filters(built):
    repo, steps = built
    done = audit(repo, "BW-2026-0002", "--since=2026-11-10")
    assert done.returncode == 0, done.stderr
    assert "2026-11-10 15:00 WITA  BW-2026-0002  changed" in done.stdout
    assert "    download.max_mbps: 20 -> 30" in done.stdout
    assert "    (path): allocations/gw-a/BW-2026-0002.yaml -> allocations/gw-b/BW-2026-0002.yaml" in done.stdout
    assert "PR #13, kasubag_tu=tu-1, administrator_tik=admin-1, kasi_infrastruktur=kasi-1" in done.stdout
    assert "created" not in done.stdout and "BW-2026-0001" not in done.stdout
    assert done.stdout.endswith("2 event(s) up to " + steps["remove-0001"].commit[:12] + "\n")
    assert audit(repo, "BW-2099-0001").returncode == 1


def test_every_event_cites_its_letter_and_names_its_requester_each_change_its_own(repo: Repo):
    """A change (the form Perubahan, Perpanjangan) brings a new letter and contact: each event shows the one it came with."""
    h = History(repo)
    repo.request("BW-2026-0001", contact="{name: Budi, email: budi@example.go.id, github: budi-s}")
    created = h.commit("Permohonan BW-2026-0001", date="2026-11-02T09:00:00+08:00")
    repo.request("BW-2026-0001", contact="{name: Sari, email: sari@example.go.id, github: sari-d}", letter="{number: 002/UJI/2026, date: 2026-11-25}", end="2027-06-30")
    extended = h.commit("Perpanjangan bandwidth BW-2026-0001 (issue #7)", date="2026-11-26T09:00:00+08:00")
    h.git("rm", "-q", "allocations/gw-a/BW-2026-0001.yaml")
    removed = h.commit("Pengembalian bandwidth BW-2026-0001 (issue #9)", date="2026-11-30T09:00:00+08:00")
    done = audit(repo, "BW-2026-0001")
    assert done.returncode == 0, done.stderr
    blocks = re.split(r"^2026-11-", done.stdout, flags=re.M)[1:]
    assert len(blocks) == 3 and created[:12] in blocks[0] and extended[:12] in blocks[1] and removed[:12] in blocks[2]
    assert "    letter 001/UJI/2026 of 2026-11-01, requester Budi (@budi-s)\n" in blocks[0]
    assert "    letter 002/UJI/2026 of 2026-11-25, requester Sari (@sari-d)\n" in blocks[1] and "    end: - -> 2027-06-30" in blocks[1]
    assert "    letter 002/UJI/2026 of 2026-11-25, requester Sari (@sari-d)\n" in blocks[2]  # what was given back, and by whose letter
    events = json.loads(audit(repo, "BW-2026-0001", "--format=json").stdout)["events"]
    assert [e["letter"]["number"] for e in events] == ["001/UJI/2026", "002/UJI/2026", "002/UJI/2026"]
    assert [e["requester"] for e in events][:2] == [{"name": "Budi", "github": "budi-s"}, {"name": "Sari", "github": "sari-d"}]


def test_audit_csv_has_one_row_per_event(built):
    repo, _steps = built
    done = audit(repo, "--format=csv")
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["id"], r["action"], r["pull_request"]) for r in rows] == [
        ("BW-2026-0001", "created", ""), ("BW-2026-0002", "created", "11"), ("BW-2026-0002", "changed", "12"),
        ("BW-2026-0002", "changed", "13"), ("BW-2026-0001", "removed", "14"),
    ]  # fmt: skip
    assert rows[4]["missing"] == "kasi_infrastruktur: no approval yet"


def test_audit_without_notes_says_where_they_are(built):
    repo, _steps = built
    clone = Path(str(repo.path) + "-clone")
    subprocess.run(["git", "clone", "-q", str(repo.path), str(clone)], check=True)  # notes are not fetched by default
    done = audit(Repo(clone), "--format=json")
    assert "no dispositions recorded" not in done.stderr  # the squash merge carries trailers in its message
    events = json.loads(done.stdout)["events"]
    # Without the notes: the pull request numbers are still in GitHub's merge messages, the approvers are not.
    assert [(e["pull_request"], len(e["approvers"])) for e in events] == [(None, 0), (11, 0), (12, 3), (13, 0), (14, 0)]
    assert "PR #11 (from the merge message), no disposition recorded" in audit(Repo(clone)).stdout
    subprocess.run(["git", "-C", str(clone), "fetch", "-q", "origin", "refs/notes/bandwidth:refs/notes/bandwidth"], check=True)
    events = json.loads(audit(Repo(clone), "--format=json").stdout)["events"]
    assert [e["pull_request"] for e in events] == [None, 11, 12, 13, 14]


def test_audit_outside_git_and_bad_ref_are_usage_errors(repo: Repo):
    done = audit(repo)
    assert done.returncode == 2 and "not a git repository" in done.stderr and "Traceback" not in done.stderr
    History(repo)
    done = audit(repo, "--ref", "no-such-branch")
    assert done.returncode == 2 and "'no-such-branch': not a commit" in done.stderr


def test_hostile_history_is_escaped_and_forged_trailers_are_not_trusted(repo: Repo):
    h = History(repo)
    repo.request("BW-2026-0003", "gw-a", agency='"=HYPERLINK(\\"http://x\\")"')
    repo.write("allocations/gw-a/BW-2026-0004.yaml", "id: BW-2026-0004\nagency: \x1b[31m\n")
    (repo.path / "allocations/gw-a").joinpath(os.fsdecode(b"\xff\n.yaml")).write_text("id: BW-2026-0005\n")  # not UTF-8, a newline
    forged = "Bandwidth-Pull-Request: 99\nBandwidth-Disposition: kasubag_tu <script>alert(1)</script> 2026-11-01T00:00:00Z"
    h.commit(f"Tambah\n\n{forged}", who=("=cmd|' /C calc'!A0", "x@example.invalid"))
    done = audit(repo, "--format=csv")
    assert done.returncode == 0, done.stderr
    row = next(csv.DictReader(io.StringIO(done.stdout)))
    assert row["author"].startswith("'=cmd")  # never a formula in a spreadsheet
    assert row["approvers"] == ""  # the malformed approval is dropped, not shown
    assert "unreadable Bandwidth-* trailers" in done.stderr
    text = audit(repo).stdout
    assert "\x1b" not in text and "\u202e" not in text
    assert '    agency: =HYPERLINK("http://x")' in text
    assert "    (file): unreadable: line 2: unacceptable character #x001b" in text
    events = json.loads(audit(repo, "--format=json").stdout)["events"]
    assert [e["path"] for e in events] == ["allocations/gw-a/BW-2026-0003.yaml", "allocations/gw-a/BW-2026-0004.yaml", "allocations/gw-a/\\udcff\\u000a.yaml"]


def completion_report(repo: Repo, applied: dict | None = None) -> dict:
    """`bandwidth render` into .plans, then `bandwidth report` without measuring into out/: its report.json.

    applied: an apply record of gw-a (.plans/gw-a.applied.json, as playbooks/apply.yml writes it).
    """
    plans = repo.path / ".plans"
    done = subprocess.run([BANDWIDTH, "render", f"--output-dir={plans}"], cwd=repo.path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    if applied is not None:
        (plans / "gw-a.applied.json").write_text(json.dumps(applied))
    done = subprocess.run([BANDWIDTH, "report", "--measure=none", "--reports=out"], cwd=repo.path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((repo.path / "out/latest/report.json").read_text())


def test_completion_report_timeline_reads_the_recorded_disposition(built):
    repo, _steps = built
    report = completion_report(repo)
    timeline = {a["id"]: a["timeline"] for a in report["allocations"]}
    assert timeline["BW-2026-0002"]["approved"] == "2026-11-20T03:00:00Z"  # the last approval of PR #13, which moved it last
    assert timeline["BW-2026-0002"]["merged"] == "2026-11-20T10:00:00+08:00"
    # the updated availability list travels with the report (SOP step 7's output)
    ledger = json.loads((repo.path / "out/latest/daftar-kesediaan.json").read_text())
    assert [a["id"] for g in ledger["gateways"] for u in g["uplinks"] for a in u["allocations"]] == ["BW-2026-0002"]
    assert "Daftar Kesediaan Bandwidth" in (repo.path / "out/latest/daftar-kesediaan.html").read_text()


def test_the_workflow_steps_sign_record_and_push_the_note(built, httpserver, tmp_path: Path):
    """.github/scripts/sign-disposition.sh then push-disposition.sh, as the apply workflow's two jobs run them, with a local origin."""
    repo, steps = built
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(origin)], check=True)  # branches only: no notes yet
    runner = tmp_path / "runner"
    subprocess.run(["git", "clone", "-q", str(origin), str(runner)], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    env = {**os.environ, "GITHUB_API_URL": httpserver.url_for("").rstrip("/"), "GITHUB_TOKEN": "test-token", "REPO": GH_REPO, "BANDWIDTH": BANDWIDTH}
    env["GITHUB_SERVER_URL"] = "http://127.0.0.1:9"  # every run has it; the token's header is for that server only, not this local origin
    env.update(SHA=steps["remove-0001"].commit, SIGNING_KEY=(tmp_path / "key").read_text(), RUNNER_TEMP=str(tmp_path), GITHUB_OUTPUT=str(tmp_path / "output"))
    scripts = Path(__file__).resolve().parent.parent / ".github/scripts"
    signed = subprocess.run(
        [str(scripts / "sign-disposition.sh"), "--applied-at", "2026-11-25T01:10:00Z", "--applied-result", "failure"], cwd=runner, capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert signed.returncode == 0, signed.stdout + signed.stderr
    env["NOTE_B64"] = (tmp_path / "output").read_text().split("note=", 1)[1].strip()
    pushed = subprocess.run([str(scripts / "push-disposition.sh")], cwd=runner, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    note = subprocess.run(["git", "notes", "--ref=bandwidth", "show", steps["remove-0001"].commit], cwd=origin, capture_output=True, text=True, check=True).stdout
    assert "Bandwidth-Pull-Request: 14\n" in note
    assert "Bandwidth-Disposition-Missing: kasi_infrastruktur no approval yet\n" in note
    assert "Bandwidth-Applied: 2026-11-25T01:10:00Z failure\n\n-----BEGIN SSH SIGNATURE-----\n" in note


def test_a_shallow_clone_says_so_and_invents_no_creations(built, tmp_path: Path):
    repo, steps = built
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth=2", f"file://{repo.path}", str(shallow)], check=True)
    done = audit(Repo(shallow), "--format=json")
    assert done.returncode == 0, done.stderr
    assert "this clone is shallow" in done.stderr
    events = json.loads(done.stdout)["events"]
    assert [(e["id"], e["action"], e["commit"]) for e in events] == [("BW-2026-0001", "removed", steps["remove-0001"].commit)]


def test_record_a_direct_push_and_an_api_failure(repo: Repo, httpserver):
    h = History(repo)
    repo.request("BW-2026-0001", "gw-a")
    sha = h.commit("Langsung ke main")
    httpserver.expect_request(f"/repos/{GH_REPO}/commits/{sha}/pulls").respond_with_json([])
    record(repo, httpserver, sha)
    note = subprocess.run(["git", "notes", "--ref=bandwidth", "show", sha], cwd=repo.path, capture_output=True, text=True, check=True).stdout
    assert note == "Bandwidth-Disposition-Missing: pull-request pushed without a pull request\n"
    assert "MISSING pull-request (pushed without a pull request)" in audit(repo).stdout
    failing = bandwidth(repo, httpserver, "record", "--github-repo", GH_REPO, "--pr", "5")  # nothing answers for #5
    assert failing.returncode == 2 and "HTTP 500" in failing.stderr and "Traceback" not in failing.stderr
    bad = bandwidth(repo, httpserver, "record", "--github-repo", GH_REPO, "--applied-at", "yesterday")
    assert bad.returncode == 2 and "--applied-at 'yesterday'" in bad.stderr


def test_a_request_file_copied_from_an_older_one_is_dated_by_its_own_first_commit(repo: Repo):
    """A requester who makes the file by copying another request does not inherit that file's history (git log --follow would)."""
    h = History(repo)
    h.git("config", "log.follow", "true")  # a setting that would make `git log -- path` follow on its own
    repo.request("BW-2026-0001", "gw-a", subnets="[198.18.1.0/24]")
    h.commit("Permohonan lama", date="2026-10-01T09:00:00+08:00")
    old = (repo.path / "allocations/gw-a/BW-2026-0001.yaml").read_text()
    repo.write("allocations/gw-a/BW-2026-0002.yaml", old.replace("BW-2026-0001", "BW-2026-0002").replace("198.18.1.0/24", "198.18.2.0/24"))
    h.commit("Permohonan baru, disalin dari yang lama", who=SITI, date="2026-11-20T10:00:00+08:00")
    timeline = {a["id"]: a["timeline"] for a in completion_report(repo)["allocations"]}
    assert timeline["BW-2026-0002"]["committed"] == "2026-11-20T10:00:00+08:00"
    assert timeline["BW-2026-0001"]["committed"] == "2026-10-01T09:00:00+08:00"


def test_a_recorded_time_off_the_calendar_or_in_other_digits_is_unreadable():
    """What the report's timeline takes from a record must be a time its schema takes: ASCII digits, a real date."""
    from bandwidth.history import disposition

    record = disposition.parse(
        "Bandwidth-Pull-Request: \u0669\u0669\n"  # Arabic-Indic digits: \d would take them
        "Bandwidth-Disposition: kasubag_tu tu-1 2026-13-45T25:00:00Z\n"
        "Bandwidth-Applied: 2026-11-27T05:04:00.1234567890Z success\n"
        "Bandwidth-Merged-By: kasi-1 2026-11-27T05:00:00Z\n"
    )
    assert record.unreadable == ["Pull-Request", "Disposition", "Applied"]
    assert (record.pull_request, record.approvals, record.applied_at, record.merged_at) == (None, [], None, "2026-11-27T05:00:00Z")
    with pytest.raises(ValueError, match="not a valid trailer"):
        disposition.Disposition(applied_at="2026-02-30T00:00:00Z").trailers()


MARKER = "<!-- bandwidth-availability -->"


def availability(body_line: str, login: str = "github-actions[bot]", **times: str) -> dict:
    """A comment of the availability form: the marker, the line `bandwidth check` wrote, then the form."""
    return {"user": {"login": login}, "body": f"{MARKER}\n{body_line}\n\n### Form Laporan Pengecekan Kesediaan Bandwidth\n", **times}


def note_of(repo: Repo, commit: str) -> str:
    return subprocess.run(["git", "notes", "--ref=bandwidth", "show", commit], cwd=repo.path, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def stepped(repo: Repo, httpserver):
    """PR #21, which the intake workflow opened from issue #20, and PR #23, a person's, on a branch named like the intake's."""
    h = History(repo)
    repo.write(".github/disposition.yml", CHAIN)
    repo.write("README.md", "uji\n")
    h.commit("Awal", date="2026-11-25T09:00:00+08:00")
    heads, merges = {}, {}
    for number in (21, 23):
        h.git("checkout", "-q", "-b", f"pr-{number}")
        repo.request(f"BW-2026-00{number}", "gw-a", subnets=f"[198.18.{number - 20}.0/24]")
        heads[number] = h.commit(f"Permohonan BW-2026-00{number}", date=f"2026-11-26T0{number - 20}:00:00+08:00")
        h.git("checkout", "-q", "main")
        base = h.git("rev-parse", "HEAD")
        merges[number] = h.merge(f"pr-{number}", f"Merge pull request #{number} from pemprov-kaltim/permohonan/issue-20", "2026-11-26T14:00:00+08:00")
        if number == 21:
            # The form is on page 2; the last comment with the marker is a requester's forgery, which does not count.
            forged = availability(f"<!-- bandwidth-checked-at: 2026-11-20T00:00:00Z commit: {heads[21]} -->", login="budi-santoso", updated_at="2026-11-29T00:00:00Z")
            listing = f"/repos/{GH_REPO}/issues/21/comments"
            link = {"Link": f'<{httpserver.url_for(listing)}?per_page=100&page=2>; rel="next"'}
            comments = [{"user": {"login": "tu-1"}, "body": "Mohon segera", "created_at": "2026-11-26T00:40:00Z"}]
            httpserver.expect_request(listing, query_string={"per_page": "100", "page": "2"}).respond_with_json([
                availability(f"<!-- bandwidth-checked-at: 2026-11-26T01:03:00Z commit: {heads[21]} -->", created_at="2026-11-26T00:33:00Z", updated_at="2026-11-26T01:03:20Z"),
                forged,
            ])  # fmt: skip
            httpserver.expect_request(listing, query_string={"per_page": "100"}).respond_with_json(comments, headers=link)
            httpserver.expect_request(f"/repos/{GH_REPO}/issues/20").respond_with_json({"number": 20, "created_at": "2026-11-25T23:58:00Z", "user": {"login": "budi-santoso"}})
            serve_pull(httpserver, 21, merges[21], heads[21], base, "github-actions[bot]", "2026-11-26", branch="permohonan/issue-20")
        else:
            comments = [
                availability(f"<!-- bandwidth-checked-at: 2026-11-26T01:10:00Z commit: {heads[23]} -->", created_at="2026-11-26T01:10:10Z"),
                availability(f"<!-- bandwidth-checked-at: 2026-11-26 02:10 commit: {heads[23]} -->", created_at="2026-11-26T02:10:10Z"),  # malformed: no Checked-At
            ]
            serve_pull(httpserver, 23, merges[23], heads[23], base, "siti-rahma", "2026-11-26", branch="permohonan/issue-20", comments=comments)
        done = bandwidth(repo, httpserver, "record", "--github-repo", GH_REPO, "--commit", merges[number])
        assert done.returncode == 0, done.stdout + done.stderr
        if number == 23:
            assert "no Checked-At: the checked-at line of the availability form of PR #23 is malformed" in done.stderr
    return repo, heads, merges


def test_a_give_back_cites_the_letter_of_its_form_which_the_record_keeps(repo: Repo, httpserver):
    """The removed file keeps no letter: `bandwidth record` takes it from the intake issue the bot's pull request came from."""
    h = History(repo)
    repo.write(".github/disposition.yml", CHAIN)
    repo.write(".github/ISSUE_TEMPLATE/permohonan-bandwidth.yml", (ROOT / ".github/ISSUE_TEMPLATE/permohonan-bandwidth.yml").read_text())
    repo.request("BW-2026-0001", "gw-a")
    h.commit("Awal", date="2026-12-01T09:00:00+08:00")
    h.git("checkout", "-q", "-b", "pr-31")
    h.git("rm", "-q", "allocations/gw-a/BW-2026-0001.yaml")
    head = h.commit("Pengembalian bandwidth BW-2026-0001 (issue #30)", date="2026-12-05T09:00:00+08:00")
    h.git("checkout", "-q", "main")
    base = h.git("rev-parse", "HEAD")
    merge = h.merge("pr-31", "Merge pull request #31 from pemprov-kaltim/permohonan/issue-30", "2026-12-05T14:00:00+08:00")
    form = "### ID alokasi\n\nBW-2026-0001\n\n### Nomor Surat Permohonan\n\n523/0303/DKP-XII/2026\n\n### Tanggal Surat Permohonan\n\n2026-12-05\n\n"
    httpserver.expect_request(f"/repos/{GH_REPO}/issues/30").respond_with_json({"number": 30, "created_at": "2026-12-05T01:00:00Z", "body": form})
    serve_pull(httpserver, 31, merge, head, base, "github-actions[bot]", "2026-12-05", branch="permohonan/issue-30")
    record(repo, httpserver, merge)
    assert "Bandwidth-Letter: 2026-12-05 523/0303/DKP-XII/2026\n" in note_of(repo, merge)
    done = audit(repo, "BW-2026-0001")
    removal = done.stdout.split("removed", 1)[1]
    assert "    letter 523/0303/DKP-XII/2026 of 2026-12-05, requester Penguji\n" in removal
    assert "    letter 001/UJI/2026 of 2026-11-01" in done.stdout.split("removed", 1)[0]  # the creation cites its own


def test_record_writes_when_each_step_happened(stepped):
    repo, heads, merges = stepped
    note = note_of(repo, merges[21])
    assert "Bandwidth-Requested-At: 2026-11-25T23:58:00Z\n" in note  # the intake issue #20 opened
    assert "Bandwidth-Opened-At: 2026-11-26T00:30:00Z\n" in note
    assert "Bandwidth-Checked-At: 2026-11-26T01:03:00Z\n" in note  # the bot's comment on page 2, not the forgery after it
    assert "Bandwidth-Availability-At: 2026-11-26T01:03:20Z\n" in note
    assert f"Bandwidth-Approved-Commit: {heads[21]}\n" in note

    note = note_of(repo, merges[23])
    assert "Requested-At" not in note  # a person's pull request: the branch name proves nothing
    assert "Bandwidth-Opened-At: 2026-11-26T00:30:00Z\n" in note
    assert "Checked-At" not in note  # the last form's checked-at line is malformed
    assert "Bandwidth-Availability-At: 2026-11-26T02:10:10Z\n" in note  # no updated_at: when it was posted

    events = {e["id"]: e["disposition"] for e in json.loads(audit(repo, "--format=json").stdout)["events"]}
    assert {k: events["BW-2026-0021"][k] for k in ("requested_at", "opened_at", "checked_at", "availability_at")} == {
        "requested_at": "2026-11-25T23:58:00Z", "opened_at": "2026-11-26T00:30:00Z", "checked_at": "2026-11-26T01:03:00Z", "availability_at": "2026-11-26T01:03:20Z",
    }  # fmt: skip
    assert events["BW-2026-0023"]["requested_at"] is None and events["BW-2026-0023"]["checked_at"] is None


def test_record_leaves_out_what_github_cannot_say(repo: Repo, httpserver):
    """A form for another commit than the approved head, and an issue GitHub does not answer for: the disposition is recorded all the same."""
    h = History(repo)
    repo.write(".github/disposition.yml", CHAIN)
    h.commit("Awal")
    h.git("checkout", "-q", "-b", "pr-31")
    repo.request("BW-2026-0031", "gw-a")
    head = h.commit("Permohonan")
    h.git("checkout", "-q", "main")
    base = h.git("rev-parse", "HEAD")
    merge = h.merge("pr-31", "Merge pull request #31 from pemprov-kaltim/permohonan/issue-30", "2026-11-26T14:00:00+08:00")
    comments = [availability(f"<!-- bandwidth-checked-at: 2026-11-26T01:03:00Z commit: {'e' * 40} -->", created_at="2026-11-26T01:03:20Z")]
    serve_pull(httpserver, 31, merge, head, base, "github-actions[bot]", "2026-11-26", branch="permohonan/issue-30", comments=comments)
    done = bandwidth(repo, httpserver, "record", "--github-repo", GH_REPO, "--commit", merge)  # nothing answers for issue #30
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bandwidth: warning: no Requested-At, no Letter: GET " in done.stderr and "HTTP 500" in done.stderr
    assert f"not the approved head {head[:12]}" in done.stderr
    note = note_of(repo, merge)
    assert "Requested-At" not in note and "Checked-At" not in note
    assert "Bandwidth-Availability-At: 2026-11-26T01:03:20Z\n" in note and "Bandwidth-Disposition: kasi_infrastruktur kasi-1 " in note


def test_the_report_timeline_has_a_time_for_each_sop_step(stepped):
    repo, _heads, _merges = stepped
    difference = {"device": "eth1", "allocation": "BW-2026-0021", "difference": "class add dev eth1 parent 1:1 classid 1:15 htb rate 10Mbit ceil 20Mbit prio 3"}
    applied = {"gateway": "gw-a", "applied": True, "reason": None, "changed": True, "time": "2026-11-26T06:05:00Z", "differences": [difference]}
    report = completion_report(repo, applied)
    allocation = next(a for a in report["allocations"] if a["id"] == "BW-2026-0021")
    assert [row.moment is not None for row in report_text.step_times(report, allocation)] == [True] * 9 + [False]  # step 10: not yet copied
    letter = docx.Document(str(repo.path / "out/latest/Laporan_Penyelesaian_Tugas_BW-2026-0021.docx")).tables[-1]
    assert [letter.cell(i, 3).text.split("\n")[-1] for i in (2, 3, 4)] == ["oleh tu-1", "oleh admin-1", "oleh kasi-1"]
    assert letter.cell(10, 3).text == "-"
    timeline = {a["id"]: copy.deepcopy(a["timeline"]) for a in report["allocations"]}
    verified = timeline["BW-2026-0021"].pop("verified")
    assert timeline["BW-2026-0021"] == {
        "requested": "2026-11-25T23:58:00Z",  # the intake issue, not the file's commit
        "committed": "2026-11-26T01:00:00+08:00",
        "opened": "2026-11-26T00:30:00Z",
        "dispositions": [
            {"role": "kasubag_tu", "login": "tu-1", "time": "2026-11-26T01:00:00Z"},
            {"role": "administrator_tik", "login": "admin-1", "time": "2026-11-26T02:00:00Z"},
            {"role": "kasi_infrastruktur", "login": "kasi-1", "time": "2026-11-26T03:00:00Z"},
        ],
        "approved": "2026-11-26T03:00:00Z",
        "head_committed": "2026-11-26T01:00:00+08:00",
        "checked": "2026-11-26T01:03:00Z",
        "availability_reported": "2026-11-26T01:03:20Z",
        "merged": "2026-11-26T14:00:00+08:00",
        "applied": "2026-11-26T06:05:00Z",
        "pull_request": 21,
        "copied": None,
    }
    assert verified >= "2026-11-26"
    # A person's pull request: step 1 is the request file's own first commit.
    assert timeline["BW-2026-0023"]["requested"] == timeline["BW-2026-0023"]["committed"] == "2026-11-26T03:00:00+08:00"
    assert (timeline["BW-2026-0023"]["checked"], timeline["BW-2026-0023"]["applied"], timeline["BW-2026-0023"]["pull_request"]) == (None, None, 23)

    # The apply workflow comments the report on PR #21, then renders it again with the time of the comment: all ten steps.
    done = bandwidth(repo, None, "report", "--from", "out/latest", "--copied-at", "2026-11-26T06:20:00Z", "--pull-request", "21")
    assert done.returncode == 0 and "set on 1 allocation(s) of PR #21 (BW-2026-0021)" in done.stdout, done.stdout + done.stderr
    report = json.loads((repo.path / "out/latest/report.json").read_text())
    allocation = next(a for a in report["allocations"] if a["id"] == "BW-2026-0021")
    assert all(row.moment is not None for row in report_text.step_times(report, allocation))
    letter = docx.Document(str(repo.path / "out/latest/Laporan_Penyelesaian_Tugas_BW-2026-0021.docx")).tables[-1]
    assert all(letter.cell(i, 3).text != "-" for i in range(1, 11))


def test_dispositions_follow_the_chain_with_the_roles_not_approved_in_their_place():
    from bandwidth.history import disposition
    from bandwidth.reports import completion

    record = disposition.parse(
        "Bandwidth-Pull-Request: 5\n"
        "Bandwidth-Disposition: kasubag_tu tu-1 2026-11-26T01:00:00Z\n"
        "Bandwidth-Disposition: kasi_infrastruktur kasi-1 2026-11-26T03:00:00Z\n"
        "Bandwidth-Disposition-Missing: administrator_tik no approval yet\n"
        "Bandwidth-Disposition-Missing: changes-requested changes requested by kasi-1\n"
    )
    chain = ["kasubag_tu", "administrator_tik", "kasi_infrastruktur"]
    assert [(d["role"], d["login"]) for d in completion._dispositions(record, chain)] == [("kasubag_tu", "tu-1"), ("administrator_tik", None), ("kasi_infrastruktur", "kasi-1")]
    # Without a readable chain: the order recorded, approvals first.
    assert [d["role"] for d in completion._dispositions(record, [])] == ["kasubag_tu", "kasi_infrastruktur", "administrator_tik"]
    assert completion._dispositions(None, chain) == []
