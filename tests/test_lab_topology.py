"""The lab's plan (bandwidth.lab.topology): inventory, allocations and a date -> the lab description.

No root and no namespaces: the plan is made as `bandwidth lab up` makes it before it builds
anything (the `lab_plan` fixture), and only its output is checked.
"""

from __future__ import annotations

import ipaddress
import json
import re

import pytest

from bandwidth.lab import LabError
from conftest import GW_B

V4_RANGE = ipaddress.ip_network("198.18.0.0/15")  # RFC 2544
V6_RANGE = ipaddress.ip_network("2001:2::/48")  # RFC 5180
LINUX_IFNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,14}\Z")  # IFNAMSIZ: 15 characters and the NUL
GW_B_DUAL_STACK = "bandwidth_lan_networks: [198.18.16.0/20, 2001:2:0:100::/56]\n" + GW_B.split("\n", 1)[1]


def in_benchmarking_range(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip in (V4_RANGE if ip.version == 4 else V6_RANGE)


def link_addresses(doc: dict) -> list[str]:
    """Every address of the gateways' own links: both ends of each management and transit link."""
    found = []
    for gw in doc["gateways"]:
        found += [gw["mgmt"]["root_address"], gw["mgmt"]["address"]]
        for uplink in gw["uplinks"]:
            found += [uplink[key] for key in ("gateway_address", "server_address", "gateway_address6", "server_address6")]
    return found


def link_networks(doc: dict) -> list:
    networks = []
    for gw in doc["gateways"]:
        networks.append(ipaddress.ip_interface(f"{gw['mgmt']['address']}/{gw['mgmt']['prefixlen']}").network)
        for uplink in gw["uplinks"]:
            networks.append(ipaddress.ip_interface(f"{uplink['gateway_address']}/{uplink['prefixlen']}").network)
            networks.append(ipaddress.ip_interface(f"{uplink['gateway_address6']}/{uplink['prefixlen6']}").network)
    return networks


def interfaces(doc: dict) -> list[tuple[str, str]]:
    """(namespace, interface name) of every interface the plan names; "" is the root namespace."""
    found = []
    switches = {}
    for gw in doc["gateways"]:
        found += [("", gw["mgmt"]["root_interface"]), (gw["namespace"], gw["mgmt"]["interface"])]
        for uplink in gw["uplinks"]:
            switches[gw["name"], uplink["name"]] = uplink["switch_namespace"]
            found += [(gw["namespace"], uplink["lan_interface"]), (gw["namespace"], uplink["wan_interface"])]
            found += [(uplink["switch_namespace"], uplink["bridge"]), (uplink["switch_namespace"], uplink["switch_port"])]
            found.append((uplink["upstream_namespace"], uplink["upstream_interface"]))
    for client in doc["clients"]:
        found += [(client["namespace"], client["interface"]), (switches[client["gateway"], client["uplink"]], client["switch_port"])]
    return found


def write_gateways(repo, count: int, uplinks: int, lan_interface=lambda u: f"enp0s31f6.1234{u}") -> None:
    """An inventory of `count` gateways gw-00.. with `uplinks` uplinks each; LAN 198.18.<g>.0/24 and 2001:2:0:<g>00::/56."""
    for old in (repo.path / "inventory/production/host_vars").iterdir():
        old.unlink()
    hosts = "".join(f"        gw-{g:02d}: {{}}\n" for g in range(count))
    repo.write("inventory/production/hosts.yml", "all:\n  children:\n    gateways:\n      hosts:\n" + hosts)
    lines = "".join(f"  - {{name: isp-{u}, download_mbps: 100, upload_mbps: 100, reserve_percent: 0, lan_interface: {lan_interface(u)}}}\n" for u in range(uplinks))
    for g in range(count):
        repo.write(f"inventory/production/host_vars/gw-{g:02d}.yml", f"bandwidth_lan_networks: [198.18.{g}.0/24, 2001:2:0:{g:x}00::/56]\nbandwidth_uplinks:\n{lines}")


def test_gateways_get_distinct_management_and_transit_addresses_in_the_benchmarking_ranges(lab_plan):
    doc = lab_plan()
    assert [(gw["name"], gw["index"], gw["namespace"]) for gw in doc["gateways"]] == [("gw-a", 0, "bwlab-gw-a"), ("gw-b", 1, "bwlab-gw-b")]
    mgmt = [(gw["mgmt"]["root_interface"], gw["mgmt"]["root_address"], gw["mgmt"]["interface"], gw["mgmt"]["address"], gw["mgmt"]["prefixlen"]) for gw in doc["gateways"]]
    assert mgmt == [("bwlab-m0", "198.19.255.1", "mgmt0", "198.19.255.2", 30), ("bwlab-m1", "198.19.255.5", "mgmt0", "198.19.255.6", 30)]
    assert doc["links"] == ["bwlab-m0", "bwlab-m1"]
    transit = [(gw["name"], u["name"], u["gateway_address"], u["server_address"], u["gateway_address6"], u["server_address6"]) for gw in doc["gateways"] for u in gw["uplinks"]]
    assert transit == [
        ("gw-a", "isp-a", "198.19.0.1", "198.19.0.2", "2001:2:0:ff00::1", "2001:2:0:ff00::2"),
        ("gw-a", "isp-b", "198.19.1.1", "198.19.1.2", "2001:2:0:ff01::1", "2001:2:0:ff01::2"),
        ("gw-b", "isp-a", "198.19.8.1", "198.19.8.2", "2001:2:0:ff08::1", "2001:2:0:ff08::2"),
    ]
    addresses = link_addresses(doc)
    assert len(addresses) == len(set(addresses)) == 2 * 2 + 3 * 4
    assert all(in_benchmarking_range(a) for a in addresses), addresses
    # Each link is a network of its own, in the lab's part of the ranges: never an agency's.
    networks = link_networks(doc)
    assert not [(a, b) for i, a in enumerate(networks) for b in networks[i + 1 :] if a.version == b.version and a.overlaps(b)]
    assert all(n.subnet_of(ipaddress.ip_network("198.19.0.0/16" if n.version == 4 else "2001:2:0:ff00::/56")) for n in networks)


def test_each_allocation_gets_a_client_in_its_own_subnet_with_one_server_address_per_family(repo, lab_plan):
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24]")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/28, 198.18.2.16/28]")
    repo.request("BW-2026-0003", uplink="isp-b", subnets="[198.18.3.0/24]")
    repo.request("BW-2026-0004", "gw-b", subnets="[198.18.16.0/24]", priority="7")
    doc = lab_plan()

    placed = [(c["id"], c["gateway"], c["uplink"], c["namespace"], c["interface"], c["switch_port"]) for c in doc["clients"]]
    assert placed == [
        ("BW-2026-0001", "gw-a", "isp-a", "bwlab-gw-a-bw-2026-0001", "lan0", "p1"),
        ("BW-2026-0002", "gw-a", "isp-a", "bwlab-gw-a-bw-2026-0002", "lan0", "p2"),
        ("BW-2026-0003", "gw-a", "isp-b", "bwlab-gw-a-bw-2026-0003", "lan0", "p1"),
        ("BW-2026-0004", "gw-b", "isp-a", "bwlab-gw-b-bw-2026-0004", "lan0", "p1"),
    ]
    clients = {c["id"]: c for c in doc["clients"]}
    two = clients["BW-2026-0002"]
    assert (two["subnets"], two["addresses"], two["gateway_addresses"]) == (
        ["198.18.2.0/28", "198.18.2.16/28"],
        ["198.18.2.2/28", "198.18.2.18/28"],
        ["198.18.2.1/28", "198.18.2.17/28"],
    )
    assert (two["address"], two["gateway_address"]) == ("198.18.2.2", "198.18.2.1")  # its default route: the first subnet's
    for client in doc["clients"]:  # the client network+2 and the gateway network+1, in each subnet of its own
        for subnet, address, gateway in zip(client["subnets"], client["addresses"], client["gateway_addresses"], strict=True):
            network = ipaddress.ip_network(subnet)
            assert ipaddress.ip_interface(address) == ipaddress.ip_interface(f"{network.network_address + 2}/{network.prefixlen}")
            assert ipaddress.ip_interface(gateway) == ipaddress.ip_interface(f"{network.network_address + 1}/{network.prefixlen}")
    subnets = [ipaddress.ip_network(s) for c in doc["clients"] for s in c["subnets"]]
    assert not [(a, b) for i, a in enumerate(subnets) for b in subnets[i + 1 :] if a.overlaps(b)]

    # IPv4 only: one family each, served by its uplink's upstream on a port of its own.
    served = {c["id"]: c["families"] for c in doc["clients"]}
    assert served == {
        "BW-2026-0001": {"ipv4": {"address": "198.18.1.2", "gateway_address": "198.18.1.1", "server_address": "198.19.0.2", "server_port": 5201}},
        "BW-2026-0002": {"ipv4": {"address": "198.18.2.2", "gateway_address": "198.18.2.1", "server_address": "198.19.0.2", "server_port": 5202}},
        "BW-2026-0003": {"ipv4": {"address": "198.18.3.2", "gateway_address": "198.18.3.1", "server_address": "198.19.1.2", "server_port": 5201}},
        "BW-2026-0004": {"ipv4": {"address": "198.18.16.2", "gateway_address": "198.18.16.1", "server_address": "198.19.8.2", "server_port": 5201}},
    }
    uplinks = {(gw["name"], u["name"]): u for gw in doc["gateways"] for u in gw["uplinks"]}
    assert {key: (u["clients"], [(s["port"], s["address"]) for s in u["servers"]]) for key, u in uplinks.items()} == {
        ("gw-a", "isp-a"): (["BW-2026-0001", "BW-2026-0002"], [(5201, "198.19.0.2"), (5202, "198.19.0.2")]),
        ("gw-a", "isp-b"): (["BW-2026-0003"], [(5201, "198.19.1.2")]),
        ("gw-b", "isp-a"): (["BW-2026-0004"], [(5201, "198.19.8.2")]),
    }
    server = uplinks["gw-a", "isp-a"]["servers"][1]
    assert (server["pid_file"], server["log"]) == (str(repo.path / "lab/run/iperf3-gw-a-isp-a-5202.pid"), str(repo.path / "lab/log/iperf3-gw-a-isp-a-5202.log"))
    four = clients["BW-2026-0004"]
    assert (four["download"], four["upload"], four["priority"]) == ({"guaranteed_kbit": 10000, "max_kbit": 20000}, {"guaranteed_kbit": 5000, "max_kbit": 10000}, 7)
    assert doc["skipped"] == [{"id": "gw-a", "reason": "LAN network 2001:db8:a::/48 is outside 2001:2::/49, the lab's agency range: not routed"}]
    assert doc["namespaces"] == [
        "bwlab-gw-a",
        "bwlab-gw-a-isp-a-lan",
        "bwlab-gw-a-isp-a-wan",
        "bwlab-gw-a-bw-2026-0001",
        "bwlab-gw-a-bw-2026-0002",
        "bwlab-gw-a-isp-b-lan",
        "bwlab-gw-a-isp-b-wan",
        "bwlab-gw-a-bw-2026-0003",
        "bwlab-gw-b",
        "bwlab-gw-b-isp-a-lan",
        "bwlab-gw-b-isp-a-wan",
        "bwlab-gw-b-bw-2026-0004",
    ]


