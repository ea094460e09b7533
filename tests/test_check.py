"""`bandwidth check` through the real command: every rule, with file and line."""

from __future__ import annotations

import json
import os

from conftest import ROOT, TODAY, Repo

# ---- the shipped data -------------------------------------------------------


def test_shipped_repository_passes():
    import subprocess

    from conftest import BANDWIDTH

    done = subprocess.run([BANDWIDTH, "check", f"--today={TODAY}"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 error(s)" in done.stdout
    assert "allocation(s) on 2 gateway(s)" in done.stdout


def test_valid_request_passes(repo: Repo):
    repo.request("BW-2026-0001")
    done = repo.check()
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == "0 error(s), 0 warning(s) in 1 request file(s); 1 valid allocation(s) on 2 gateway(s)"


# ---- schema ------------------------------------------------------------------


def test_unknown_key_is_an_error_on_its_line(repo: Repo):
    rel = repo.request("BW-2026-0001", bandwidth="100")
    done = repo.check()
    assert done.returncode == 1
    assert f"{rel}:13: error: unknown key 'bandwidth'" in done.stdout


def test_unknown_nested_key_is_an_error_on_its_line(repo: Repo):
    rel = repo.request("BW-2026-0001", download="{guaranteed_mbps: 10, max_mbps: 20, burst: 5}")
    done = repo.check()
    assert f"{rel}:8: error: unknown key 'burst' in download" in done.stdout


def test_missing_keys_are_each_reported(repo: Repo):
    rel = repo.request("BW-2026-0001", drop=("purpose", "priority"))
    done = repo.check()
    assert done.returncode == 1
    assert f"{rel}:1: error: missing required key 'priority'" in done.stdout
    assert f"{rel}:1: error: missing required key 'purpose'" in done.stdout


def test_end_and_github_are_optional(repo: Repo):
    repo.request("BW-2026-0001", contact="{name: Penguji, email: penguji@example.go.id, github: penguji-1}", end="2027-01-31")
    assert repo.check().returncode == 0


def test_wrong_types_name_the_field_and_hint(repo: Repo):
    rel = repo.request("BW-2026-0001", priority='"3"', agency="[a, b]", letter="{number: 440, date: 2026-11-01}")
    out = repo.check().stdout
    assert f"{rel}:10: error: priority must be a whole number, not a string (write the number without quotes)" in out
    assert f"{rel}:2: error: agency must be a string, not a list" in out
    assert f"{rel}:3: error: letter.number must be a string, not a number (put the value in quotes)" in out


def test_priority_range(repo: Repo):
    rel = repo.request("BW-2026-0001", priority="8")
    out = repo.check().stdout
    assert f"{rel}:10: error: priority:" in out and "maximum of 7" in out


def test_bad_id_format_and_invalid_date(repo: Repo):
    rel = repo.write("allocations/gw-a/BW-26-1.yaml", "")
    rel = repo.request("BW-26-1", start="2026-02-30")
    out = repo.check().stdout
    assert f'{rel}:1: error: id is not in the expected format: "BW-26-1" (expected something like BW-2026-0007)' in out
    assert f'{rel}:11: error: start is not a valid date: "2026-02-30"' in out


# ---- naming ------------------------------------------------------------------


def test_id_must_equal_file_name_and_gateway_the_folder(repo: Repo):
    rel = "allocations/gw-b/BW-2026-0002.yaml"
    repo.write(rel, repo_text("BW-2026-0001", "gw-a"))
    out = repo.check().stdout
    assert f"{rel}:1: error: id BW-2026-0001 does not match the file name BW-2026-0002.yaml" in out
    assert f"{rel}:5: error: gateway gw-a does not match the folder gw-b/" in out


def repo_text(request_id, gateway, **fields):
    from conftest import request_text

    return request_text(request_id, gateway, **fields)


def test_duplicate_ids_across_gateways(repo: Repo):
    a = repo.request("BW-2026-0001", gateway="gw-a")
    b = repo.request("BW-2026-0001", gateway="gw-b", subnets="[198.18.17.0/24]")
    out = repo.check().stdout
    assert f"{a}:1: error: duplicate id BW-2026-0001: also used by {b}" in out
    assert f"{b}:1: error: duplicate id BW-2026-0001: also used by {a}" in out


def test_stray_files_are_errors_never_skipped(repo: Repo):
    repo.request("BW-2026-0001")
    repo.write("allocations/gw-a/BW-2026-0002.yml", repo_text("BW-2026-0002", "gw-a"))
    repo.write("allocations/README.md", "notes")
    repo.write("allocations/gw-a/old/BW-2026-0003.yaml", "x: 1")
    os.symlink("/etc/hostname", repo.path / "allocations/gw-a/BW-2026-0004.yaml")
    done = repo.check()
    assert done.returncode == 1
    out = done.stdout
    assert "allocations/gw-a/BW-2026-0002.yml:1: error: stray file: only <id>.yaml request files belong here (rename it to BW-2026-0002.yaml)" in out
    assert "allocations/README.md:1: error: stray file" in out
    assert "allocations/gw-a/old:1: error: unexpected folder" in out
    assert "allocations/gw-a/BW-2026-0004.yaml:1: error: symbolic links are not allowed here" in out
    assert "1 valid allocation(s)" in out


# ---- inventory references and rates -----------------------------------------


def test_unknown_gateway_and_uplink(repo: Repo):
    a = repo.request("BW-2026-0001", gateway="gw-x")
    b = repo.request("BW-2026-0002", uplink="isp-z", subnets="[198.18.2.0/24]")
    out = repo.check().stdout
    assert f"{a}:5: error: unknown gateway gw-x (gateways in inventory/production: gw-a, gw-b)" in out
    assert f"{b}:6: error: unknown uplink isp-z on gw-a (its uplinks: isp-a, isp-b)" in out


def test_guaranteed_above_max(repo: Repo):
    rel = repo.request("BW-2026-0001", upload="{guaranteed_mbps: 11, max_mbps: 10}")
    out = repo.check().stdout
    assert f"{rel}:9: error: upload: guaranteed_mbps (11) is more than max_mbps (10)" in out


def test_max_above_uplink_capacity(repo: Repo):
    rel = repo.request("BW-2026-0001", download="{guaranteed_mbps: 10, max_mbps: 100.001}")
    out = repo.check().stdout
    assert f"{rel}:8: error: download.max_mbps 100.001 is more than the download capacity of gw-a/isp-a (100 Mbit/s)" in out


def test_rates_take_three_decimals_exactly(repo: Repo):
    repo.request("BW-2026-0001", download="{guaranteed_mbps: 0.001, max_mbps: 12.345}")
    assert repo.check().returncode == 0
    rel = repo.request("BW-2026-0002", subnets="[198.18.2.0/24]", download="{guaranteed_mbps: 1.0005, max_mbps: 2}")
    out = repo.check().stdout
    assert f"{rel}:8: error: download.guaranteed_mbps: 1.0005 Mbit/s has more than 3 decimals" in out


def test_non_finite_zero_and_negative_rates(repo: Repo):
    rel = repo.request("BW-2026-0001", download="{guaranteed_mbps: .nan, max_mbps: .inf}", upload="{guaranteed_mbps: -5, max_mbps: 0}")
    done = repo.check()
    assert done.returncode == 1
    out = done.stdout
    assert f"{rel}:8: error: .nan is not a finite number" in out
    assert f"{rel}:8: error: .inf is not a finite number" in out
    assert f"{rel}:9: error: upload.guaranteed_mbps:" in out
    assert f"{rel}:9: error: upload.max_mbps:" in out
    assert "Traceback" not in done.stderr


# ---- capacity -----------------------------------------------------------------


def test_capacity_sum_overflow_names_uplink_period_sum_free_and_files(repo: Repo):
    # isp-a download: 100 Mbit/s, 10% reserve -> 90 can be guaranteed.
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24]", download="{guaranteed_mbps: 50, max_mbps: 60}")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/24]", download="{guaranteed_mbps: 30, max_mbps: 60}")
    rel = repo.request("BW-2026-0003", subnets="[198.18.3.0/24]", download="{guaranteed_mbps: 20.5, max_mbps: 60}")
    done = repo.check()
    assert done.returncode == 1
    lines = [line for line in done.stdout.splitlines() if "capacity of" in line]
    assert lines == [
        f"{rel}:8: error: download capacity of gw-a/isp-a exceeded from {TODAY} on: guaranteed rates sum to 100.5 Mbit/s (on {TODAY}), "
        "but only 90 can be guaranteed (100 minus 10% reserve), 10.5 over; 10 Mbit/s is free for BW-2026-0003; "
        "taken by: BW-2026-0001 50, BW-2026-0002 30, BW-2026-0003 20.5"
    ]


