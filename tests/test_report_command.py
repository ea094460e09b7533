"""`bandwidth report` on a crafted .plans folder, without a lab: what it says of a gateway the apply did not configure.

The plans come from the real `bandwidth render`; the apply records are written here as playbooks/apply.yml writes them
(.plans/<gateway>.applied.json), one gateway configured and one not. Measuring needs the lab: the one test that needs
measured values calls completion.build in the process, with the lab's measurement replaced.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import docx
import jsonschema
import pytest

from bandwidth.history import signature
from conftest import ROOT, Repo

SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
TIME = "2026-12-01T06:00:00+00:00"
# An apply error may carry anything: markup, a mention, a link, newlines, a terminal escape.
REASON = "unreachable: Failed to connect to the host via ssh: <script>alert(1)</script> **x** @octocat [a](http://evil)\r\nssh: \x1b[31mkex_exchange_identification"


def record(gateway: str, applied: bool | None = True, reason: str | None = None, differences: list[dict] | None = None, **extra) -> dict:
    doc = {"gateway": gateway, "applied": applied, "reason": reason, "changed": bool(differences) and applied is not False, "time": TIME, "differences": differences or []}
    if applied is None:  # a record from before `applied` and `reason` existed
        del doc["applied"], doc["reason"]
    return {**doc, **extra}


def difference(allocation: str) -> dict:
    return {"device": "eth1", "allocation": allocation, "difference": f"class add dev eth1 parent 1:1 classid 1:10 htb rate 10Mbit ceil 20Mbit prio 3 ({allocation})"}


@pytest.fixture
def planned(repo: Repo) -> Repo:
    """Two allocations on gw-a, one on gw-b, committed; .plans/ rendered by `bandwidth render`."""
    repo.request("BW-2026-0001", "gw-a")
    repo.request("BW-2026-0002", "gw-a", subnets="[198.18.2.0/24]")
    repo.request("BW-2026-0003", "gw-b", subnets="[198.18.17.0/24]")
    repo.git("init", "-q", "-b", "main")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "Tambah alokasi")
    done = repo.run("render", "--output-dir", ".plans")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (repo.path / ".plans").iterdir()) == ["gw-a.json", "gw-b.json"]
    return repo


def write_records(repo: Repo, **records: dict | str) -> None:
    for gateway, content in records.items():
        text = content if isinstance(content, str) else json.dumps(content) + "\n"
        (repo.path / ".plans" / f"{gateway.replace('_', '-')}.applied.json").write_text(text, encoding="utf-8")


def report(repo: Repo):
    """Run `bandwidth report` without measuring; the process and the files of reports/latest."""
    done = repo.run("report", "--plans", ".plans", "--measure", "none", "--reports", "out")
    latest = repo.path / "out" / "latest"
    files = {p.name: p for p in latest.iterdir()} if latest.exists() else {}
    data = json.loads(files["report.json"].read_text(encoding="utf-8")) if "report.json" in files else None
    return done, data, files


def valid(data: dict) -> dict:
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(data)
    return data


def docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_a_gateway_not_applied_is_reported_with_its_reason(planned: Repo):
    write_records(planned, gw_a=record("gw-a", differences=[difference("BW-2026-0001")]), gw_b=record("gw-b", applied=False, reason=REASON))
    done, data, files = report(planned)
    assert data is not None, done.stdout + done.stderr
    valid(data)
    gateways = {g["name"]: g for g in data["gateways"]}
    assert gateways["gw-b"]["applied"] is False and gateways["gw-b"]["reason"] == REASON
    assert gateways["gw-b"]["changed"] is False and gateways["gw-b"]["commands"] == []
    assert gateways["gw-a"]["applied"] is True and gateways["gw-a"]["reason"] is None and gateways["gw-a"]["changed"] is True
    allocations = {a["id"]: a for a in data["allocations"]}
    assert allocations["BW-2026-0003"]["verdict"] == "not_applied" and allocations["BW-2026-0003"]["timeline"]["applied"] is None
    # gw-a's allocations are as they would be without gw-b: not measured (no lab), BW-2026-0001 changed at the record's time.
    assert [allocations[i]["verdict"] for i in ("BW-2026-0001", "BW-2026-0002")] == ["not_measured", "not_measured"]
    assert allocations["BW-2026-0001"]["changed"] is True and allocations["BW-2026-0001"]["timeline"]["applied"] == TIME
    assert allocations["BW-2026-0002"]["changed"] is False

    # The run fails naming the gateway; stdout names it with the reason on one line, control characters visible.
    assert done.returncode == 1
    assert done.stderr == "bandwidth: verification failed: 1 gateway(s) not applied (gw-b), 0 drift(s), 0 failed measurement(s)\n"
    line = next(x for x in done.stdout.splitlines() if x.startswith("NOT APPLIED"))
    assert line == ("NOT APPLIED gw-b: unreachable: Failed to connect to the host via ssh: <script>alert(1)</script> **x** @octocat [a](http://evil) ssh: \\u001b[31mkex_exchange_identification")
    assert "\x1b" not in done.stdout and "BW-2026-0003 gw-b/isp-a (ipv4): download max 20 wire None goodput None, upload max 10 wire None goodput None: not_applied" in done.stdout

    markdown = files["report.md"].read_text(encoding="utf-8")
    assert "**Hasil: konfigurasi belum diterapkan pada gateway gw-b (1 alokasi).** (0 lulus, 0 gagal, 2 tidak diukur, 1 belum diterapkan; 0 drift)" in markdown
    assert "Gateway: gw-a diubah (1 perintah tc), gw-b belum diterapkan." in markdown
    assert "- gw-b: unreachable&#58; Failed to connect to the host via ssh&#58; &lt;script&gt;alert(1)&lt;/script&gt; \\*\\*x\\*\\* &#64;octocat \\[a\\](http&#58;//evil) ssh&#58;" in markdown
    assert re.search(r"^\| BW-2026-0003 \| .* \| \*\*Belum diterapkan\*\* \|$", markdown, re.M)
    assert "<script" not in markdown and "**x**" not in markdown and "@octocat" not in markdown and "\x1b" not in markdown

    html = files["report.html"].read_text(encoding="utf-8")
    assert "<h2>Konfigurasi belum diterapkan</h2>" in html and '<td class="v-not_applied">Belum diterapkan</td>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; **x** @octocat [a](http&#58;//evil)\nssh&#58; \\u001b[31mkex_exchange_identification</pre>" in html
    assert "<script" not in html and "http://" not in html and "\x1b" not in html

    # A letter for BW-2026-0001 only: BW-2026-0003 was not changed by this run (its gateway was not reached).
    assert sorted(n for n in files if n.endswith(".docx")) == ["Laporan_Penyelesaian_Tugas_BW-2026-0001.docx"]
    assert "Belum diterapkan" not in docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0001.docx"])


def test_the_letter_of_a_change_that_was_rolled_back(planned: Repo):
    """A failed apply that records what it tried: the requester's letter says that the configuration was not applied, and why."""
    write_records(planned, gw_a=record("gw-a"), gw_b=record("gw-b", applied=False, reason=f"tc: {REASON}", differences=[difference("BW-2026-0003")]))
    _done, data, files = report(planned)
    assert valid(data)["allocations"][2]["verdict"] == "not_applied"
    letter = docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0003.docx"])
    assert "pada gateway gw-b belum berhasil diterapkan" in letter and "telah dikonfigurasi" not in letter
    reason = "tc: unreachable: Failed to connect to the host via ssh: <script>alert(1)</script> **x** @octocat [a](http://evil) ssh: [31mkex_exchange_identification"
    assert f"Hasil: Belum diterapkan. Konfigurasi pada gateway gw-b gagal diterapkan; penyebab: {reason}." in letter
    assert "\x1b" not in letter


