"""The Laporan Monitoring Bandwidth: `bandwidth monitor` on hand-written counters, and playbooks/monitor.yml on the lab."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import jsonschema
import pytest
import yaml

from bandwidth.shaping.tc import parse
from conftest import ANSIBLE_PLAYBOOK, CHAIN, ROOT, Repo, applied_lab, copy_repo, stop_process

ANSIBLE = str(Path(ANSIBLE_PLAYBOOK).with_name("ansible"))

SCHEMA = json.loads((ROOT / "schemas" / "monitoring.schema.json").read_text(encoding="utf-8"))
HOSTILE_AGENCY = "<script>alert(1)</script> | @everyone **x** [a](http://evil)"
MBIT = 1000  # kbit per Mbit


# --- the module's parser: the tc core's (roles/bandwidth/module_utils/bandwidth_tc_parse.py), also measure's -------------

# What iproute2 6.1 prints for HTB with -s -j: text, since its HTB printer ignores -j.
TC_TEXT = """\
class htb 1:1 root rate 1Gbit ceil 1Gbit burst 1375b cburst 1375b
 Sent 90 bytes 1 pkt (dropped 0, overlimits 0 requeues 0)
 backlog 0b 0p requeues 0
 lended: 0 borrowed: 0 giants: 0
 tokens: 175 ctokens: 175

class htb 1:4b51 parent 1:1 leaf 4b51: prio 2 rate 50Mbit ceil 100Mbit burst 1600b cburst 1600b
 Sent 123456789 bytes 81234 pkt (dropped 3, overlimits 4567 requeues 0)
 backlog 0b 0p requeues 0