def test_exactly_full_uplink_fits(repo: Repo):
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24]", download="{guaranteed_mbps: 45, max_mbps: 60}")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/24]", download="{guaranteed_mbps: 45, max_mbps: 60}")
    assert repo.check().returncode == 0


def test_temporary_allocations_count_only_in_their_window(repo: Repo):
    # Each takes 60 of 90; together they would not fit, but their windows do not meet.
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24]", download="{guaranteed_mbps: 60, max_mbps: 60}", start="2026-12-01", end="2026-12-31")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/24]", download="{guaranteed_mbps: 60, max_mbps: 60}", start="2027-01-01", end="2027-01-31")
    assert repo.check().returncode == 0, repo.check().stdout
    # A third one that meets both windows on 2026-12-31 and 2027-01-01 only.
    rel = repo.request("BW-2026-0003", subnets="[198.18.3.0/24]", download="{guaranteed_mbps: 40, max_mbps: 60}", start="2026-12-31", end="2027-01-01")
    out = repo.check().stdout
    assert f"{rel}:8: error: download capacity of gw-a/isp-a exceeded from 2026-12-31 to 2027-01-01: guaranteed rates sum to 100 Mbit/s (on 2026-12-31)" in out


def test_expired_allocations_do_not_take_capacity(repo: Repo):
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24]", download="{guaranteed_mbps: 80, max_mbps: 80}", start="2026-01-01", end="2026-06-30")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/24]", download="{guaranteed_mbps: 80, max_mbps: 80}")
    done = repo.check()
    assert done.returncode == 0
    assert "allocations/gw-a/BW-2026-0001.yaml:13: warning: expired on 2026-06-30: remove this file (git rm allocations/gw-a/BW-2026-0001.yaml)" in done.stdout


