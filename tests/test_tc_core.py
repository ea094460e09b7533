"""The tc core (roles/bandwidth/module_utils/bandwidth_tc_*.py) on recorded tc output, without root.

tests/data/tc-gw-samarinda/ holds what iproute2 6.1 printed for the lab's gw-samarinda after
`playbooks/apply.yml` shaped the shipped allocations (leaf qdisc pfifo), and the plan it applied:
`tc -j qdisc show`, `tc -d class show` (HTB prints its options only as text), `tc -j filter show
parent 1:` and `parent ffff:`, `tc -s -j class show` (text again), for eth1 (download) and ifb-eth1
(upload). The same parsers and planner run on the gateways; here they must find that state equal to
its plan, and plan exactly the commands a change needs.
"""

from __future__ import annotations

import copy
import json

import pytest

from bandwidth.shaping.tc import build, parse, plan, rollback
from conftest import ROOT

RECORDED = ROOT / "tests" / "data" / "tc-gw-samarinda"
DEVICES = ("eth1", "ifb-eth1")


def spec_of(device: str) -> dict:
    return next(d for d in json.loads((RECORDED / "plan.json").read_text())["devices"] if d["device"] == device)


def live(device: str) -> tuple[list[dict], dict, dict]:
    """(qdiscs, classes, filters) of the recorded device, as the module reads them."""
    return (
        parse.parse_qdiscs((RECORDED / f"{device}.qdisc.json").read_text()),
        parse.parse_classes((RECORDED / f"{device}.class.txt").read_text()),
        parse.parse_filters((RECORDED / f"{device}.filter.json").read_text()),
    )


def minor_of(spec: dict, request_id: str) -> int:
    return next(c["minor"] for c in spec["classes"] if c["label"] == request_id)


# ---- parsers ----


@pytest.mark.parametrize("device", DEVICES)
def test_parsers_read_the_recorded_tree(device: str):
    spec = spec_of(device)
    qdiscs, classes, filters = live(device)
    root = next(q for q in qdiscs if q.get("root"))
    assert (root["kind"], root["handle"], root["options"]["default"]) == ("htb", "1:", "0x2")
    assert sorted(int(q["handle"].rstrip(":"), 16) for q in qdiscs if q.get("kind") == "pfifo") == sorted([2, *(c["minor"] for c in spec["classes"])])
    # Every class as the plan wants it: rate, ceil, prio and quantum in tc's own notation.
    wanted = plan.desired_classes(spec)
    assert set(classes) == set(wanted) == {1, 2, *(c["minor"] for c in spec["classes"])}
    for minor, item in wanted.items():
        assert {key: classes[minor][key] for key in ("parent", "rate", "ceil", "prio", "quantum")} == {key: item[key] for key in ("parent", "rate", "ceil", "prio", "quantum")}, hex(minor)
    assert classes[1]["rate"] == build.rate_text(spec["capacity_kbit"]) == {"eth1": "1Gbit", "ifb-eth1": "500Mbit"}[device]
    # The u32 hash tables, the links into them, and one leaf per subnet and bucket.
    assert filters["tables"] == {(4, "2:"), (6, "3:")}
    assert set(filters["links"]) == {4, 6}
    assert sorted(filters["leaves"].values()) == sorted(plan.desired_filters(spec))


def test_ingress_redirect_and_counters_are_read():
    assert parse.redirect_targets((RECORDED / "eth1.ingress.json").read_text()) == ["ifb-eth1"]
    qdiscs, _, _ = live("eth1")
    assert plan.plan_redirect("eth1", "ifb-eth1", qdiscs, (RECORDED / "eth1.ingress.json").read_text()) == []
    assert plan.plan_redirect("eth1", "ifb-eth2", qdiscs, (RECORDED / "eth1.ingress.json").read_text()) == [
        "qdisc del dev eth1 handle ffff: ingress",
        "qdisc replace dev eth1 handle ffff: ingress",
        "filter add dev eth1 parent ffff: prio 1 protocol all u32 match u32 0 0 action mirred egress redirect dev ifb-eth2",
    ]
    # iproute2 6.1 prints HTB's statistics as text even with -j: one counter set per class.
    counters = parse.parse_counters((RECORDED / "eth1.counters.txt").read_text())
    spec = spec_of("eth1")
    assert set(counters) == {"1:1", "1:2", *(f"1:{c['minor']:x}" for c in spec["classes"])}
    assert counters["1:1"] == {"bytes": 532, "packets": 6, "drops": 0, "overlimits": 0}
    assert all(set(v) == set(parse.COUNTERS) and all(isinstance(n, int) for n in v.values()) for v in counters.values())