def test_without_clients_each_uplink_still_has_one_server(repo, lab_plan):
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24]")
    doc = lab_plan(clients=False)
    assert doc["clients"] == [] and not any(ns.endswith("bw-2026-0001") for ns in doc["namespaces"])
    assert [(u["clients"], [(s["port"], s["address"]) for s in u["servers"]]) for gw in doc["gateways"] for u in gw["uplinks"]] == [
        ([], [(5201, "198.19.0.2")]),
        ([], [(5201, "198.19.1.2")]),
        ([], [(5201, "198.19.8.2")]),
    ]


def test_ipv6_only_and_dual_stack_allocations_get_their_families(repo, lab_plan):
    repo.write("inventory/production/host_vars/gw-b.yml", GW_B_DUAL_STACK)
    repo.request("BW-2026-0001", "gw-b", subnets="[2001:2:0:101::/64]")
    repo.request("BW-2026-0002", "gw-b", subnets="[2001:2:0:102::/64, 198.18.16.0/24]")  # IPv6 listed first
    repo.request("BW-2026-0003", "gw-b", subnets="[198.18.17.0/24]")
    doc = lab_plan()

    gw_b = doc["gateways"][1]
    assert gw_b["lan_networks"] == ["198.18.16.0/20", "2001:2:0:100::/56"]  # both routed back from upstream
    clients = {c["id"]: c for c in doc["clients"]}
    v6 = clients["BW-2026-0001"]
    assert v6["families"] == {"ipv6": {"address": "2001:2:0:101::2", "gateway_address": "2001:2:0:101::1", "server_address": "2001:2:0:ff08::2", "server_port": 5201}}
    assert (v6["address"], v6["gateway_address"], v6["server_address"], v6["server_port"]) == ("2001:2:0:101::2", "2001:2:0:101::1", "2001:2:0:ff08::2", 5201)
    assert (v6["addresses"], v6["gateway_addresses"]) == (["2001:2:0:101::2/64"], ["2001:2:0:101::1/64"])

    dual = clients["BW-2026-0002"]
    assert list(dual["families"]) == ["ipv4", "ipv6"]
    assert dual["families"] == {
        "ipv4": {"address": "198.18.16.2", "gateway_address": "198.18.16.1", "server_address": "198.19.8.2", "server_port": 5202},
        "ipv6": {"address": "2001:2:0:102::2", "gateway_address": "2001:2:0:102::1", "server_address": "2001:2:0:ff08::2", "server_port": 5203},
    }
    # The first family is IPv4 whenever there is one, whatever the order of the request's subnets.
    assert (dual["address"], dual["gateway_address"], dual["server_address"], dual["server_port"]) == ("198.18.16.2", "198.18.16.1", "198.19.8.2", 5202)
    assert dual["addresses"] == ["2001:2:0:102::2/64", "198.18.16.2/24"]

    assert list(clients["BW-2026-0003"]["families"]) == ["ipv4"]
    assert clients["BW-2026-0003"]["families"]["ipv4"]["server_port"] == 5204
    # One iperf3 server per client and family, each on its family's upstream address.
    servers = [(s["port"], s["address"]) for s in gw_b["uplinks"][0]["servers"]]
    assert servers == [(5201, "2001:2:0:ff08::2"), (5202, "198.19.8.2"), (5203, "2001:2:0:ff08::2"), (5204, "198.19.8.2")]
    assert gw_b["uplinks"][0]["ports_used"] == 4
    given = [a.split("/")[0] for c in doc["clients"] for a in c["addresses"] + c["gateway_addresses"]] + link_addresses(doc)
    assert all(in_benchmarking_range(a) for a in given), given


