"""HTB keeps every guarantee on an oversubscribed uplink: real tc, real iperf3, in the lab.

The shipped uplinks are large enough that all their allocations fit at full speed, so the
contention round of `bandwidth measure` would pass even without guarantees. Here gw-balikpapan's
uplink is cut to 120 Mbit/s down with no reserve: its three allocations guarantee 60 + 20 + 20 =
100 and may burst to 120, 40 and 40 (200 in all). All three pushing at once, TCP alone would share
about 40 each; HTB must give each at least its guarantee.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from bandwidth.reports import report_data
from conftest import BANDWIDTH, applied_lab, copy_repo

SMALL_UPLINK = """\
bandwidth_lan_networks: [198.18.128.0/17, 2001:2:0:2000::/52]
bandwidth_uplinks:
  - {name: isp-a, download_mbps: 120, upload_mbps: 60, reserve_percent: 0, lan_interface: eth1}
"""
GUARANTEED = {"BW-2026-0010": 60, "BW-2026-0011": 20, "BW-2026-0012": 20}  # download, Mbit/s


@pytest.mark.lab
def test_every_guarantee_holds_when_the_uplink_is_oversubscribed(tmp_path):
    repo = copy_repo(tmp_path)
    (repo / "inventory/production/host_vars/gw-balikpapan.yml").write_text(SMALL_UPLINK)
    with applied_lab(repo) as lab:
        done = lab.run(BANDWIDTH, "measure", "--seconds=4", *GUARANTEED)
        result = json.loads(done.stdout)
    together = {ident: {"measured_mbps": result["contention"][ident]["download"], "wire_mbps": result["wire_contention"][ident]["download"]} for ident in GUARANTEED}
    print(f"download, all at once: {together}; alone: {result['alone']}; measured again: {result['first_contention']}")
    for ident, guaranteed in GUARANTEED.items():
        # The rule of the verdict: at least 97% of the guarantee on the wire (goodput within it), or so when measured again.
        first = result["first_contention"].get(ident, {}).get("download")
        assert any(report_data.together_in_band(figure, guaranteed) for figure in (together[ident], first) if figure), (ident, together[ident], first)
    wire = {ident: figure["wire_mbps"] for ident, figure in together.items()}
    assert sum(wire.values()) <= 120 * 1.01, wire  # the uplink's 120 Mbit/s is the ceiling of all of them
    assert report_data.alone_in_band({"measured_mbps": result["alone"]["BW-2026-0010"]["download"], "wire_mbps": result["wire_alone"]["BW-2026-0010"]["download"]}, 120)
    assert wire["BW-2026-0010"] >= 2 * wire["BW-2026-0011"]  # not a fair share: the guarantees decide


def test_the_check_accepts_this_inventory(tmp_path):
    """The oversubscription is of maxima only: the guarantees fit, so this is a valid configuration."""
    repo = copy_repo(tmp_path)
    (repo / "inventory/production/host_vars/gw-balikpapan.yml").write_text(SMALL_UPLINK)
    done = subprocess.run([BANDWIDTH, "check"], cwd=repo, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