"""
# What newer iproute2 prints: JSON, the counters beside the class's keys.
TC_JSON = (
    '[{"class":"htb","handle":"1:1","root":true,"rate":125000000,"bytes":90,"packets":1,"drops":0,"overlimits":0,"requeues":0},'
    '{"class":"htb","handle":"1:4b51","parent":"1:1","leaf":"4b51:","bytes":123456789,"packets":81234,"drops":3,"overlimits":4567,"requeues":0}]'
)


@pytest.mark.parametrize("output", [TC_TEXT, TC_JSON], ids=["text", "json"])
def test_module_reads_class_counters_as_text_and_as_json(output):
    parsed = parse.parse_counters(output)
    assert parsed == {
        "1:1": {"bytes": 90, "packets": 1, "drops": 0, "overlimits": 0},
        "1:4b51": {"bytes": 123456789, "packets": 81234, "drops": 3, "overlimits": 4567},
    }
    assert parse.parse_counters("") == {}


def _run_module(tmp_path: Path, **params) -> tuple[int, dict]:
    """The module as Ansible runs it (its module_utils bundled in), on this machine: (exit status, its result)."""
    argv = [ANSIBLE, "localhost", "-i", "localhost,", "-c", "local", "-o", "-m", "bandwidth_counters", "-a", json.dumps(params)]
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"), "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False, env=env)
    line = next((line for line in done.stdout.splitlines() if line.startswith("localhost | ")), None)
    assert line is not None, done.stdout + done.stderr
    status, _, result = line.removeprefix("localhost | ").partition(" => ")
    return done.returncode, {**json.loads(result), "failed": status == "FAILED!"}  # -o prints FAILED! instead of the key


def test_module_samples_on_a_monotonic_grid_and_names_a_missing_device(tmp_path: Path):
    code, result = _run_module(tmp_path, devices=["lo"], duration_seconds=2, step_seconds=1)
    assert code == 0 and result["changed"] is False
    assert [round(s["t"]) for s in result["samples"]] == [0, 1, 2] and all(s["devices"] == {"lo": {}} for s in result["samples"])
    code, result = _run_module(tmp_path, devices=["lo", "bwmon-nonexistent0"], duration_seconds=2, step_seconds=1)
    assert code != 0 and result["failed"] and "bwmon-nonexistent0" in result["msg"] and "missing" in result["msg"]
    code, result = _run_module(tmp_path, devices=["lo"], duration_seconds=1, step_seconds=2)
    assert code != 0 and "step_seconds <= duration_seconds" in result["msg"]


# --- `bandwidth monitor` on hand-written counters -----------------------------------------------------------------------


def _samples(plan: dict, bytes_at) -> list[dict]:
    """Seven samples one second apart; bytes_at(device, classid, t) gives each class's byte counter (None: absent)."""
    samples = []
    for t in range(7):
        devices = {}
        for device in plan["devices"]:
            classids = ["1:1", "1:2"] + [f"1:{c['minor']:x}" for c in device["classes"]]
            classes = {}
            for classid in classids:
                value = bytes_at(device, classid, t)
                if value is not None:
                    classes[classid] = {"bytes": value, "packets": value // 1000, "drops": 0, "overlimits": value // 100000}
            devices[device["device"]] = classes
        samples.append({"t": t + 0.001 * t, "devices": devices})
    return samples


@pytest.fixture
def monitored(repo: Repo) -> Repo:
    """gw-a with a hostile agency at its ceiling (download) and a quiet one whose upload class is re-created; gw-b empty."""
    repo.request("BW-2026-0001", agency=f'"{HOSTILE_AGENCY}"', download="{guaranteed_mbps: 10, max_mbps: 20}")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/24]")
    done = repo.run("render", "--output-dir", ".plans", "--today", "2026-11-28", today=None)
    assert done.returncode == 0, done.stderr
    plan = json.loads((repo.path / ".plans/gw-a.json").read_text())
    minors = {c["label"]: f"1:{c['minor']:x}" for d in plan["devices"] for c in d["classes"]}

    def gw_a(device, classid, t):
        if classid == minors["BW-2026-0001"] and device["direction"] == "download":
            return 10_000 + 2_500_000 * t  # 20 Mbit/s: its max
        if classid == minors["BW-2026-0002"] and device["direction"] == "upload":
            return 5_000 + 100 * t if t < 3 else 40 * (t - 3)  # re-created between t=2 and t=3
        if classid == "1:1" and device["uplink"] == "isp-a":
            return 50_000 + (2_500_000 * t if device["direction"] == "download" else 200 * t)
        return 1_000 + 10 * t

    gw_b_plan = json.loads((repo.path / ".plans/gw-b.json").read_text())
    for name, current, function in (("gw-a", plan, gw_a), ("gw-b", gw_b_plan, lambda device, classid, t: 0)):
        counters = {"gateway": name, "started": "2026-11-28T01:00:00Z", "duration_seconds": 6, "step_seconds": 1, "samples": _samples(current, function)}
        (repo.path / f".plans/{name}.counters.json").write_text(json.dumps(counters))
    return repo


def _latest(repo: Repo) -> Path:
    return repo.path / "reports" / "monitoring" / "latest"