def test_older_records_are_applied_and_no_record_is_unknown(planned: Repo):
    write_records(planned, gw_a=record("gw-a", applied=None, differences=[difference("BW-2026-0002")]))
    done, data, files = report(planned)
    assert data is not None, done.stdout + done.stderr
    gateways = {g["name"]: g for g in valid(data)["gateways"]}
    assert (gateways["gw-a"]["applied"], gateways["gw-a"]["reason"]) == (True, None)
    assert (gateways["gw-b"]["applied"], gateways["gw-b"]["reason"]) == (None, None)
    assert {a["verdict"] for a in data["allocations"]} == {"not_measured"}
    assert "NOT APPLIED" not in done.stdout and done.returncode == 0 and done.stderr == ""
    assert "Gateway: gw-a diubah (1 perintah tc), gw-b tidak ada catatan penerapan." in files["report.md"].read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "apply record gw-b.applied.json unreadable: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("[]\n", "apply record gw-b.applied.json is not a JSON object"),
        (json.dumps(record("gw-b", applied="yes")), 'apply record gw-b.applied.json: applied is "yes", not true or false'),
        (json.dumps(record("gw-b", applied=False, reason={"msg": "tc failed"})), '{"msg": "tc failed"}'),
        ('{"gateway": "gw-b", "applied": false, "reason": "bad \\ud800 surrogate", "differences": []}', "bad \\ud800 surrogate"),
        (json.dumps(record("gw-b", applied=False, reason="x" * 5000)), "x" * 1999 + "…"),
        (json.dumps(record("gw-b", applied=False)), None),
    ],
    ids=["not-json", "not-an-object", "applied-not-boolean", "reason-not-text", "lone-surrogate", "long-reason", "no-reason"],
)
def test_an_odd_record_never_counts_as_applied(planned: Repo, content: str, reason: str | None):
    write_records(planned, gw_a=record("gw-a"), gw_b=content)
    done, data, _files = report(planned)
    assert data is not None, done.stdout + done.stderr
    gateway = next(g for g in valid(data)["gateways"] if g["name"] == "gw-b")
    assert gateway["applied"] is False and gateway["reason"] == reason
    assert next(a for a in data["allocations"] if a["gateway"] == "gw-b")["verdict"] == "not_applied"
    assert done.returncode == 1 and "not applied (gw-b)" in done.stderr