# ---- planner ----


@pytest.mark.parametrize("device", DEVICES)
def test_the_recorded_state_is_converged(device: str):
    assert plan.plan_device(spec_of(device), "pfifo", *live(device)) == []


def test_a_changed_ceiling_is_one_class_change():
    spec = copy.deepcopy(spec_of("eth1"))
    item = next(c for c in spec["classes"] if c["label"] == "BW-2026-0002")
    item["ceil_kbit"] = 160_000
    assert plan.plan_device(spec, "pfifo", *live("eth1")) == [
        f"class change dev eth1 parent 1:1 classid 1:{item['minor']:x} htb rate 40Mbit ceil 160Mbit prio 1 quantum 200000 burst 5000b cburst 20000b"
    ]


def test_bursts_are_one_millisecond_of_rate_and_tc_rounding_is_no_change():
    """HTB's burst and cburst: 1 ms at rate and ceil (at least 1600 bytes), compared within tc's rounding."""
    assert [build.burst(kbit) for kbit in (1_000, 40_000, 120_000, 1_000_000)] == [1600, 5000, 15000, 125000]
    assert [parse.size_bytes(text) for text in ("1600b/1", "1599b", "15Kb/1", "2Mb", "1.5Kb", "wide")] == [1600, 1599, 15360, 2097152, 1536, None]
    spec = spec_of("eth1")
    item = spec["classes"][0]
    qdiscs, classes, filters = live("eth1")
    rounded = copy.deepcopy(classes)
    rounded[item["minor"]]["burst"] -= 1  # what tc prints back for a burst it stored as time
    assert plan.plan_device(spec, "pfifo", qdiscs, rounded, filters) == []
    # A class shaped with tc's default burst (about one frame, as before) is changed to the planned one.
    default = copy.deepcopy(classes)
    default[item["minor"]].update(burst=1600, cburst=1600)
    assert plan.plan_device(spec, "pfifo", qdiscs, default, filters) == [
        f"class change dev eth1 parent 1:1 classid 1:{item['minor']:x} htb rate {build.rate_text(item['rate_kbit'])} ceil {build.rate_text(item['ceil_kbit'])} "
        f"prio {item['prio']} quantum {build.quantum(item['rate_kbit'])} burst {build.burst(item['rate_kbit'])}b cburst {build.burst(item['ceil_kbit'])}b"
    ]


def test_a_removed_allocation_loses_its_filters_first_then_its_class():
    spec = copy.deepcopy(spec_of("eth1"))
    gone = minor_of(spec, "BW-2026-0006")
    spec["classes"] = [c for c in spec["classes"] if c["minor"] != gone]
    spec["filters"] = [f for f in spec["filters"] if f["minor"] != gone]
    commands = plan.plan_device(spec, "pfifo", *live("eth1"))
    _, _, filters = live("eth1")
    handles = sorted(h for h, (_v, _b, _m, minor) in filters["leaves"].items() if minor == gone)
    assert handles, "BW-2026-0006 has filters on eth1"
    deletes = [f"filter del dev eth1 parent 1: prio {build.PRIOS[filters['leaves'][h][0]]} handle {h} protocol {build.PROTOCOLS[filters['leaves'][h][0]]} u32" for h in handles]
    assert commands == [*deletes, f"class del dev eth1 classid 1:{gone:x}"]
    # As drift: the class names its allocation; a filter's handle does not say whose it was.
    assert [d["allocation"] for d in plan.differences(spec_of("eth1"), commands)] == [None] * len(deletes) + ["BW-2026-0006"]


