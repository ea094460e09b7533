"""playbooks/apply.yml on the lab: real tc in network namespaces, reached over real SSH."""

from __future__ import annotations

import re

import pytest

from conftest import Lab, applied_lab, copy_repo, minor, ping, recap_changed

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with applied_lab(copy_repo(tmp_path_factory.mktemp("repo"))) as instance:
        yield instance


def test_apply_shapes_every_allocation_class_by_class(lab: Lab):
    classes = lab.classes("gw-samarinda", "eth1")
    assert classes["1:1"].startswith("class htb 1:1 root rate 1Gbit ceil 1Gbit")
    assert "rate 100Mbit ceil 1Gbit" in classes["1:2"] and "prio 7" in classes["1:2"]
    # BW-2026-0001: download 50/100, priority 2; upload 20/40 on the ifb.
    assert re.search(rf"class htb {minor('BW-2026-0001')} parent 1:1 leaf \S+ prio 2 rate 50Mbit ceil 100Mbit", classes[minor("BW-2026-0001")])
    upload = lab.classes("gw-samarinda", "ifb-eth1")
    assert re.search(r"prio 2 rate 20Mbit ceil 40Mbit", upload[minor("BW-2026-0001")])
    # Every allocation of the gateway has its class; unshaped traffic has the default class.
    for request_id in ("BW-2026-0001", "BW-2026-0002", "BW-2026-0003", "BW-2026-0004", "BW-2026-0005", "BW-2026-0006"):
        assert minor(request_id) in classes
    assert set(lab.classes("gw-samarinda", "eth2")) == {"1:1", "1:2", minor("BW-2026-0007"), minor("BW-2026-0008"), minor("BW-2026-0009")}
    filters = lab.filters("gw-samarinda", "eth1")
    assert f"flowid {minor('BW-2026-0001')}" in filters and "match c6120a00/ffffff00 at 16" in filters
    assert "match c6120a00/ffffff00 at 12" in lab.filters("gw-samarinda", "ifb-eth1")  # upload matches the source
    ingress = lab.tc("gw-samarinda", "filter", "show", "dev", "eth1", "parent", "ffff:")
    assert "Egress Redirect to device ifb-eth1" in ingress
    leaf = lab.tc("gw-samarinda", "qdisc", "show", "dev", "eth1")
    assert f"qdisc pfifo {minor('BW-2026-0001')[2:]}: parent {minor('BW-2026-0001')}" in leaf


def test_traffic_lands_in_the_allocations_class(lab: Lab):
    before = lab.sent_bytes("gw-samarinda", "eth1")[minor("BW-2026-0002")]
    ping(lab, "BW-2026-0002")
    assert lab.sent_bytes("gw-samarinda", "eth1")[minor("BW-2026-0002")] > before  # replies to the client: download
    assert lab.sent_bytes("gw-samarinda", "ifb-eth1")[minor("BW-2026-0002")] > 0  # requests from it: upload


def test_second_run_changes_nothing(lab: Lab):
    done = lab.apply()
    assert recap_changed(done.stdout) == {"localhost": 0, "gw-samarinda": 0, "gw-balikpapan": 0}


def test_one_change_is_planned_then_applied_minimally(lab: Lab):
    ping(lab, "BW-2026-0001")
    ping(lab, "BW-2026-0003")
    lab.edit("allocations/gw-samarinda/BW-2026-0003.yaml", "download: {guaranteed_mbps: 60, max_mbps: 120}", "download: {guaranteed_mbps: 70, max_mbps: 150}")
    before_classes = lab.classes("gw-samarinda", "eth1")

    plan = lab.apply("--check", "--diff")
    planned = [line[1:] for line in plan.stdout.splitlines() if line.startswith("+tc ")]
    assert planned == [f"tc class change dev eth1 parent 1:1 classid {minor('BW-2026-0003')} htb rate 70Mbit ceil 150Mbit prio 3 quantum 200000 burst 8750b cburst 18750b"]
    assert lab.classes("gw-samarinda", "eth1") == before_classes  # check mode touched nothing

    counters = lab.sent_bytes("gw-samarinda", "eth1")
    done = lab.apply()
    assert recap_changed(done.stdout) == {"localhost": 0, "gw-samarinda": 1, "gw-balikpapan": 0}
    after = lab.classes("gw-samarinda", "eth1")
    assert "rate 70Mbit ceil 150Mbit" in after[minor("BW-2026-0003")]
    assert {k: v for k, v in after.items() if k != minor("BW-2026-0003")} == {k: v for k, v in before_classes.items() if k != minor("BW-2026-0003")}
    # The other agencies' classes were not re-created: their byte counters kept counting.
    now = lab.sent_bytes("gw-samarinda", "eth1")
    assert now[minor("BW-2026-0001")] >= counters[minor("BW-2026-0001")] > 0
    assert now[minor("BW-2026-0003")] >= counters[minor("BW-2026-0003")] > 0


def test_removed_allocation_loses_class_and_filters(lab: Lab):
    (lab.path / "allocations/gw-balikpapan/BW-2026-0011.yaml").unlink()
    lab.apply()
    for device in ("eth1", "ifb-eth1"):
        assert minor("BW-2026-0011") not in lab.classes("gw-balikpapan", device)
        filters = lab.filters("gw-balikpapan", device)
        assert f"flowid {minor('BW-2026-0011')}" not in filters
        assert "c6128300" not in filters  # 198.18.131.0
        assert f"flowid {minor('BW-2026-0010')}" in filters


def test_failure_rolls_the_gateway_back(lab: Lab):
    lab.edit("allocations/gw-balikpapan/BW-2026-0012.yaml", "download: {guaranteed_mbps: 20, max_mbps: 40}", "download: {guaranteed_mbps: 25, max_mbps: 45}")
    before = {device: (lab.classes("gw-balikpapan", device), lab.filters("gw-balikpapan", device)) for device in ("eth1", "ifb-eth1")}
    # fq_codel is the production leaf, and this kernel has none: the class change goes through,
    # then the leaf qdisc fails, and everything must be put back.
    done = lab.apply("-e", "bandwidth_leaf_qdisc=fq_codel", check=False)
    assert done.returncode != 0
    assert "gw-balikpapan: tc failed at: tc qdisc replace dev eth1" in done.stdout
    assert "fq_codel" in done.stdout and "rolled back" in done.stdout
    after = {device: (lab.classes("gw-balikpapan", device), lab.filters("gw-balikpapan", device)) for device in ("eth1", "ifb-eth1")}
    assert after == before
    lab.edit("allocations/gw-balikpapan/BW-2026-0012.yaml", "download: {guaranteed_mbps: 25, max_mbps: 45}", "download: {guaranteed_mbps: 20, max_mbps: 40}")


def test_refuses_to_apply_when_the_check_fails(lab: Lab):
    before = lab.classes("gw-samarinda", "eth2")
    lab.edit("allocations/gw-samarinda/BW-2026-0008.yaml", "download: {guaranteed_mbps: 25, max_mbps: 50}", "download: {guaranteed_mbps: 425, max_mbps: 450}")
    try:
        done = lab.apply(check=False)
        assert done.returncode != 0
        assert "download capacity of gw-samarinda/isp-b exceeded" in done.stdout
        assert "refusing to render" in done.stdout
        assert lab.classes("gw-samarinda", "eth2") == before
    finally:
        lab.edit("allocations/gw-samarinda/BW-2026-0008.yaml", "download: {guaranteed_mbps: 425, max_mbps: 450}", "download: {guaranteed_mbps: 25, max_mbps: 50}")