def test_a_later_run_converges(planned: Repo):
    write_records(planned, gw_a=record("gw-a", differences=[difference("BW-2026-0001")]), gw_b=record("gw-b", applied=False, reason="unreachable"))
    assert report(planned)[0].returncode == 1
    write_records(planned, gw_b=record("gw-b", differences=[difference("BW-2026-0003")]))  # the next apply reached gw-b
    done, data, files = report(planned)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert [(g["name"], g["applied"], g["reason"]) for g in valid(data)["gateways"]] == [("gw-a", True, None), ("gw-b", True, None)]
    assert {a["id"]: a["verdict"] for a in data["allocations"]}["BW-2026-0003"] == "not_measured"
    assert "belum diterapkan" not in files["report.md"].read_text(encoding="utf-8").lower()
    assert "Konfigurasi Belum Diterapkan" not in docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0003.docx"])


def test_measured_allocations_on_a_gateway_not_applied_never_pass(planned: Repo, tmp_path: Path, monkeypatch):
    """In the lab the classes of an earlier apply may still shape well: the verdict is not_applied all the same."""
    from bandwidth.allocations.checker import CheckOptions, run_check
    from bandwidth.reports import completion, measure

    write_records(planned, gw_a=record("gw-a"), gw_b=record("gw-b", applied=False, reason="unreachable"))
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "lab.json").write_text(json.dumps({"clients": [{"id": f"BW-2026-000{i}"} for i in (1, 2, 3)]}))
    at_max = {"download": 20.0, "upload": 10.0}  # every request of the fixture: max 20 down, 10 up
    monkeypatch.setattr(measure, "measure", lambda options: {"alone": dict.fromkeys(options.ids, at_max), "contention": dict.fromkeys(options.ids, at_max)})
    options = completion.ReportOptions(repo=planned.path, inventory="inventory/production", plans=planned.path / ".plans", readback=None, reports=tmp_path / "out", lab_dir=lab, measure="all")
    result = run_check(CheckOptions(root=planned.path, inventory="inventory/production"))
    built = completion.build(options, result)
    verdicts = {a["id"]: a["verdict"] for a in valid(built)["allocations"]}
    assert verdicts == {"BW-2026-0001": "pass", "BW-2026-0002": "pass", "BW-2026-0003": "not_applied"}
    assert built["allocations"][2]["download"]["measured_mbps"] == 20.0  # what was measured is kept
    markdown = (completion.write(built, options.reports) / "report.md").read_text(encoding="utf-8")
    assert "**Hasil: konfigurasi belum diterapkan pada gateway gw-b (1 alokasi).** (2 lulus, 0 gagal, 0 tidak diukur, 1 belum diterapkan; 0 drift)" in markdown


