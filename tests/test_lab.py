"""`bandwidth lab`: the inventory replicated in network namespaces, with real SSH and iperf3.

The tests marked `lab` need root, iproute2, sshd and iperf3. They build one lab from the
shipped inventory and allocations in a temporary folder, and always take it down again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from bandwidth import lab as lab_module
from bandwidth.allocations import loader
from bandwidth.commands import lab as lab_command
from bandwidth.lab import processes as lab_processes
from bandwidth.lab import runner as lab_runner
from conftest import GW_B, ROOT

TODAY = "2026-11-28"  # every shipped allocation is in force
LAB_RANGE = ipaddress.IPv4Network("198.18.0.0/15")


def lab_cli(*argv: str, repo: Path = ROOT) -> int:
    """`bandwidth lab ...` in this process, as the CLI calls it."""
    parser = argparse.ArgumentParser(prog="bandwidth lab")
    parser.set_defaults(repo=repo)
    lab_command.add_arguments(parser)
    return lab_module.run(parser.parse_args(list(argv)))


def netns_list() -> list[str]:
    return sorted(name for name in os.listdir("/run/netns") if name.startswith("bwlab-")) if os.path.isdir("/run/netns") else []


def root_links() -> list[str]:
    return sorted(name for name in os.listdir("/sys/class/net") if name.startswith("bwlab-m"))


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def processes_naming(folder: Path) -> list[str]:
    """Live processes whose command line names the folder (the lab's sshd and iperf3 do)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and alive(int(name)):
            try:
                cmdline = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(folder) + "/" in cmdline:
                found.append(f"{name}: {cmdline}")
    return found


class Lab:
    def __init__(self, path: Path):
        self.path = path

    @property
    def doc(self) -> dict:
        return json.loads((self.path / "lab.json").read_text())

    def up(self, *extra: str) -> int:
        return lab_cli("up", "--lab-dir", str(self.path), "--today", TODAY, *extra)

    def down(self) -> int:
        return lab_cli("down", "--lab-dir", str(self.path))

    def ssh(self, gateway: dict, *command: str) -> subprocess.CompletedProcess:
        ssh = self.doc["ssh"]
        argv = ["ssh", "-F", "none", "-i", ssh["private_key"], "-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={ssh['known_hosts']}", "-o", "StrictHostKeyChecking=yes"]
        argv += ["-o", "BatchMode=yes", "-o", "ConnectTimeout=5", f"root@{gateway['mgmt']['address']}", *command]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)

    def pids(self) -> list[int]:
        doc = self.doc
        pids = [gw["sshd"]["pid"] for gw in doc["gateways"]]
        return pids + [server["pid"] for gw in doc["gateways"] for uplink in gw["uplinks"] for server in uplink["servers"]]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    instance = Lab(tmp_path_factory.mktemp("bwlab") / "lab")
    try:
        assert instance.up() == 0
        yield instance
    finally:
        instance.down()


@pytest.fixture
def lab_up(lab: Lab):
    """The module's lab, up; rebuilt afterwards by the tests that take it down."""
    if not (lab.path / "lab.json").exists() or lab.doc["state"] != "up":
        assert lab.up() == 0
    return lab


# ---------------------------------------------------------------------------------------------
# The plan (no root needed)