def test_a_new_allocation_gets_a_class_a_leaf_and_filters_in_free_nodes():
    spec = copy.deepcopy(spec_of("eth1"))
    minor = build.assign_minors([*(c["label"] for c in spec["classes"]), "BW-2026-0099"])["BW-2026-0099"]
    spec["classes"].append({"minor": minor, "label": "BW-2026-0099", "rate_kbit": 1000, "ceil_kbit": 2000, "prio": 3})
    spec["filters"].append({"family": 4, "prefix": "198.18.10.128/25", "minor": minor})  # the bucket of BW-2026-0001's 198.18.10.0/24
    commands = plan.plan_device(spec, "pfifo", *live("eth1"))
    assert commands[:2] == [
        f"class add dev eth1 parent 1:1 classid 1:{minor:x} htb rate 1Mbit ceil 2Mbit prio 3 quantum 12500 burst 1600b cburst 1600b",
        f"qdisc replace dev eth1 parent 1:{minor:x} handle {minor:x}: pfifo",
    ]
    assert len(commands) == 3 and commands[2].startswith("filter add dev eth1 parent 1: prio 1 handle 2:a:2 protocol ip u32 ht 2:a: match u32 0xc6120a80 0xffffff80 at 16 ")
    assert commands[2].endswith(f" flowid 1:{minor:x}")


def test_another_leaf_qdisc_replaces_every_leaf_and_a_missing_root_rebuilds_the_device():
    spec = spec_of("eth1")
    qdiscs, classes, filters = live("eth1")
    leaves = plan.plan_device(spec, "fq_codel", qdiscs, classes, filters)
    assert leaves == [f"qdisc replace dev eth1 parent 1:{m:x} handle {m:x}: fq_codel" for m in sorted(plan.desired_classes(spec)) if m != 1]
    assert plan.plan_device(spec, "pfifo", [], {}, {"tables": set(), "links": {}, "leaves": {}}) == plan.full_build(spec, "pfifo")


# ---- rollback ----


@pytest.mark.parametrize("device", DEVICES)
def test_rollback_rebuilds_the_recorded_tree(device: str):
    spec = spec_of(device)
    commands = rollback.restore_commands(device, *live(device))
    built = plan.full_build(spec, "pfifo")
    assert commands[0] == f"qdisc del dev {device} root"
    assert commands[1] == built[0]  # the same root: htb default 2, the same r2q
    # The same classes, leaves, tables, links and filter leaves as a build from the plan, node ids kept.
    assert sorted(c for c in commands if c.startswith("class ")) == sorted(c for c in built if c.startswith("class "))
    assert sorted(c for c in commands if c.startswith("qdisc replace") and "parent 1:" in c) == sorted(c for c in built if c.startswith("qdisc replace") and "parent 1:" in c)
    _, _, filters = live(device)
    leaves = [c for c in commands if c.startswith("filter add") and " flowid " in c]
    assert len(leaves) == len(filters["leaves"]) and all(f" handle {h} " in " ".join(leaves) for h in filters["leaves"])
    assert sorted(c for c in commands if "divisor" in c or " link " in c) == sorted(c for c in built if "divisor" in c or " link " in c)


def test_rollback_of_a_device_with_no_tree_only_clears_it():
    assert rollback.restore_commands("eth9", [{"kind": "noqueue", "root": True, "handle": "0:"}], {}, {"tables": set(), "links": {}, "leaves": {}}) == ["qdisc del dev eth9 root"]
    other = rollback.restore_commands("eth9", [{"kind": "pfifo", "root": True, "handle": "8001:"}], {}, {"tables": set(), "links": {}, "leaves": {}})
    assert other == ["qdisc del dev eth9 root", "qdisc replace dev eth9 root pfifo"]