def result_line(markdown: Path) -> str:
    """The one line that says how the run went (**Hasil: ...**)."""
    return next(line for line in markdown.read_text(encoding="utf-8").splitlines() if line.startswith("**Hasil:"))


def lab_without_clients(repo: Repo, skipped: list[dict]) -> Path:
    """A lab description that has no client for the allocations: nothing can be measured."""
    lab_dir = repo.path / "lab"
    lab_dir.mkdir(exist_ok=True)
    (lab_dir / "lab.json").write_text(json.dumps({"format": 1, "state": "up", "gateways": [], "clients": [], "skipped": skipped}))
    return lab_dir


def test_an_allocation_asked_to_be_measured_and_not_measurable_fails_the_run(planned: Repo):
    write_records(planned, gw_a=record("gw-a"), gw_b=record("gw-b"))
    lab_without_clients(planned, [{"id": "BW-2026-0002", "reason": "subnet 198.18.2.0/24 is outside the lab"}])
    done = planned.run("report", "--plans", ".plans", "--measure", "all", "--reports", "out", "--lab-dir", "lab")
    assert done.returncode == 1, done.stdout + done.stderr
    data = valid(json.loads((planned.path / "out/latest/report.json").read_text()))
    allocations = {a["id"]: a for a in data["allocations"]}
    assert allocations["BW-2026-0002"]["verdict"] == "fail"
    assert allocations["BW-2026-0002"]["not_measured_reason"] == "tidak ada klien lab: subnet 198.18.2.0/24 is outside the lab"
    assert allocations["BW-2026-0001"]["not_measured_reason"] == "tidak ada klien lab: tidak ada di lab"
    assert "semua" not in result_line(planned.path / "out/latest/report.md")


def test_allocations_not_asked_for_are_not_measured_with_the_reason_and_never_all_passed(planned: Repo):
    write_records(planned, gw_a=record("gw-a"), gw_b=record("gw-b"))
    lab_without_clients(planned, [])
    done = planned.run("report", "--plans", ".plans", "--measure", "changed", "--reports", "out", "--lab-dir", "lab")
    assert done.returncode == 0, done.stdout + done.stderr  # the operator chose: nothing changed, nothing to measure
    data = valid(json.loads((planned.path / "out/latest/report.json").read_text()))
    assert {(a["verdict"], a["not_measured_reason"]) for a in data["allocations"]} == {("not_measured", "tidak diminta (bandwidth_verify_measure=changed)")}
    assert "semua" not in result_line(planned.path / "out/latest/report.md")


