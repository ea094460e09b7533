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

from conftest import BANDWIDTH, applied_lab, copy_repo

SMALL_UPLINK = """\
bandwidth_lan_networks: [198.18.128.0/17, 2001:2:0:2000::/52]
bandwidth_uplinks:
  - {name: isp-a, download_mbps: 120, upload_mbps: 60, reserve_percent: 0, lan_interface: eth1}
"""
GUARANTEED = {"BW-2026-0010": 60, "BW-2026-0011": 20, "BW-2026-0012": 20}  # download, Mbit/s
TOLERANCE = 0.90  # the lab reaches 95-96% of a shaped rate (TCP goodput under an L2 shaper)
WIRE_TOLERANCE = 0.97  # on the wire (the class's layer-2 byte counters) the guarantee itself must hold


@pytest.mark.lab
def test_every_guarantee_holds_when_the_uplink_is_oversubscribed(tmp_path):
    repo = copy_repo(tmp_path)
    (repo / "inventory/production/host_vars/gw-balikpapan.yml").write_text(SMALL_UPLINK)
    with applied_lab(repo) as lab:
        done = lab.run(BANDWIDTH, "measure", "--seconds=4", *GUARANTEED)
        result = json.loads(done.stdout)
    together = {ident: rates["download"] for ident, rates in result["contention"].items()}
    print(f"download, all at once: {together}; alone: {result['alone']}")
    alone = {ident: rates["download"] for ident, rates in result["alone"].items()}
    wire = {ident: rates["download"] for ident, rates in result["wire_contention"].items()}
    print(f"on the wire, all at once: {wire}")
    for ident, guaranteed in GUARANTEED.items():
        assert together[ident] >= TOLERANCE * guaranteed, f"{ident} got {together[ident]} Mbit/s of its guaranteed {guaranteed} ({together})"
        assert wire[ident] >= WIRE_TOLERANCE * guaranteed, f"{ident} got {wire[ident]} Mbit/s on the wire of its guaranteed {guaranteed} ({wire})"
    assert sum(wire.values()) <= 120 * 1.01, wire
    assert sum(together.values()) <= 120 * 1.02, together  # the uplink's 120 Mbit/s is the ceiling of all of them
    assert alone["BW-2026-0010"] >= TOLERANCE * 120  # alone, it reaches its max (the whole uplink)
    assert together["BW-2026-0010"] >= 2 * together["BW-2026-0011"]  # not a fair share: the guarantees decide


def test_the_check_accepts_this_inventory(tmp_path):
    """The oversubscription is of maxima only: the guarantees fit, so this is a valid configuration."""
    repo = copy_repo(tmp_path)
    (repo / "inventory/production/host_vars/gw-balikpapan.yml").write_text(SMALL_UPLINK)
    done = subprocess.run([BANDWIDTH, "check"], cwd=repo, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