def test_plan_addresses_ports_and_skips(repo):
    repo.request("BW-2026-0001", subnets="[198.18.1.0/24, 2001:db8:a:1::/64]")
    repo.request("BW-2026-0002", subnets="[198.18.2.0/31]")
    repo.request("BW-2026-0003", uplink="isp-b", subnets="[198.18.3.0/28, 198.18.4.0/30]")
    repo.request("BW-2026-0004", "gw-b", start="2027-01-01", subnets="[198.18.17.0/24]")
    repo.request("BW-2026-0005", "gw-b", subnets="[198.18.16.0/24]")
    repo.request("BW-2026-0006", subnets="[198.18.5.0/24]")
    inventory, problems = loader.load_inventory(repo.path, "inventory/production")
    assert not problems
    allocations, found, _blobs, _files = loader.load_allocations(repo.path)
    assert not found
    doc = lab_module.plan(inventory, allocations, dt.date(2026, 11, 28), lab_dir=repo.path / "lab", root=repo.path, source_inventory=repo.path / "inventory/production")

    gw_a, gw_b = doc["gateways"]
    assert (gw_a["name"], gw_a["index"], gw_b["name"], gw_b["index"]) == ("gw-a", 0, "gw-b", 1)
    assert (gw_a["mgmt"]["root_address"], gw_a["mgmt"]["address"], gw_b["mgmt"]["address"]) == ("198.19.255.1", "198.19.255.2", "198.19.255.6")
    assert gw_a["lan_networks"] == ["198.18.0.0/20"]  # 2001:db8:a::/48 is outside the lab's IPv6 range
    isp_a, isp_b = gw_a["uplinks"]
    assert (isp_a["gateway_address"], isp_a["server_address"], isp_b["server_address"]) == ("198.19.0.1", "198.19.0.2", "198.19.1.2")
    assert gw_b["uplinks"][0]["server_address"] == "198.19.8.2"
    assert [s["port"] for s in isp_a["servers"]] == [5201, 5202]  # one server per client
    assert [s["port"] for s in isp_b["servers"]] == [5201]

    clients = {c["id"]: c for c in doc["clients"]}
    assert sorted(clients) == ["BW-2026-0001", "BW-2026-0003", "BW-2026-0005", "BW-2026-0006"]  # 0002: /31 only; 0004: not yet
    first = clients["BW-2026-0001"]
    assert (first["namespace"], first["address"], first["gateway_address"], first["server_port"], first["switch_port"]) == ("bwlab-gw-a-bw-2026-0001", "198.18.1.2", "198.18.1.1", 5201, "p1")
    assert first["addresses"] == ["198.18.1.2/24"]
    assert clients["BW-2026-0006"]["server_port"] == 5202
    assert clients["BW-2026-0003"]["addresses"] == ["198.18.3.2/28", "198.18.4.2/30"]
    assert clients["BW-2026-0003"]["gateway_addresses"] == ["198.18.3.1/28", "198.18.4.1/30"]
    assert (clients["BW-2026-0003"]["server_address"], clients["BW-2026-0003"]["server_port"]) == ("198.19.1.2", 5201)
    assert clients["BW-2026-0005"]["server_address"] == "198.19.8.2"
    reasons = [s["reason"] for s in doc["skipped"] if s["id"] == "BW-2026-0002"]
    assert any("smaller than /30" in r for r in reasons)
    assert all(ns.startswith("bwlab-") for ns in doc["namespaces"])
    assert len(doc["namespaces"]) == len(set(doc["namespaces"])) == 2 + 2 * 3 + 4