def test_production_reports_read_back_only_and_families(planned: Repo):
    planned.request("BW-2026-0004", "gw-a", subnets="[198.18.4.0/24, 2001:db8:a:4::/64]")
    planned.run("render", "--output-dir", ".plans")
    write_records(planned, gw_a=record("gw-a"), gw_b=record("gw-b"))
    done, data, _files = report(planned)
    assert done.returncode == 0, done.stdout + done.stderr
    allocations = {a["id"]: a for a in valid(data)["allocations"]}
    assert allocations["BW-2026-0004"]["families"] == ["ipv4", "ipv6"] and allocations["BW-2026-0001"]["families"] == ["ipv4"]
    assert allocations["BW-2026-0004"]["not_measured_reason"] == "tidak diminta (bandwidth_verify_measure=none)"
    assert allocations["BW-2026-0004"]["download"]["wire_mbps"] is None and allocations["BW-2026-0004"]["download"]["by_family"] == {}
    done = planned.run("report", "--plans", ".plans", "--reports", "out2")  # no lab: production
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((planned.path / "out2/latest/report.json").read_text())
    assert {a["not_measured_reason"] for a in data["allocations"]} == {"produksi: hanya pembacaan ulang, tanpa pengukuran"}


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    """reports/<time>/ with every file of a report whose allocations came by PR #42 (BW-2026-0001, BW-2026-0002) and #43, and
    reports/latest pointing at it; no git anywhere."""
    from bandwidth.reports import report_files
    from conftest import FULL_TIMELINE, sample

    data = sample()
    for allocation, number in zip(data["allocations"], (42, 42, 43, None), strict=True):
        allocation["timeline"] = {**FULL_TIMELINE, "pull_request": number, "copied": None}
    folder = tmp_path / "reports" / "20261128T010500Z"
    report_files.write_all(data, folder)
    (tmp_path / "reports" / "latest").symlink_to(folder.name)
    return folder


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_report_from_a_folder_sets_copied_on_the_allocations_of_the_pull_request(rendered: Path):
    before = files_of(rendered)
    done = Repo(rendered.parent.parent).run("report", "--from", "reports/latest", "--copied-at", "2026-11-28T01:07:00Z", "--pull-request", "42")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "report reports/latest: copied 2026-11-28T01:07:00Z set on 2 allocation(s) of PR #42 (BW-2026-0001 BW-2026-0002); files written again\n"
    after = files_of(rendered)
    assert sorted(after) == sorted(before)  # the same files, in the folder reports/latest points at
    data = valid(json.loads(after["report.json"]))
    assert [a["timeline"]["copied"] for a in data["allocations"]] == ["2026-11-28T01:07:00Z", "2026-11-28T01:07:00Z", None, None]
    old = json.loads(before["report.json"])
    for allocation in old["allocations"][:2]:
        allocation["timeline"]["copied"] = "2026-11-28T01:07:00Z"
    assert data == old  # nothing else changed
    steps = docx.Document(str(rendered / "Laporan_Penyelesaian_Tugas_BW-2026-0001.docx")).tables[-1]
    assert steps.cell(10, 3).text == "28 November 2026 pukul 09.07 WITA\n(durasi 2 menit)"  # the report finished 09.05
    steps = docx.Document(str(rendered / "Laporan_Penyelesaian_Tugas_BW-2026-0003.docx")).tables[-1]
    assert steps.cell(10, 3).text == "-"  # PR #43's report is not on its pull request yet


def test_report_from_a_folder_without_the_pull_request_changes_nothing(rendered: Path):
    before = {p.name: p.stat().st_mtime_ns for p in rendered.iterdir()}
    done = Repo(rendered.parent.parent).run("report", "--from", "reports/latest", "--copied-at", "2026-11-28T01:07:00Z", "--pull-request", "7")
    assert (done.returncode, done.stdout) == (0, "report reports/latest: no allocation of PR #7: nothing updated\n")
    assert {p.name: p.stat().st_mtime_ns for p in rendered.iterdir()} == before