def test_allocations_the_lab_cannot_build_are_skipped_with_their_reason(repo, lab_plan):
    repo.request("BW-2026-0001", "gw-z", subnets="[198.18.1.0/24]")  # no such gateway
    repo.request("BW-2026-0002", uplink="isp-z", subnets="[198.18.2.0/24]")  # no such uplink
    repo.request("BW-2026-0003", subnets="[10.1.2.0/24]")  # outside 198.18.0.0/15
    repo.request("BW-2026-0004", subnets="[198.18.4.0/24, 2001:db8:a:1::/64]")  # IPv6 outside 2001:2::/48: IPv4 only
    repo.request("BW-2026-0005", subnets="[198.19.5.0/24]")  # the lab's own links, never an agency's
    repo.request("BW-2026-0006", subnets="[198.18.6.0/24]", start="2027-01-01")  # not in force yet: neither
    doc = lab_plan()

    assert doc["skipped"] == [
        {"id": "BW-2026-0001", "reason": "gw-z/isp-a is not in the inventory"},
        {"id": "BW-2026-0002", "reason": "gw-a/isp-z is not in the inventory"},
        {"id": "gw-a", "reason": "LAN network 2001:db8:a::/48 is outside 2001:2::/49, the lab's agency range: not routed"},
        {"id": "BW-2026-0003", "reason": "subnet 10.1.2.0/24 is outside 198.18.0.0/16, the lab's agency range"},
        {"id": "BW-2026-0003", "reason": "no subnet the lab can use: no client"},
        {"id": "BW-2026-0004", "reason": "subnet 2001:db8:a:1::/64 is outside 2001:2::/49, the lab's agency range"},
        {"id": "BW-2026-0005", "reason": "subnet 198.19.5.0/24 is outside 198.18.0.0/16, the lab's agency range"},
        {"id": "BW-2026-0005", "reason": "no subnet the lab can use: no client"},
    ]
    assert [c["id"] for c in doc["clients"]] == ["BW-2026-0004"]
    assert (doc["clients"][0]["subnets"], list(doc["clients"][0]["families"])) == (["198.18.4.0/24"], ["ipv4"])
    assert doc["gateways"][0]["lan_networks"] == ["198.18.0.0/20"]
    assert not [ns for ns in doc["namespaces"] if ns.endswith(("0001", "0002", "0003", "0005", "0006"))]