def test_plan_is_dual_stack_within_the_benchmarking_ranges(repo):
    repo.write("inventory/production/host_vars/gw-b.yml", "bandwidth_lan_networks: [198.18.16.0/20, 2001:2:0:100::/56, 2001:db8:b::/48]\n" + GW_B.split("\n", 1)[1])
    repo.request("BW-2026-0001", "gw-b", subnets="[2001:2:0:101::/64]")  # IPv6 only
    repo.request("BW-2026-0002", "gw-b", subnets="[198.18.16.0/24, 2001:2:0:102::/64, 2001:2:0:103::/64]")  # dual-stack
    repo.request("BW-2026-0003", "gw-b", subnets="[198.18.17.0/24]")
    repo.request("BW-2026-0004", "gw-b", subnets="[2001:db8:b:1::/64, 2001:2:0:104::/127]")  # outside the range; too small
    inventory, problems = loader.load_inventory(repo.path, "inventory/production")
    assert not problems
    allocations, found, _blobs, _files = loader.load_allocations(repo.path)
    assert not found
    doc = lab_module.plan(inventory, allocations, dt.date(2026, 11, 28), lab_dir=repo.path / "lab", root=repo.path, source_inventory=repo.path / "inventory/production")

    gw_b = next(g for g in doc["gateways"] if g["name"] == "gw-b")
    assert gw_b["lan_networks"] == ["198.18.16.0/20", "2001:2:0:100::/56"]  # 2001:db8::/32 is never used
    uplink = gw_b["uplinks"][0]
    assert (uplink["gateway_address6"], uplink["server_address6"], uplink["prefixlen6"]) == ("2001:2:0:ff08::1", "2001:2:0:ff08::2", 64)
    clients = {c["id"]: c for c in doc["clients"]}
    assert sorted(clients) == ["BW-2026-0001", "BW-2026-0002", "BW-2026-0003"]
    v6 = clients["BW-2026-0001"]
    assert v6["families"] == {"ipv6": {"address": "2001:2:0:101::2", "gateway_address": "2001:2:0:101::1", "server_address": "2001:2:0:ff08::2", "server_port": 5201}}
    assert (v6["address"], v6["server_address"], v6["server_port"]) == ("2001:2:0:101::2", "2001:2:0:ff08::2", 5201)
    dual = clients["BW-2026-0002"]
    assert {name: (f["address"], f["server_port"]) for name, f in dual["families"].items()} == {"ipv4": ("198.18.16.2", 5202), "ipv6": ("2001:2:0:102::2", 5203)}
    assert dual["addresses"] == ["198.18.16.2/24", "2001:2:0:102::2/64", "2001:2:0:103::2/64"]
    assert dual["gateway_addresses"] == ["198.18.16.1/24", "2001:2:0:102::1/64", "2001:2:0:103::1/64"]
    assert clients["BW-2026-0003"]["server_port"] == 5204
    # One iperf3 server per client and family, each bound to its family's address.
    assert [(s["port"], s["address"]) for s in uplink["servers"]] == [(5201, "2001:2:0:ff08::2"), (5202, "198.19.8.2"), (5203, "2001:2:0:ff08::2"), (5204, "198.19.8.2")]
    reasons = [s["reason"] for s in doc["skipped"] if s["id"] == "BW-2026-0004"]
    assert any("2001:db8:b:1::/64 is outside 2001:2::/49" in r for r in reasons) and any("smaller than /126" in r for r in reasons)
    addresses = [ipaddress.ip_address(a.split("/")[0]) for c in doc["clients"] for a in c["addresses"] + c["gateway_addresses"]]
    addresses += [ipaddress.ip_address(u[k]) for g in doc["gateways"] for u in g["uplinks"] for k in ("gateway_address", "server_address", "gateway_address6", "server_address6")]
    assert all(a in LAB_RANGE or a in ipaddress.IPv6Network("2001:2::/48") for a in addresses)