@pytest.mark.parametrize(
    ("arguments", "content", "message"),
    [
        (("--from", "nowhere"), None, "nowhere/report.json: no such file"),
        ((), "{not json", "reports/latest/report.json: not a JSON report: "),
        ((), b"\xff\xfe", "reports/latest/report.json: not a JSON report: "),
        ((), "[]", "reports/latest/report.json: report does not match schemas/report.schema.json: (top level): [] is not of type"),
        ((), '{"commit": "x"}', "reports/latest/report.json: report does not match schemas/report.schema.json: "),
        (("--copied-at", "yesterday"), None, "--copied-at 'yesterday': expected an ISO 8601 time"),
        (("--copied-at", "2026-02-30T01:00:00Z"), None, "--copied-at '2026-02-30T01:00:00Z': expected an ISO 8601 time"),
        (("--pull-request", "0"), None, "--pull-request 0: expected a pull request number"),
        (("--pull-request", None), None, "--from, --copied-at and --pull-request go together"),
        (("--from", None), None, "--from, --copied-at and --pull-request go together"),
    ],
    ids=["no-folder", "not-json", "not-utf8", "not-an-object", "not-a-report", "time-not-iso", "time-off-calendar", "pull-request-0", "no-pull-request", "no-from"],
)
def test_report_from_a_folder_refuses_bad_input_with_a_clear_error(rendered: Path, arguments: tuple, content, message: str):
    options = {"--from": "reports/latest", "--copied-at": "2026-11-28T01:07:00Z", "--pull-request": "42"}
    options.update(zip(arguments[::2], arguments[1::2], strict=True))
    if content is not None:
        (rendered / "report.json").write_bytes(content.encode() if isinstance(content, str) else content)
    before = files_of(rendered)
    done = Repo(rendered.parent.parent).run("report", *[x for key, value in options.items() if value is not None for x in (key, value)])
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(f"bandwidth: error: {message}"), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert files_of(rendered) == before


@pytest.mark.parametrize("command", ["report", "measure"])
@pytest.mark.parametrize(("seconds", "message"), [("1", "--seconds: 1: at least 2"), ("0", "--seconds: 0: at least 2"), ("two", "--seconds: not a whole number of seconds: 'two'")])
def test_a_measurement_too_short_to_judge_is_refused(repo: Repo, command: str, seconds: str, message: str):
    """One second leaves half a second after iperf3's warm-up: too short to judge a rate within 3 %, so never run."""
    done = repo.run(command, f"--seconds={seconds}")
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_change_of_an_existing_allocation_is_reported_and_lettered_as_a_change(planned: Repo):
    """Perubahan / Perpanjangan: the report and the letter say what changed, before and after, not a new allocation."""
    planned.request("BW-2026-0001", "gw-a", download="{guaranteed_mbps: 10, max_mbps: 30}", end="2027-06-30", letter="{number: 002/UJI/2026, date: 2026-11-25}")
    planned.git("commit", "-qam", "Perubahan bandwidth BW-2026-0001")
    assert planned.run("render", "--output-dir", ".plans").returncode == 0
    write_records(planned, gw_a=record("gw-a", differences=[difference("BW-2026-0001"), difference("BW-2026-0002")]), gw_b=record("gw-b"))
    done, data, files = report(planned)
    assert "Traceback" not in done.stderr, done.stderr
    changed, new = (next(a for a in valid(data)["allocations"] if a["id"] == i) for i in ("BW-2026-0001", "BW-2026-0002"))
    assert changed["request"] == {
        "kind": "change",
        "changes": [{"field": "download.max_mbps", "old": 20, "new": 30}, {"field": "end", "old": None, "new": "2027-06-30"}],
    }
    assert new["request"] == {"kind": "new", "changes": []}
    markdown = files["report.md"].read_text(encoding="utf-8")
    assert "### Perubahan alokasi\n\n- BW-2026-0001 (Dinas Uji Coba Provinsi Kalimantan Timur): Unduh maksimum 20 Mbit/s → 30 Mbit/s; Tanggal berakhir tanpa batas → 30 Juni 2027\n" in markdown
    assert "BW-2026-0002 (" not in markdown.split("### Perubahan alokasi")[1].split("\n\n")[1]  # a new allocation is not a change
    html = files["report.html"].read_text(encoding="utf-8")
    assert "<h2>Perubahan alokasi</h2>" in html and "<td>Unduh maksimum</td><td>20 Mbit/s</td><td>30 Mbit/s</td>" in html
    letter = docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0001.docx"])
    assert "Laporan Penyelesaian Perubahan Alokasi Bandwidth" in letter
    assert "Nomor 002/UJI/2026 tanggal 25 November 2026 perihal permohonan perubahan alokasi bandwidth BW-2026-0001" in letter
    assert "Rincian\nSemula\nMenjadi\nUnduh maksimum\n20 Mbit/s\n30 Mbit/s\nTanggal berakhir\ntanpa batas\n30 Juni 2027" in letter
    assert "Rincian alokasi setelah perubahan:" in letter
    other = docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0002.docx"])
    assert "Laporan Penyelesaian Penyediaan Bandwidth" in other and "perubahan" not in other.lower().split("pelaksanaan menurut sop")[0]