def test_monitor_computes_rates_flags_and_resets(monitored: Repo):
    done = monitored.run("monitor")
    assert done.returncode == 0, done.stderr
    latest = _latest(monitored)
    assert latest.is_symlink() and re.fullmatch(r"\d{8}T\d{6}Z", latest.readlink().name)
    report = json.loads((latest / "monitoring.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert (report["format"], report["kind"]) == (2, "snapshot")
    # A snapshot written before "kind" (format 1) still validates; format 2 without its kind does not.
    legacy = {key: value for key, value in report.items() if key != "kind"}
    jsonschema.validate({**legacy, "format": 1}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(legacy, SCHEMA)
    by_id = {a["id"]: a for a in report["allocations"]}

    hot = by_id["BW-2026-0001"]
    # 2,500,000 bytes per 1.001 s (the sample times carry a millisecond of reading): 19,980 kbit/s.
    assert hot["download"]["average_kbit"] == pytest.approx(19_980, abs=1)
    assert hot["download"]["peak_kbit"] == pytest.approx(19_980, abs=1)
    assert hot["download"]["average_percent_of_max"] == pytest.approx(99.9)
    assert hot["download"]["bytes"] == 15_000_000 and hot["download"]["packets"] == 15_000
    assert hot["flags"] == {"at_ceiling": True, "underused": False, "counter_reset": False, "class_missing": False}

    quiet = by_id["BW-2026-0002"]
    assert quiet["flags"]["underused"] and quiet["flags"]["counter_reset"] and not quiet["flags"]["at_ceiling"]
    # Never a negative rate: the pair across the reset counts the new class from zero (0 bytes at t=3).
    assert all(rate is None or rate >= 0 for rate in quiet["upload"]["series_kbit"])
    assert quiet["upload"]["bytes"] == 200 + 0 + 40 * 3
    assert report["resets"] == [{"gateway": "gw-a", "device": "ifb-eth1", "classid": quiet["upload"]["classid"], "allocation": "BW-2026-0002", "between": [2.002, 3.003]}]
    assert report["candidates"] == {"at_ceiling": ["BW-2026-0001"], "underused": ["BW-2026-0002"]}

    uplink = next(u for g in report["gateways"] if g["name"] == "gw-a" for u in g["uplinks"] if u["name"] == "isp-a")
    assert uplink["download"]["capacity_kbit"] == 100_000 and uplink["download"]["average_percent_of_capacity"] == pytest.approx(20.0)
    assert "BW-2026-0001" in done.stdout and "at_ceiling" in done.stdout and "counter reset" in done.stdout

    markdown = (latest / "monitoring.md").read_text()
    assert markdown.startswith("## Laporan Monitoring Bandwidth\n")
    assert "**Kandidat penambahan" in markdown and "Kandidat pengembalian" in markdown and "Penghitung direset" in markdown
    assert "| 20 / 20 |" in markdown  # average / peak download of BW-2026-0001 in Mbit/s, Indonesian notation
    # It says what it is: a daily snapshot, for sites without Prometheus; the month comes from Prometheus.
    snapshot = "Laporan ini adalah potret harian: penghitung kelas tc dibaca selama beberapa menit, untuk lokasi yang belum memiliki Prometheus."
    assert snapshot in markdown and "`bandwidth monitor --prometheus URL --month YYYY-MM`" in markdown
    html = (latest / "monitoring.html").read_text()
    assert snapshot.replace(":", "&#58;") in html  # as every text of the page, with its colons as entities
    assert html.count("<svg ") == 2 and "<title>Laporan Monitoring Bandwidth" in html and "28 November 2026" in html


def test_hostile_agency_text_is_inert_in_every_output(monitored: Repo):
    assert monitored.run("monitor").returncode == 0
    latest = _latest(monitored)
    markdown = (latest / "monitoring.md").read_text()
    html = (latest / "monitoring.html").read_text()
    assert json.loads((latest / "monitoring.json").read_text())["allocations"][0]["agency"] == HOSTILE_AGENCY  # data stays data
    assert "<script" not in markdown and "@everyone" not in markdown and "**x**" not in markdown and "http://" not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| &#64;everyone \\*\\*x\\*\\* \\[a\\](http&#58;//evil)" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| BW-2026-0001 "))
    assert row.count(" | ") == 7  # the agency's '|' did not add a column
    assert "<script" not in html and "http://" not in html and "src=" not in html and "url(" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | @everyone **x** [a](http&#58;//evil)" in html


def test_each_candidate_links_to_its_prefilled_form_and_the_monthly_issue_lists_them(monitored: Repo):
    """The links GitHub's issue forms take: template, title and the form's own field ids, parsed back here."""
    monitored.write(".github/disposition.yml", CHAIN)
    for template in ("perubahan-bandwidth.yml", "pengembalian-bandwidth.yml"):
        monitored.write(f".github/ISSUE_TEMPLATE/{template}", (ROOT / ".github/ISSUE_TEMPLATE" / template).read_text())
    monitored.git("init", "-q", "-b", "main")
    monitored.git("add", "-A")
    monitored.git("commit", "-qm", "main")
    done = monitored.run("monitor", "--github-repo", "pemprov-kaltim/bandwidth", "--github-server", "https://github.example")
    assert done.returncode == 0, done.stderr
    latest = _latest(monitored)
    report = json.loads((latest / "monitoring.json").read_text())
    jsonschema.validate(report, SCHEMA)
    forms = report["candidates"]["forms"]
    assert sorted(forms) == ["BW-2026-0001", "BW-2026-0002"]
    for request_id, template, name in (("BW-2026-0001", "perubahan-bandwidth", "Perubahan Bandwidth"), ("BW-2026-0002", "pengembalian-bandwidth", "Pengembalian / Pencabutan Bandwidth")):
        url = urllib.parse.urlsplit(forms[request_id])
        assert (url.scheme, url.netloc, url.path) == ("https", "github.example", "/pemprov-kaltim/bandwidth/issues/new")
        query = dict(urllib.parse.parse_qsl(url.query, strict_parsing=True))
        assert query["template"] == f"{template}.yml" and query["title"] == f"{name}: {request_id}" and query["id"] == request_id
        fields = {item["id"] for item in yaml.safe_load((ROOT / ".github/ISSUE_TEMPLATE" / query["template"]).read_text())["body"] if "id" in item}
        assert set(query) - {"template", "title"} <= fields  # every other parameter fills a field of that form
    assert dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(forms["BW-2026-0001"]).query))["agency"] == HOSTILE_AGENCY  # whole, as data
    markdown = (latest / "monitoring.md").read_text()
    assert "**Ajukan lewat formulir (terisi otomatis):**" in markdown and f"[formulir Perubahan Bandwidth]({forms['BW-2026-0001']})" in markdown
    assert "<script" not in markdown and "@everyone" not in markdown
    html = (latest / "monitoring.html").read_text()
    assert "formulir Perubahan Bandwidth</a>" in html and "<script" not in html
    title, body = (latest / "candidates.md").read_text().split("\n", 1)
    assert title == "Kandidat perubahan alokasi bandwidth, November 2026" and report["issue"] == {"title": title, "body": body}
    assert "@kasi-1" in body and "### Kandidat penambahan (1)" in body and "### Kandidat pengembalian (1)" in body
    assert f"[formulir Pengembalian / Pencabutan Bandwidth]({forms['BW-2026-0002']})" in body and "<script" not in body
    # Without a repository (outside Actions): no links, no issue.
    done = monitored.run("monitor", "--github-repo", "")
    assert done.returncode == 0 and "forms" not in json.loads((latest / "monitoring.json").read_text())["candidates"]
    assert not (latest / "candidates.md").exists()
    assert monitored.run("monitor", "--github-repo", "a/b c").returncode == 2


def test_missing_counters_is_a_usage_error_naming_the_file(monitored: Repo):
    (monitored.path / ".plans/gw-b.counters.json").unlink()
    done = monitored.run("monitor")
    assert done.returncode == 2
    assert done.stderr.startswith("bandwidth: error: ") and "gw-b.counters.json" in done.stderr
    assert not (monitored.path / "reports").exists()

    (monitored.path / ".plans/gw-b.counters.json").write_text('{"samples": [{"t": 0, "devices": {}}]}')
    done = monitored.run("monitor")
    assert done.returncode == 2 and "gw-b.counters.json" in done.stderr and "at least 2" in done.stderr
    (monitored.path / ".plans/gw-b.counters.json").write_text("{not json")
    done = monitored.run("monitor")
    assert done.returncode == 2 and "gw-b.counters.json: the counter samples is not JSON" in done.stderr


# --- playbooks/monitor.yml on the lab -----------------------------------------------------------------------------------

# tc counts what the class sends: the IP packet and its 14-byte Ethernet header. iperf3 counts TCP payload: with a
# 1448-byte MSS (1500 MTU, timestamps) a full frame is 1514 bytes for 1448 of payload, so tc reads 1514/1448 = 4.6% more.
L2_PER_PAYLOAD = 1514 / 1448


def _iperf(client: dict, direction: str, rate: str | None, seconds: int) -> list[str]:
    from bandwidth.reports.measure import iperf_argv

    # One connection: iperf3's -b paces each stream, and the test drives one rate per allocation.
    return iperf_argv(client, next(iter(client["families"])), direction, seconds, streams=1) + (["-b", rate] if rate else [])


@pytest.mark.lab
def test_monitor_playbook_reports_the_driven_rates(tmp_path: Path):
    path = tmp_path / "repo"
    path.mkdir()
    with applied_lab(copy_repo(path)) as lab:
        clients = {c["id"]: c for c in json.loads((lab.path / "lab" / "lab.json").read_text())["clients"]}
        driven = {  # id: (direction, iperf3 -b in Mbit/s or None for as fast as HTB lets it)
            "BW-2026-0001": ("download", 20),  # max 100: paced well below it
            "BW-2026-0007": ("download", None),  # max 60: held at its ceiling by HTB
            "BW-2026-0010": ("upload", 15),  # max 60, the other gateway, the ifb
        }
        processes = []
        try:
            for ident, (direction, mbps) in driven.items():
                argv = _iperf(clients[ident], direction, f"{mbps}M" if mbps else None, 60)
                processes.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(1.5)  # past TCP's start; the playbook's own start takes longer still
            started = time.monotonic()
            done = lab.run(ANSIBLE_PLAYBOOK, "-i", "lab/inventory", "playbooks/monitor.yml", "-e", "bandwidth_monitor_duration_seconds=6", "-e", "bandwidth_monitor_step_seconds=1")
            playbook_seconds = time.monotonic() - started
            assert all(p.poll() is None for p in processes), "an iperf3 ended before the monitoring did"
        finally:
            for process in processes:  # only what this test started, by its Popen
                stop_process(process, timeout=5)

        latest = lab.path / "reports" / "monitoring" / "latest"
        assert {p.name for p in latest.iterdir()} == {"monitoring.json", "monitoring.md", "monitoring.html"}
        report = json.loads((latest / "monitoring.json").read_text())
        jsonschema.validate(report, SCHEMA)
        assert {g["name"]: g["samples"] for g in report["gateways"]} == {"gw-balikpapan": 7, "gw-samarinda": 7}
        assert report["resets"] == []
        by_id = {a["id"]: a for a in report["allocations"]}
        measured = {}
        for ident, (direction, mbps) in driven.items():
            entry = by_id[ident][direction]
            assert entry["packets"] > 0 and entry["bytes"] > 0
            assert entry["peak_kbit"] >= entry["average_kbit"]
            measured[ident] = entry["average_kbit"] / MBIT
            if mbps:
                # Paced traffic: the class's average is the driven payload rate plus the Ethernet and IP/TCP headers.
                assert measured[ident] == pytest.approx(mbps * L2_PER_PAYLOAD, rel=0.10), (ident, measured[ident], mbps)
                assert not by_id[ident]["flags"]["at_ceiling"] and not by_id[ident]["flags"]["underused"]
        ceiling = by_id["BW-2026-0007"]
        assert ceiling["download"]["average_percent_of_max"] >= 90 and ceiling["download"]["peak_percent_of_max"] <= 105
        assert ceiling["flags"]["at_ceiling"] and not ceiling["flags"]["underused"]
        for idle in ("BW-2026-0004", "BW-2026-0012"):
            assert by_id[idle]["flags"]["underused"] and not by_id[idle]["flags"]["at_ceiling"]
        assert report["candidates"]["at_ceiling"] == ["BW-2026-0007"]
        samarinda = {u["name"]: u for g in report["gateways"] if g["name"] == "gw-samarinda" for u in g["uplinks"]}
        assert samarinda["isp-a"]["download"]["average_kbit"] >= by_id["BW-2026-0001"]["download"]["average_kbit"]
        assert "at ceiling (candidates for more bandwidth): BW-2026-0007" in done.stdout
        print(f"driven vs reported (Mbit/s, tc counts L2): {measured}; playbook {playbook_seconds:.1f} s")


def test_preflight_refuses_a_step_longer_than_the_interval(tmp_path: Path):
    """Before any host is touched: the inventory's gateways are unreachable names here."""
    path = tmp_path / "repo"
    path.mkdir()
    copy_repo(path)
    done = subprocess.run(
        [ANSIBLE_PLAYBOOK, "playbooks/monitor.yml", "-e", "bandwidth_monitor_duration_seconds=5", "-e", "bandwidth_monitor_step_seconds=10"],
        cwd=path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "step <= duration" in done.stdout and "got duration 5, step 10" in done.stdout
    assert not (path / ".plans").exists()  # failed before the plan, so before any gateway