def test_errors_are_one_line_without_traceback(tmp_path, capsys):
    assert lab_cli("up", "--inventory", "no/such/inventory", "--lab-dir", str(tmp_path / "lab")) == 1
    err = capsys.readouterr().err
    assert err.startswith("bandwidth lab up: error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_the_runner_names_the_failing_command_and_line():
    with pytest.raises(lab_module.LabError, match=r"`ip -batch -` failed at line 2 \('link show dev bwlab-nonexistent'\): .*does not exist"):
        lab_runner.run_command(["ip", "-batch", "-"], stdin="link show dev lo\nlink show dev bwlab-nonexistent\n")


# ---------------------------------------------------------------------------------------------
# The real lab


@pytest.mark.lab
def test_namespaces_links_and_addresses(lab_up: Lab):
    doc = lab_up.doc
    assert (doc["format"], doc["state"], doc["today"]) == (2, "up", TODAY)
    assert [gw["name"] for gw in doc["gateways"]] == ["gw-balikpapan", "gw-samarinda"]
    assert len(doc["clients"]) == 12 and not doc["skipped"]
    assert set(doc["namespaces"]) <= set(netns_list())
    assert all(ns.startswith("bwlab-") for ns in doc["namespaces"])
    assert root_links() == ["bwlab-m0", "bwlab-m1"]
    samarinda = doc["gateways"][1]
    addresses = subprocess.run(["ip", "-n", "bwlab-gw-samarinda", "-br", "-4", "addr"], capture_output=True, text=True, check=True).stdout
    lines = {line.split()[0].split("@")[0]: line.split()[2:] for line in addresses.splitlines()}
    assert lines["mgmt0"] == [samarinda["mgmt"]["address"] + "/30"]
    assert lines["wan0"] == ["198.19.8.1/30"] and lines["wan1"] == ["198.19.9.1/30"]
    assert "198.18.10.1/24" in lines["eth1"] and len(lines["eth1"]) == 6
    assert lines["eth2"] == ["198.18.20.1/24", "198.18.21.1/24", "198.18.22.1/24"]
    forwarding = subprocess.run(["ip", "netns", "exec", "bwlab-gw-samarinda", "sysctl", "-n", "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"], capture_output=True, text=True, check=True)
    assert forwarding.stdout.split() == ["1", "1"]
    v6 = subprocess.run(["ip", "-n", "bwlab-gw-samarinda", "-br", "-6", "addr", "show", "dev", "eth1"], capture_output=True, text=True, check=True).stdout
    assert "2001:2:0:1006::1/64" in v6  # the dual-stack allocation BW-2026-0006
    # Every address the lab gave out is in 198.18.0.0/15 or 2001:2::/48 (the benchmarking ranges).
    given = [gw["mgmt"]["address"] for gw in doc["gateways"]] + [gw["mgmt"]["root_address"] for gw in doc["gateways"]]
    given += [u[key] for gw in doc["gateways"] for u in gw["uplinks"] for key in ("gateway_address", "server_address", "gateway_address6", "server_address6")]
    given += [a.split("/")[0] for c in doc["clients"] for a in c["addresses"] + c["gateway_addresses"]]
    assert all(ipaddress.ip_address(a) in LAB_RANGE or ipaddress.ip_address(a) in ipaddress.IPv6Network("2001:2::/48") for a in given)
    assert {name for c in doc["clients"] for name in c["families"]} == {"ipv4", "ipv6"}


@pytest.mark.lab
def test_every_data_link_carries_blocks_of_at_most_four_segments(lab_up: Lab):
    """A veth passes TCP's 64 KB segmentation-offload blocks on whole, which HTB charges as one: the lab's links do not."""
    links = {}
    for namespace in lab_up.doc["namespaces"]:
        shown = json.loads(subprocess.run(["ip", "-n", namespace, "-d", "-j", "link", "show", "type", "veth"], capture_output=True, text=True, check=True).stdout)
        links.update({(namespace, link["ifname"]): link["gso_max_segs"] for link in shown})
    data = {key: segments for key, segments in links.items() if key[1] != "mgmt0"}  # the management link carries SSH only
    assert len(data) == 2 * (sum(len(gw["uplinks"]) for gw in lab_up.doc["gateways"]) * 2 + len(lab_up.doc["clients"]))
    assert set(data.values()) == {4}, {key: segments for key, segments in data.items() if segments != 4}


@pytest.mark.lab
def test_ssh_reaches_each_gateway_namespace(lab_up: Lab):
    for gateway in lab_up.doc["gateways"]:
        assert lab_up.ssh(gateway, "true").returncode == 0
        links = lab_up.ssh(gateway, "ip", "-br", "link").stdout
        for uplink in gateway["uplinks"]:
            assert f"\n{uplink['lan_interface']}@" in "\n" + links  # the shell runs inside the gateway


@pytest.mark.lab
def test_every_client_reaches_its_server_through_the_gateway(lab_up: Lab):
    for client in lab_up.doc["clients"]:
        for name, family in client["families"].items():  # every family the allocation has
            route = subprocess.run(["ip", "-n", client["namespace"], "-4" if name == "ipv4" else "-6", "route", "show", "default"], capture_output=True, text=True, check=True).stdout
            assert f"via {family['gateway_address']} dev lan0" in route
            done = subprocess.run(["ip", "netns", "exec", client["namespace"], "ping", "-c1", "-W1", family["server_address"]], capture_output=True, text=True, check=False)
            assert done.returncode == 0, f"{client['id']} {name}: {done.stdout}{done.stderr}"


@pytest.mark.lab
def test_every_client_has_its_own_iperf3_server_at_once(lab_up: Lab):
    runs = [
        subprocess.Popen(
            ["ip", "netns", "exec", c["namespace"], "iperf3", "-c", f["server_address"], "-p", str(f["server_port"]), "-B", f["address"], "-n", "256K", "-J"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for c in lab_up.doc["clients"]
        for f in c["families"].values()
    ]
    for process in runs:
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, out.decode()[-500:] + err.decode()
        assert json.loads(out)["end"]["sum_received"]["bytes"] > 0


@pytest.mark.lab
def test_lab_inventory(lab_up: Lab):
    doc = lab_up.doc
    inventory = lab_up.path / "inventory"
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())["all"]["children"]["gateways"]["hosts"]
    assert sorted(hosts) == ["gw-balikpapan", "gw-samarinda"]
    for gateway in doc["gateways"]:
        host = hosts[gateway["name"]]
        assert host["ansible_host"] == gateway["mgmt"]["address"] and host["ansible_user"] == "root"
        assert host["ansible_ssh_private_key_file"] == str(lab_up.path / "ssh" / "id_ed25519")
        assert f"UserKnownHostsFile={lab_up.path / 'ssh' / 'known_hosts'}" in host["ansible_ssh_common_args"]
        source = ROOT / "inventory/production/host_vars" / f"{gateway['name']}.yml"
        assert (inventory / "host_vars" / source.name).read_bytes() == source.read_bytes()
    assert yaml.safe_load((inventory / "group_vars/gateways.yml").read_text()) == {
        "bandwidth_leaf_qdisc": "pfifo",
        "bandwidth_lab_dir": str(inventory.parent),
        # Each lab gateway keeps its state in a folder of its own; the boot-restore unit goes there, never into systemd.
        "bandwidth_state_dir": str(inventory.parent / "state") + "/{{ inventory_hostname }}",
        "bandwidth_restore_unit_dir": "{{ bandwidth_state_dir }}",
        "bandwidth_restore_enable": False,
        # The collector likewise: its unit there, run in the namespace by `bandwidth lab monitoring`, its library the host's.
        "bandwidth_exporter_unit_dir": "{{ bandwidth_state_dir }}",
        "bandwidth_exporter_service_enable": False,
        "bandwidth_exporter_packages": [],
    }
    known = (lab_up.path / "ssh/known_hosts").read_text().splitlines()
    assert [line.split()[0] for line in known] == [gw["mgmt"]["address"] for gw in doc["gateways"]]


@pytest.mark.lab
def test_status(lab_up: Lab, capsys):
    assert lab_cli("status", "--lab-dir", str(lab_up.path)) == 0
    out = capsys.readouterr().out
    assert "gw-samarinda: namespace present, sshd pid" in out and "ssh 198.19.255.6:22 reachable, clients 9/9" in out
    assert out.rstrip().endswith("lab is up")


@pytest.mark.lab
def test_another_lab_folder_leaves_this_lab_alone(lab_up: Lab, tmp_path, capsys):
    other = tmp_path / "other-lab"
    assert lab_cli("down", "--lab-dir", str(other)) == 1
    assert lab_cli("up", "--lab-dir", str(other), "--today", TODAY) == 1
    err = capsys.readouterr().err
    assert f"it belongs to the lab in {lab_up.path}" in err
    assert lab_cli("status", "--lab-dir", str(lab_up.path)) == 0


@pytest.mark.lab
def test_up_twice_then_down_leaves_nothing(lab_up: Lab, capsys):
    before = lab_up.pids()
    capsys.readouterr()
    assert lab_up.up() == 0  # the same lab again: kept as it is, so a second apply changes nothing
    assert "lab already up as planned" in capsys.readouterr().out
    assert lab_up.pids() == before and all(alive(pid) for pid in before)
    assert lab_up.up("--rebuild") == 0  # built anew on top of the running one
    after = lab_up.pids()
    assert not set(before) & set(after) and not any(alive(pid) for pid in before) and all(alive(pid) for pid in after)
    assert lab_up.ssh(lab_up.doc["gateways"][0], "true").returncode == 0
    assert lab_up.down() == 0
    assert netns_list() == [] and root_links() == []
    assert not any(alive(pid) for pid in after)
    assert processes_naming(lab_up.path) == []
    assert not (lab_up.path / "lab.json").exists() and not list((lab_up.path / "run").iterdir())
    capsys.readouterr()
    assert lab_cli("status", "--lab-dir", str(lab_up.path)) == 1
    assert "no lab in" in capsys.readouterr().out


@pytest.mark.lab
def test_down_removes_a_half_built_lab_and_leftovers(lab_up: Lab, monkeypatch, capsys):
    monkeypatch.setattr(lab_processes, "SSHD", "/bin/false")  # sshd "fails" after the network is built
    assert lab_up.up("--rebuild") == 1
    assert "the lab is half built; `bandwidth lab down` removes it" in capsys.readouterr().err
    assert lab_up.doc["state"] == "building" and set(lab_up.doc["namespaces"]) <= set(netns_list())
    monkeypatch.undo()
    subprocess.run(["ip", "netns", "add", "bwlab-leftover"], check=True)
    subprocess.run(["ip", "link", "add", "name", "bwlab-m9", "type", "veth", "peer", "name", "bwlab-m9-peer"], check=True)
    assert lab_up.down() == 0
    assert netns_list() == [] and root_links() == []
    assert processes_naming(lab_up.path) == []