@pytest.mark.parametrize(
    ("first_end", "end", "subject", "about"),
    [
        ("2026-12-31", "2027-06-30", "Laporan Penyelesaian Perpanjangan Alokasi Bandwidth", "perpanjangan"),
        ("2026-12-31", None, "Laporan Penyelesaian Perpanjangan Alokasi Bandwidth", "perpanjangan"),
        ("2027-06-30", "2026-12-31", "Laporan Penyelesaian Pengembalian Alokasi Bandwidth", "pengembalian"),
        (None, "2026-12-31", "Laporan Penyelesaian Pengembalian Alokasi Bandwidth", "pengembalian"),
    ],
    ids=["later-end", "no-end", "earlier-end", "an-end"],
)
def test_a_change_of_the_end_only_is_lettered_as_an_extension_or_a_give_back(planned: Repo, first_end, end, subject: str, about: str):
    """Perpanjangan / Pengembalian on a date: named by what changed, so a pull request written by hand reads the same."""
    planned.request("BW-2026-0001", "gw-a", drop=() if first_end else ("end",), **({"end": first_end} if first_end else {}))
    planned.git("commit", "-q", "--allow-empty", "-am", "Alokasi dengan tanggal berakhir")  # the base has none
    planned.request("BW-2026-0001", "gw-a", drop=() if end else ("end",), **({"end": end} if end else {}), letter="{number: 003/UJI/2026, date: 2026-11-26}")
    planned.git("commit", "-qam", "Perubahan tanggal berakhir BW-2026-0001")
    assert planned.run("render", "--output-dir", ".plans").returncode == 0
    write_records(planned, gw_a=record("gw-a"), gw_b=record("gw-b"))  # no class changed: the gateway already matched
    done, data, files = report(planned)
    assert "Traceback" not in done.stderr, done.stderr
    (changed,) = (a for a in valid(data)["allocations"] if a["id"] == "BW-2026-0001")
    assert changed["changed"] is True and changed["timeline"]["applied"] == TIME  # the merge applied is the one that changed it
    assert changed["request"]["changes"] == [{"field": "end", "old": first_end, "new": end}]
    letter = docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0001.docx"])
    assert letter.startswith(subject) or f"\n{subject}" in letter, letter[:400]
    assert f"perihal permohonan {about} alokasi bandwidth BW-2026-0001" in letter
    assert "Penyelesaian Perubahan" not in letter


