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


def test_drift_fails_verification_and_names_it(lab: Lab):
    from bandwidth.tcstate import minor_for

    minor = f"1:{minor_for('BW-2026-0004'):x}"
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