def test_the_plan_is_deterministic(repo, lab_plan):
    repo.write("inventory/production/host_vars/gw-b.yml", GW_B_DUAL_STACK)
    repo.request("BW-2026-0003", subnets="[198.18.3.0/24]")
    repo.request("BW-2026-0001", uplink="isp-b", subnets="[198.18.1.0/24]")
    repo.request("BW-2026-0007", "gw-b", subnets="[2001:2:0:107::/64, 198.18.17.0/24]")
    repo.request("BW-2026-0002", subnets="[198.18.3.128/25]")  # overlaps 0003's: the lower id keeps it, whatever the order read
    repo.request("BW-2026-0005", "gw-b", subnets="[2001:2:0:105::/64]")
    first = lab_plan()

    assert lab_plan() == first
    again = lab_plan(order=lambda allocations: list(reversed(allocations)))
    assert json.dumps(again) == json.dumps(first)  # key order too: lab.json comes out byte for byte the same
    assert lab_plan(order=lambda allocations: allocations[2:] + allocations[:2]) == first
    # Nothing of the moment it is made: no time, no pid.
    assert (first["state"], first["created"], first["today"]) == ("building", None, "2026-11-28")
    daemons = [gw["sshd"] for gw in first["gateways"]] + [s for gw in first["gateways"] for u in gw["uplinks"] for s in u["servers"]]
    assert {(d["pid"], d["starttime"]) for d in daemons} == {(None, None)}
    assert [(c["id"], c["uplink"], c["switch_port"]) for c in first["clients"]] == [
        ("BW-2026-0002", "isp-a", "p1"),
        ("BW-2026-0001", "isp-b", "p1"),
        ("BW-2026-0005", "isp-a", "p1"),
        ("BW-2026-0007", "isp-a", "p2"),
    ]
    assert [s for s in first["skipped"] if s["id"] == "BW-2026-0003"] == [
        {"id": "BW-2026-0003", "reason": "subnet 198.18.3.0/24 overlaps a subnet of BW-2026-0002 on gw-a"},
        {"id": "BW-2026-0003", "reason": "no subnet the lab can use: no client"},
    ]