def test_upload_and_other_uplinks_are_separate_budgets(repo: Repo):
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24]", download="{guaranteed_mbps: 90, max_mbps: 90}", upload="{guaranteed_mbps: 45, max_mbps: 45}")
    repo.request("BW-2026-0002", uplink="isp-b", subnets="[198.18.2.0/24]", download="{guaranteed_mbps: 50, max_mbps: 50}", upload="{guaranteed_mbps: 50, max_mbps: 50}")
    assert repo.check().returncode == 0
    rel = repo.request("BW-2026-0003", subnets="[198.18.3.0/24]", download="{guaranteed_mbps: 0.001, max_mbps: 1}", upload="{guaranteed_mbps: 0.001, max_mbps: 1}")
    out = repo.check().stdout
    assert f"{rel}:8: error: download capacity of gw-a/isp-a exceeded" in out
    assert f"{rel}:9: error: upload capacity of gw-a/isp-a exceeded" in out
    assert "isp-b exceeded" not in out


# ---- subnets ------------------------------------------------------------------


def test_subnet_errors(repo: Repo):
    rel = repo.request("BW-2026-0001", subnets="[198.18.1.1/24, 198.18.300.0/24, 0.0.0.0/0, 198.16.0.0/12, 224.0.0.0/24]")
    out = repo.check().stdout
    assert f"{rel}:7: error: subnets: 198.18.1.1/24 has host bits set (the network address is 198.18.1.0/24)" in out
    assert f"{rel}:7: error: subnets: 198.18.300.0/24 is not a valid IPv4 or IPv6 network" in out
    assert f"{rel}:7: error: subnets: 0.0.0.0/0 is a default route, not an agency network" in out
    assert f"{rel}:7: error: subnets: 198.16.0.0/12 is too large: IPv4 networks must be /16 or smaller" in out
    assert f"{rel}:7: error: subnets: 224.0.0.0/24 is a multicast, loopback, link-local or unspecified range" in out


def test_subnet_line_in_block_list(repo: Repo):
    rel = repo.request("BW-2026-0001", subnets="\n  - 198.18.1.0/24\n  - 198.18.99.0/24")
    out = repo.check().stdout
    assert f"{rel}:9: error: subnet 198.18.99.0/24 is outside the networks behind gw-a (198.18.0.0/20, 2001:db8:a::/48)" in out


