"""`bandwidth render`: the desired tc state, and its dry run checked against expected text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bandwidth.shaping.tc import build as tcstate
from conftest import ROOT, Repo

EXPECTED = Path(__file__).parent / "expected"


def small_repo(repo: Repo) -> None:
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24, '2001:db8:a:10::/64']", download="{guaranteed_mbps: 10, max_mbps: 20}", upload="{guaranteed_mbps: 2.5, max_mbps: 5}", priority="1")
    repo.request("BW-2026-0002", subnets="[198.18.4.0/22]", start="2026-11-01", end="2026-12-31")
    repo.request("BW-2026-0003", subnets="[198.18.9.0/24]", start="2027-01-01")  # not in force yet: not shaped


def test_dry_run_matches_the_expected_batch(repo: Repo):
    small_repo(repo)
    done = repo.run("render", "--format", "tc", "--gateway", "gw-a", "--leaf-qdisc", "pfifo", "--today", "2026-11-28", today=None)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (EXPECTED / "render-gw-a.tc").read_text()


def test_json_plan_holds_only_allocations_in_force(repo: Repo):
    small_repo(repo)
    plan = json.loads(repo.run("render", "--today", "2026-11-28", today=None).stdout)
    download = plan["gateways"]["gw-a"]["devices"][0]
    assert download["device"] == "eth1" and download["direction"] == "download"
    assert [c["label"] for c in download["classes"]] == ["BW-2026-0001", "BW-2026-0002"]
    assert plan["gateways"]["gw-a"]["redirects"] == [{"device": "eth1", "ifb": "ifb-eth1"}, {"device": "eth2", "ifb": "ifb-eth2"}]
    later = json.loads(repo.run("render", "--today", "2027-01-01", today=None).stdout)
    assert [c["label"] for c in later["gateways"]["gw-a"]["devices"][0]["classes"]] == ["BW-2026-0001", "BW-2026-0003"]


def test_plan_files_follow_their_schema(repo: Repo, tmp_path: Path):
    """.plans/<gateway>.json is the contract between controller and gateway: schemas/plan.schema.json."""
    import jsonschema

    small_repo(repo)
    done = repo.run("render", "--output-dir", str(tmp_path / "plans"), "--today", "2026-11-28", today=None)
    assert done.returncode == 0, done.stderr
    schema = json.loads((ROOT / "schemas/plan.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    plans = sorted((tmp_path / "plans").glob("*.json"))
    assert [p.name for p in plans] == ["gw-a.json", "gw-b.json"]
    for path in plans:
        plan = json.loads(path.read_text())
        assert not list(validator.iter_errors(plan)), path.name
        assert plan["controller"]["pid"] > 1 and plan["today"] == "2026-11-28"
    # The schema holds: a rate in Mbit/s instead of kbit/s, or a key it does not know, is refused.
    plan = json.loads(plans[0].read_text())
    plan["devices"][0]["classes"][0]["rate_kbit"] = 2.5
    plan["devices"][0]["classes"][0]["rate_mbps"] = 2.5
    assert {e.validator for e in validator.iter_errors(plan)} >= {"type", "additionalProperties"}


def test_render_refuses_when_the_check_fails(repo: Repo):
    repo.request("BW-2026-0001", download="{guaranteed_mbps: 95, max_mbps: 100}")
    done = repo.run("render", "--today", "2026-11-28", today=None)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "refusing to render: bandwidth check fails" in done.stderr


@pytest.mark.parametrize(
    ("kbit", "text"),
    [(1, "1Kbit"), (999, "999Kbit"), (1000, "1Mbit"), (12_345, "12345Kbit"), (1_000_000, "1Gbit"), (1_000_500, "1Gbit"), (1_234_567, "1234Mbit"), (2_500_000, "2500Mbit")],
)
def test_rate_text_is_what_tc_prints(kbit, text):
    assert tcstate.rate_text(kbit) == text


def test_u32_buckets_cover_every_address_of_a_subnet():
    assert tcstate.buckets(4, "198.18.10.0/24") == [10]
    assert tcstate.buckets(4, "198.18.10.16/28") == [10]
    assert tcstate.buckets(4, "198.18.4.0/22") == [4, 5, 6, 7]
    assert len(tcstate.buckets(4, "198.18.0.0/16")) == 256
    assert tcstate.buckets(6, "2001:db8:a:10::/64") == [0x10]
    assert len(tcstate.buckets(6, "2001:db8:a:1200::/56")) == 256
    assert tcstate.buckets(6, "2001:db8:a:1200::/60") == list(range(0, 16))


def test_minors_are_stable_and_collisions_probe_for_the_newer_id():
    first = tcstate.assign_minors(["BW-2026-0001", "BW-2026-0002"])
    assert first.items() <= tcstate.assign_minors(["BW-2026-0003", "BW-2026-0002", "BW-2026-0001"]).items()  # a new one moves nobody
    span = tcstate.MINOR_LAST - tcstate.MINOR_FIRST + 1
    old, new = "BW-2026-0001", f"BW-{2026 + span // 10000}-{(20260001 + span) % 10000:04d}"
    assert tcstate.minor_for(old) == tcstate.minor_for(new)
    minors = tcstate.assign_minors([new, old])
    assert minors[old] == tcstate.minor_for(old) and minors[new] == minors[old] + 1


def test_the_plan_folder_keeps_records_and_drops_the_plan_of_a_gateway_gone(repo: Repo):
    """PlanFolder: <gateway>.json is a plan; <gateway>.applied.json, .counters.json and readback.json are not."""
    small_repo(repo)
    plans = repo.path / ".plans"
    plans.mkdir()
    kept = {"gw-old.applied.json": "{}", "gw-a.counters.json": "{}", "readback.json": "[]"}
    for name, text in {**kept, "gw-old.json": "{}"}.items():
        (plans / name).write_text(text)
    done = repo.run("render", "--output-dir", ".plans", "--today", "2026-11-28", today=None)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in plans.iterdir()) == sorted([*kept, "gw-a.json", "gw-b.json"])
    assert all((plans / name).read_text() == text for name, text in kept.items())


@pytest.mark.parametrize(
    ("command", "damage", "named"),
    [
        ("monitor", lambda plan: plan["devices"][0]["classes"][0].update(rate_kbit="10M"), "devices/0/classes/0/rate_kbit"),
        ("monitor", lambda plan: plan.pop("redirects"), "(top)"),
        ("measure", lambda plan: plan["devices"][0].update(device="eth1; reboot"), "devices/0/device"),
    ],
)
def test_a_plan_not_written_by_render_is_a_usage_error_naming_file_and_field(repo: Repo, command: str, damage, named: str):
    small_repo(repo)
    assert repo.run("render", "--output-dir", ".plans", "--today", "2026-11-28", today=None).returncode == 0
    path = repo.path / ".plans/gw-a.json"
    plan = json.loads(path.read_text())
    damage(plan)
    path.write_text(json.dumps(plan))
    done = repo.run(command)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("bandwidth: error: ") and "Traceback" not in done.stderr
    assert f"gw-a.json: not a plan of `bandwidth render --output-dir` ({named}:" in done.stderr


def test_the_typed_plan_reads_back_exactly_what_render_wrote(repo: Repo):
    from bandwidth.shaping.plan import PlanFolder

    small_repo(repo)
    assert repo.run("render", "--output-dir", ".plans", "--today", "2026-11-28", today=None).returncode == 0
    folder = PlanFolder(repo.path / ".plans")
    plans = folder.read_all()
    assert list(plans) == ["gw-a", "gw-b"]
    for name, plan in plans.items():
        assert plan.to_json() == json.loads(folder.plan_path(name).read_text())
    assert plans["gw-a"].labels() == {"BW-2026-0001", "BW-2026-0002"}
    download = plans["gw-a"].devices[0]
    assert (download.classes[0].rate_kbit, download.classes[0].ceil_kbit) == (10_000, 20_000)  # guaranteed_mbps 10, max_mbps 20
