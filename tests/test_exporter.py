"""The collector (roles/bandwidth/files/bandwidth-exporter) as the role installs it, run by the gateways' Python.

Its devices do not exist here, so tc answers with errors: what it exposes then is the plan's gauges, no
counter made up, and shaping state 0. The lab test (test_lab_monitoring.py) scrapes it on real classes.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import HOSTILE_AGENCY, ROOT, free_port, stop_process

PYTHON = "/usr/bin/python3"  # the gateways' Python, with Debian's python3-prometheus-client
LIB = ("bandwidth_tc_build.py", "bandwidth_tc_parse.py", "bandwidth_tc_plan.py", "bandwidth_tc_rollback.py", "bandwidth_converge.py")
HOSTILE = {  # what an agency may hold, and more: the collector must not depend on `bandwidth check`
    "BW-2026-0001": 'Dinas "Kutip" \\ Garis-miring {gateway="palsu"} # bukan komentar',
    "BW-2026-0002": "Baris satu\nbandwidth_shaping_matches_plan 1\n# EOF",
    "BW-2026-0003": "Ünïcödé \u202e kanan-ke-kiri </script>",
    # The check's own hostile names (tests/test_hostile.py): the check refuses the control characters, the collector must not depend on it.
    "BW-2026-0004": HOSTILE_AGENCY,
    "BW-2026-0005": "Dinas\u0007Uji",
    "BW-2026-0006": "Dinas\nUji",
}


def install(tmp_path: Path) -> Path:
    """<state_dir>/exporter/ and restore/lib/ as roles/bandwidth/tasks/programs.yml lays them out."""
    state = tmp_path / "state"
    (state / "exporter").mkdir(parents=True)
    (state / "restore" / "lib").mkdir(parents=True)
    shutil.copy(ROOT / "roles/bandwidth/files/bandwidth-exporter", state / "exporter")
    for name in LIB:  # the tc code, installed once for both programs
        shutil.copy(ROOT / "roles/bandwidth/module_utils" / name, state / "restore" / "lib")
    return state


def write_state(state: Path, agencies: dict[str, str]) -> None:
    classes = [{"minor": 0x100 + n, "label": ident, "rate_kbit": 2000 * (n + 1), "ceil_kbit": 10000, "prio": 1} for n, ident in enumerate(agencies)]
    filters = [{"family": 4, "prefix": f"198.18.{n}.0/24", "minor": 0x100 + n} for n in range(len(agencies))] + [{"family": 6, "prefix": "2001:2::/64", "minor": 0x100}]
    devices = [
        {"device": "bwtest-none0", "direction": "download", "uplink": "isp-a", "capacity_kbit": 100000, "default_kbit": 1000, "classes": classes, "filters": filters},
        {"device": "ifb-bwtest-n0", "direction": "upload", "uplink": "isp-a", "capacity_kbit": 50000, "default_kbit": 1000, "classes": classes, "filters": filters},
    ]
    plan = {"gateway": "gw-uji", "devices": devices, "redirects": [{"device": "bwtest-none0", "ifb": "ifb-bwtest-n0"}], "ifbs": ["ifb-bwtest-n0"]}
    (state / "applied.json").write_text(json.dumps({"format": 1, "gateway": "gw-uji", "leaf_qdisc": "pfifo", "digest": "x", "time": "2026-12-07T01:02:03Z", "plan": plan}))
    labels = {"format": 1, "gateway": "gw-uji", "commit": {"sha": "a" * 40, "time": 1796600000}, "agencies": agencies}
    (state / "monitoring.json").write_text(json.dumps(labels))


@pytest.fixture
def exporter(tmp_path: Path):
    state = install(tmp_path)
    write_state(state, HOSTILE)
    port = free_port()
    process = subprocess.Popen([PYTHON, str(state / "exporter" / "bandwidth-exporter"), "--listen", f"127.0.0.1:{port}", "--state-dir", str(state)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode() if process.poll() is not None else "not listening"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/metrics", state
    finally:
        stop_process(process)


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode()


def test_hostile_agencies_never_break_the_exposition(exporter):
    url, _state = exporter
    text = scrape(url)
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    families = {f.name: f for f in text_string_to_metric_families(text)}
    maximum = families["bandwidth_allocation_maximum_bytes_per_second"].samples
    assert {(s.labels["allocation"], s.labels["agency"]) for s in maximum} == set(HOSTILE.items())
    assert {s.labels["gateway"] for s in maximum} == {"gw-uji"}  # the label in the agency's text did not become one
    # Each hostile line is one sample: no text became a line of its own.
    assert [line for line in text.splitlines() if line.startswith("bandwidth_shaping_matches_plan")] == ['bandwidth_shaping_matches_plan{gateway="gw-uji"} 0.0']


def test_the_plans_rates_in_bytes_the_families_and_the_commit(exporter):
    url, _state = exporter
    families = {f.name: f for f in text_string_to_metric_families(scrape(url))}
    guaranteed = {(s.labels["allocation"], s.labels["direction"]): s for s in families["bandwidth_allocation_guaranteed_bytes_per_second"].samples}
    assert guaranteed["BW-2026-0002", "upload"].value == 4000 * 1000 / 8  # 4 Mbit/s in bytes per second
    assert guaranteed["BW-2026-0001", "download"].labels["family"] == "dual" and guaranteed["BW-2026-0003", "download"].labels["family"] == "ipv4"
    assert guaranteed["BW-2026-0001", "download"].labels["uplink"] == "isp-a"
    assert families["bandwidth_applied_info"].samples[0].labels == {"gateway": "gw-uji", "commit": "a" * 40}
    assert families["bandwidth_applied_commit_timestamp_seconds"].samples[0].value == 1796600000
    assert families["bandwidth_applied_timestamp_seconds"].samples[0].value == 1796605323  # 2026-12-07T01:02:03Z
    # The devices are missing: the shaping does not match, and no counter is made up.
    assert families["bandwidth_shaping_matches_plan"].samples[0].value == 0
    assert not families["bandwidth_allocation_sent_bytes"].samples


def test_state_read_at_every_scrape(exporter):
    url, state = exporter
    write_state(state, {"BW-2026-0009": "Dinas Baru"})
    families = {f.name: f for f in text_string_to_metric_families(scrape(url))}
    assert {s.labels["allocation"] for s in families["bandwidth_allocation_maximum_bytes_per_second"].samples} == {"BW-2026-0009"}
    (state / "applied.json").write_text("{not json")
    families = {f.name: f for f in text_string_to_metric_families(scrape(url))}
    assert families["bandwidth_shaping_matches_plan"].samples[0].value == 0  # an unreadable state is not shaping


@pytest.mark.parametrize("listen", ["0.0.0.0:9469", "[::]:9469", ":9469", "127.0.0.1:port"])
def test_it_refuses_to_listen_on_all_addresses(tmp_path: Path, listen: str):
    state = install(tmp_path)
    done = subprocess.run([PYTHON, str(state / "exporter" / "bandwidth-exporter"), "--listen", listen, "--state-dir", str(state)], capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == 2
    assert "give the management address and a port, not all addresses" in done.stderr
    assert "Traceback" not in done.stderr


def test_its_one_pass_parser_reads_what_the_modules_parsers_read(tmp_path: Path):
    """`tc -s -d class show` as the collector reads it, built from real tc output of the lab (tests/data)."""
    import importlib.machinery
    import importlib.util
    import sys

    sys.path.insert(0, str(ROOT / "roles/bandwidth/module_utils"))
    from bandwidth_tc_parse import parse_classes, parse_counters

    loader = importlib.machinery.SourceFileLoader("bandwidth_exporter", str(ROOT / "roles/bandwidth/files/bandwidth-exporter"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("bandwidth_exporter", loader))
    loader.exec_module(module)
    for device in ("eth1", "ifb-eth1"):
        details = (ROOT / "tests/data/tc-gw-samarinda" / f"{device}.class.txt").read_text()
        stats = (ROOT / "tests/data/tc-gw-samarinda" / f"{device}.counters.txt").read_text()
        sent = {block.split()[2]: block.splitlines()[1] for block in stats.strip().split("\n\n")}
        both = "\n".join(f"{line}\n{sent[line.split()[2]]}\n backlog 0b 0p requeues 0\n" for line in details.splitlines() if line.startswith("class"))
        classes, counters = module.read_classes(both)
        expected = {minor: {k: v for k, v in item.items() if k != "leaf"} for minor, item in parse_classes(details).items()}
        assert classes == expected and len(classes) == len(sent)
        assert counters == parse_counters(stats)