def test_ipv6_subnets(repo: Repo):
    repo.request("BW-2026-0001", subnets="['2001:db8:a:10::/64', 198.18.1.0/24]")
    assert repo.check().returncode == 0
    rel = repo.request("BW-2026-0002", subnets="['2001:db8:a:10:1::/80']")
    out = repo.check().stdout
    assert f"{rel}:7: error: subnet 2001:db8:a:10:1::/80 overlaps 2001:db8:a:10::/64 of BW-2026-0001" in out


def test_overlapping_subnets_in_overlapping_periods(repo: Repo):
    a = repo.request("BW-2026-0001", subnets="[198.18.0.0/22]")
    b = repo.request("BW-2026-0002", subnets="[198.18.2.0/24]")
    out = repo.check().stdout
    assert f"{b}:7: error: subnet 198.18.2.0/24 overlaps 198.18.0.0/22 of BW-2026-0001 ({a}) in the same period" in out
    assert f"{a}:7: error: subnet 198.18.0.0/22 overlaps 198.18.2.0/24 of BW-2026-0002 ({b}) in the same period" in out


def test_same_subnet_in_disjoint_periods_is_fine(repo: Repo):
    repo.request("BW-2026-0001", subnets="[198.18.2.0/24]", start="2026-12-01", end="2026-12-31")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/24]", start="2027-01-01")
    assert repo.check().returncode == 0


def test_overlap_inside_one_file(repo: Repo):
    rel = repo.request("BW-2026-0001", subnets="[198.18.0.0/23, 198.18.1.0/24]")
    assert f"{rel}:7: error: subnets: 198.18.1.0/24 overlaps 198.18.0.0/23 listed in the same file" in repo.check().stdout


# ---- dates --------------------------------------------------------------------


def test_end_before_start(repo: Repo):
    rel = repo.request("BW-2026-0001", start="2026-12-10", end="2026-12-09")
    assert f"{rel}:13: error: end 2026-12-09 is before start 2026-12-10" in repo.check().stdout


def test_one_day_allocation_is_valid(repo: Repo):
    repo.request("BW-2026-0001", start="2026-12-10", end="2026-12-10")
    assert repo.check().returncode == 0


# ---- output formats and exit codes --------------------------------------------


def test_json_format(repo: Repo):
    repo.request("BW-2026-0001")
    rel = repo.request("BW-2026-0002", subnets="[198.18.1.0/24]")
    done = repo.check("--format", "json")
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert document["ok"] is False
    assert document["errors"] == 2
    assert {"path": rel, "line": 7, "severity": "error", "rule": "subnets"}.items() <= document["problems"][1].items()
    assert [a["id"] for a in document["allocations"]] == ["BW-2026-0001", "BW-2026-0002"]


def test_github_format_annotates_the_exact_line(repo: Repo):
    rel = repo.request("BW-2026-0001", priority="9")
    out = repo.check("--format", "github").stdout
    assert out.startswith(f"::error file={rel},line=10,title=bandwidth check%3A schema::priority: 9 is greater than the maximum of 7\n")


def test_usage_errors_exit_2(repo: Repo):
    assert repo.check("--format", "xml").returncode == 2
    done = repo.check("--inventory", "inventory/nowhere")
    assert done.returncode == 2
    assert "bandwidth: error: inventory/nowhere: no hosts.yml inventory found" in done.stderr
    done = repo.check("--summary", "/nonexistent/dir/form.md")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_empty_repository_passes(repo: Repo):
    assert repo.check().returncode == 0


def test_inventory_problems_are_reported_with_lines(repo: Repo):
    repo.write("inventory/production/host_vars/gw-b.yml", GW_B_BAD)
    repo.request("BW-2026-0001")
    done = repo.check()
    assert done.returncode == 1
    assert "inventory/production/host_vars/gw-b.yml:3: error: bandwidth_uplinks.0.reserve_percent:" in done.stdout
    assert "inventory/production/host_vars/gw-b.yml:4: error: unknown key 'speed' in bandwidth_uplinks.1" in done.stdout


GW_B_BAD = """\
bandwidth_lan_networks: [198.18.16.0/20]
bandwidth_uplinks:
  - {name: isp-a, download_mbps: 100, upload_mbps: 100, reserve_percent: 95, lan_interface: eth1}
  - {name: isp-b, download_mbps: 100, upload_mbps: 100, reserve_percent: 5, lan_interface: eth2, speed: 1}
"""
