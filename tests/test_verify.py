"""playbooks/verify.yml on the lab: read-back drift, measured throughput, the report artifact."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from conftest import BANDWIDTH, ROOT, Lab, applied_lab, copy_repo

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    path = copy_repo(tmp_path_factory.mktemp("verify"))
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "-c", "user.name=Uji", "-c", "user.email=uji@example.go.id", "commit", "-qm", "lab"]):
        subprocess.run(command, cwd=path, check=True, capture_output=True)
    with applied_lab(path) as instance:
        yield instance


def verify(lab: Lab, *extra: str, check: bool = True):
    return lab.run(str(Path(BANDWIDTH).with_name("ansible-playbook")), "-i", "lab/inventory", "playbooks/verify.yml", *extra, check=check)


def test_verify_measures_and_writes_the_report(lab: Lab):
    verify(lab, "-e", '{"bandwidth_verify_measure": ["BW-2026-0001", "BW-2026-0010"]}', "-e", "bandwidth_verify_seconds=2")
    latest = lab.path / "reports" / "latest"
    report = json.loads((latest / "report.json").read_text())
    jsonschema.validate(report, json.loads((ROOT / "schemas/report.schema.json").read_text()))
    measured = {a["id"]: a for a in report["allocations"]}
    for request_id in ("BW-2026-0001", "BW-2026-0010"):
        item = measured[request_id]
        assert item["verdict"] == "pass", item
        for direction in ("download", "upload"):
            rate = item[direction]
            assert 0.85 * rate["max_mbps"] <= rate["measured_mbps"] <= 1.05 * rate["max_mbps"]
    assert measured["BW-2026-0002"]["verdict"] == "not_measured"
    assert report["drift"] == []
    assert {p.name for p in latest.iterdir()} >= {"report.json", "report.md", "report.html"}
    # The first apply of this lab changed every allocation: one letter each.
    assert len(list(latest.glob("Laporan_Penyelesaian_Tugas_BW-*.docx"))) == 12


def test_every_shipped_allocation_passes_on_the_wire_in_every_family(lab: Lab):
    done = verify(lab, "-e", "bandwidth_verify_seconds=3")  # a 2.3 s window on the counters
    report = json.loads((lab.path / "reports/latest/report.json").read_text())
    jsonschema.validate(report, json.loads((ROOT / "schemas/report.schema.json").read_text()))
    allocations = {a["id"]: a for a in report["allocations"]}
    # The verdict is the rule: every figure within the band, or measured again and within it then.
    assert len(allocations) == 12 and {a["verdict"] for a in allocations.values()} == {"pass"}, done.stdout
    assert allocations["BW-2026-0012"]["families"] == ["ipv6"] and allocations["BW-2026-0006"]["families"] == ["ipv4", "ipv6"]
    for item in allocations.values():
        assert item["not_measured_reason"] is None
        assert item["rtt_ms"]["idle"] is not None and item["rtt_ms"]["loaded"] is not None
        for direction in ("download", "upload"):
            rate = item[direction]
            assert set(rate["by_family"]) == set(item["families"])
            # Goodput and wire rate over the same window: TCP payload is 94.3% (IPv6) to 95.6% (IPv4) of the frames at
            # MTU 1500, never more; a figure above its wire rate would be traffic around the class, or two windows. Less
            # is retransmissions, which the class carries too: a few alone, more with every class of the uplink busy.
            for figure in [rate, *rate["by_family"].values()]:
                assert 0.90 * figure["wire_mbps"] <= figure["measured_mbps"] <= 0.97 * figure["wire_mbps"], (item["id"], direction, figure)
            assert rate["contention_mbps"] <= 0.97 * rate["contention_wire_mbps"], (item["id"], direction, rate)
    # The dual-stack allocation: IPv4 and IPv6 at once stay within the one maximum, goodput summed over one window.
    dual = allocations["BW-2026-0006"]["download"]
    assert dual["measured_mbps"] <= dual["wire_mbps"] <= 1.03 * dual["max_mbps"]
    assert allocations["BW-2026-0012"]["rtt_ms"]["family"] == "ipv6"


@pytest.mark.parametrize(
    ("fault", "family"),
    [(["--ceil-percent", "95", "--direction", "upload"], "ipv4"), (["--without-filter", "ipv6"], "ipv6")],
    ids=["ceil 5% low", "IPv6 filter removed"],
)
def test_a_broken_class_fails_its_allocation_measured_twice(lab: Lab, fault: list[str], family: str):
    """A class 5% short of its ceiling, or a dual-stack agency's IPv6 not in its class at all: the allocation fails on
    what was measured (not only on the drift the read-back also finds), each figure out of the band measured again."""
    lab.run(BANDWIDTH, "lab", "fault", "BW-2026-0006", *fault)
    try:
        done = verify(lab, "-e", '{"bandwidth_verify_measure": ["BW-2026-0006", "BW-2026-0002"]}', "-e", "bandwidth_verify_seconds=2", check=False)
    finally:
        lab.apply()  # converge back
    assert done.returncode != 0
    report = json.loads((lab.path / "reports/latest/report.json").read_text())
    jsonschema.validate(report, json.loads((ROOT / "schemas/report.schema.json").read_text()))
    allocations = {a["id"]: a for a in report["allocations"]}
    assert allocations["BW-2026-0006"]["verdict"] == "fail" and allocations["BW-2026-0002"]["verdict"] == "pass"
    broken = allocations["BW-2026-0006"]["upload"]["by_family"][family]
    assert "first" in broken, broken  # out of the band, measured again, out again: both figures kept
    if family == "ipv4":  # 95% of the ceiling, twice
        assert broken["wire_mbps"] < 0.97 * 10 and broken["first"]["wire_mbps"] < 0.97 * 10
    else:  # the class never sees the IPv6 traffic, which flows unshaped
        assert broken["wire_mbps"] < 0.1 and broken["measured_mbps"] > 10 * 1.03
    markdown = (lab.path / "reports/latest/report.md").read_text(encoding="utf-8")
    assert "diukur ulang, pertama:" in markdown


def test_an_allocation_the_lab_cannot_measure_fails_verification(lab: Lab):
    """Asked to be measured, an allocation without a lab client fails the run: it never passes quietly."""
    doc_path = lab.path / "lab" / "lab.json"
    original = doc_path.read_text()
    doc = json.loads(original)
    doc["clients"] = [c for c in doc["clients"] if c["id"] != "BW-2026-0004"]
    doc["skipped"].append({"id": "BW-2026-0004", "reason": "subnet removed for this test"})
    doc_path.write_text(json.dumps(doc))
    try:
        done = verify(lab, "-e", '{"bandwidth_verify_measure": ["BW-2026-0004", "BW-2026-0007"]}', "-e", "bandwidth_verify_seconds=2", check=False)
    finally:
        doc_path.write_text(original)
    assert done.returncode != 0
    report = json.loads((lab.path / "reports/latest/report.json").read_text())
    item = next(a for a in report["allocations"] if a["id"] == "BW-2026-0004")
    assert item["verdict"] == "fail" and item["not_measured_reason"] == "tidak ada klien lab: subnet removed for this test"
    assert next(a for a in report["allocations"] if a["id"] == "BW-2026-0007")["verdict"] == "pass"
    result = next(line for line in (lab.path / "reports/latest/report.md").read_text().splitlines() if line.startswith("**Hasil:"))
    assert "semua" not in result and "gagal" in result


def test_drift_fails_verification_and_names_it(lab: Lab):
    from bandwidth.shaping.tc import build

    minor = f"1:{build.minor_for('BW-2026-0004'):x}"
    subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            "bwlab-gw-samarinda",
            "tc",
            "class",
            "change",
            "dev",
            "eth1",
            "parent",
            "1:1",
            "classid",
            minor,
            "htb",
            "rate",
            "5mbit",
            "ceil",
            "500mbit",
            "prio",
            "4",
            "quantum",
            "200000",
        ],
        check=True,
    )
    try:
        done = verify(lab, "-e", "bandwidth_verify_measure=none", check=False)
        assert done.returncode != 0
        assert f"DRIFT gw-samarinda eth1 BW-2026-0004: class change dev eth1 parent 1:1 classid {minor} htb rate 20Mbit ceil 50Mbit" in done.stdout
        report = json.loads((lab.path / "reports/latest/report.json").read_text())
        assert report["drift"][0]["gateway"] == "gw-samarinda" and report["drift"][0]["allocation"] == "BW-2026-0004"
    finally:
        lab.apply()  # converge back
    assert verify(lab, "-e", "bandwidth_verify_measure=none").returncode == 0