def test_every_interface_name_fits_15_characters_in_the_largest_lab(repo, lab_plan):
    write_gateways(repo, 31, 8)  # the most the lab has room for
    for n in range(1, 13):
        repo.request(f"BW-2026-{n:04d}", "gw-30", uplink="isp-7", subnets=f"[198.18.30.{16 * (n - 1)}/28]")
    doc = lab_plan()

    names = interfaces(doc)
    assert len(names) == 31 * 2 + 31 * 8 * 5 + 12 * 2
    assert [name for _namespace, name in names if not LINUX_IFNAME.match(name)] == []
    assert len(set(names)) == len(names)  # never two interfaces of one name in one namespace
    last = doc["gateways"][-1]
    assert (last["name"], last["mgmt"]["root_interface"], last["mgmt"]["root_address"], last["mgmt"]["address"]) == ("gw-30", "bwlab-m30", "198.19.255.121", "198.19.255.122")
    uplink = last["uplinks"][-1]
    assert (uplink["lan_interface"], uplink["wan_interface"], uplink["upstream_interface"], uplink["bridge"], uplink["switch_port"]) == ("enp0s31f6.12347", "wan7", "wan0", "br0", "p0")
    assert (uplink["gateway_address"], uplink["server_address"], uplink["gateway_address6"]) == ("198.19.247.1", "198.19.247.2", "2001:2:0:fff7::1")
    assert [(c["interface"], c["switch_port"]) for c in doc["clients"]] == [("lan0", f"p{n}") for n in range(1, 13)]
    addresses = link_addresses(doc)
    assert len(addresses) == len(set(addresses)) == 31 * 2 + 31 * 8 * 4
    assert all(in_benchmarking_range(a) for a in addresses)
    networks = link_networks(doc)
    assert not [(a, b) for i, a in enumerate(networks) for b in networks[i + 1 :] if a.version == b.version and a.overlaps(b)]


def test_what_the_lab_cannot_name_is_an_error(repo, lab_plan):
    write_gateways(repo, 32, 1)
    with pytest.raises(LabError, match=r"^the lab has room for 31 gateways, the inventory has 32$"):
        lab_plan()
    write_gateways(repo, 1, 9)
    with pytest.raises(LabError, match=r"^gw-00: the lab has room for 8 uplinks per gateway, it has 9$"):
        lab_plan()
    write_gateways(repo, 1, 2, lan_interface=lambda u: f"wan{u}")  # the lab's own name for an uplink's transit veth
    with pytest.raises(LabError, match=r"^gw-00/isp-0: lan_interface 'wan0' cannot be used in the lab \(at most 15 characters; not lo, mgmt0 or wan<n>\)$"):
        lab_plan()
