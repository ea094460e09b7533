"""Thousands of files take the parallel path; its results must equal the serial ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import BANDWIDTH, TODAY

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from generate import generate


def test_parallel_loading_reports_like_serial(tmp_path):
    repo = generate(tmp_path / "repo", allocations=2_100, gateways=10)
    bad = repo / "allocations/gw-07/BW-2020-1500.yaml"
    bad.write_text(bad.read_text().replace("priority:", "priority: 9\nextra:"))
    argv = [BANDWIDTH, "check", "--format", "json", f"--today={TODAY}"]
    done = subprocess.run(argv, cwd=repo, capture_output=True, text=True, check=False, env={**os.environ, "BANDWIDTH_PROCESSES": "2"})
    serial = subprocess.run(argv, cwd=repo, capture_output=True, text=True, check=False, env={**os.environ, "BANDWIDTH_PROCESSES": "1"})
    assert done.returncode == 1, done.stderr
    assert done.stdout == serial.stdout
    document = json.loads(done.stdout)
    assert document["files_checked"] == 2_100
    assert len(document["allocations"]) == 2_099
    assert [(p["path"], p["line"], p["message"]) for p in document["problems"]] == [
        ("allocations/gw-07/BW-2020-1500.yaml", 11, "priority: 9 is greater than the maximum of 7"),
        ("allocations/gw-07/BW-2020-1500.yaml", 12, "unknown key 'extra'"),
    ]