def test_a_rerun_of_a_merge_applied_before_reports_no_change_again(planned: Repo, tmp_path: Path):
    """The daily or a re-run apply of the same main: the extension its signed record says was applied gets no second letter.
    A record nobody signed does not count: the change is reported (a forged note cannot hide a requester's letter)."""
    key = tmp_path / "workflow"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    kind, blob = (tmp_path / "workflow.pub").read_text().split()[:2]
    planned.write(signature.ALLOWED_SIGNERS, f'{signature.PRINCIPAL} namespaces="{signature.NAMESPACE}" {kind} {blob}\n')
    planned.request("BW-2026-0001", "gw-a", end="2027-06-30", letter="{number: 003/UJI/2026, date: 2026-11-26}")
    planned.git("add", "-A")
    planned.git("commit", "-qm", "Perpanjangan BW-2026-0001")
    head = planned.git("rev-parse", "HEAD").strip()
    assert planned.run("render", "--output-dir", ".plans").returncode == 0
    write_records(planned, gw_a=record("gw-a"), gw_b=record("gw-b"))
    applied = "Bandwidth-Applied: 2026-12-01T06:00:00Z success\n"
    planned.git("notes", "--ref=bandwidth", "add", "-m", applied, head)  # by hand: not signed
    _, data, files = report(planned)
    assert next(a for a in data["allocations"] if a["id"] == "BW-2026-0001")["changed"] is True and "Laporan_Penyelesaian_Tugas_BW-2026-0001.docx" in files
    planned.git("notes", "--ref=bandwidth", "add", "--force", "-m", signature.sign(key, head, applied), head)
    _, data, files = report(planned)
    assert next(a for a in data["allocations"] if a["id"] == "BW-2026-0001")["changed"] is False and not [name for name in files if name.endswith(".docx")]
    assert "### Perubahan alokasi" not in files["report.md"].read_text(encoding="utf-8")


def test_an_allocation_given_back_is_reported_as_removed_with_its_letter(planned: Repo):
    """Pengembalian, cabut sekarang: the file is gone, so the report takes what it was from git, and writes its letter."""
    (planned.path / "allocations/gw-a/BW-2026-0002.yaml").unlink()
    planned.git("commit", "-qam", "Pengembalian bandwidth BW-2026-0002")
    assert planned.run("render", "--output-dir", ".plans").returncode == 0
    write_records(planned, gw_a=record("gw-a", differences=[difference("BW-2026-0002")]), gw_b=record("gw-b"))
    done, data, files = report(planned)
    assert "Traceback" not in done.stderr, done.stderr
    assert [a["id"] for a in valid(data)["allocations"]] == ["BW-2026-0001", "BW-2026-0003"]
    (removed,) = data["removed"]
    assert removed["id"] == "BW-2026-0002" and removed["gateway"] == "gw-a" and removed["applied"] == TIME
    assert removed["download"] == {"guaranteed_mbps": 10.0, "max_mbps": 20.0} and removed["letter"]["number"] == "001/UJI/2026"
    said = "dicabut dari gw-a / isp-a pada 1 Desember 2026 pukul 14.00 WITA (unduh 10 / 20, unggah 5 / 10 Mbit/s)"
    markdown = files["report.md"].read_text(encoding="utf-8")
    assert f"### Alokasi dicabut\n\n- BW-2026-0002 (Dinas Uji Coba Provinsi Kalimantan Timur): {said}\n" in markdown
    assert "`Laporan_Penyelesaian_Tugas_BW-2026-0002.docx`" in markdown
    assert "<h2>Alokasi dicabut</h2>" in files["report.html"].read_text(encoding="utf-8")
    letter = docx_text(files["Laporan_Penyelesaian_Tugas_BW-2026-0002.docx"])
    assert (
        "Laporan Penyelesaian Pengembalian Alokasi Bandwidth" in letter
        and f"perihal pengembalian alokasi bandwidth BW-2026-0002, dengan hormat kami sampaikan bahwa alokasi tersebut {said}." in letter
    )
    assert "Tembusan: Penguji (Pengguna Bandwidth)" in letter
    # The next run (nothing removed by its commit) does not report it again.
    planned.git("commit", "-q", "--allow-empty", "-m", "Dokumentasi")
    _done, data, _files = report(planned)
    assert valid(data)["removed"] == []
