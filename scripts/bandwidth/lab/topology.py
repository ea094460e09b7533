"""The lab's plan: inventory, allocations and a date -> the lab description (lab.json, see state.py).

Pure: no files are read or written and no command runs; `up` builds what the plan says
(network.py, processes.py, sshd.py) and fills in the pids.

Topology, for gateway G (index g in sorted order), its uplink U (index u) and allocation A:

    root ns  bwlab-m<g> 198.19.255.<4g+1>/30 --veth-- mgmt0 198.19.255.<4g+2>/30   [sshd :22]
    bwlab-G            (the gateway; ip_forward=1)
        <lan_interface> --veth-- p0 in bwlab-G-U-lan (bridge br0)
        wan<u> 198.19.<8g+u>.1/30 --veth-- wan0 198.19.<8g+u>.2/30 in bwlab-G-U-wan
               2001:2:0:ff<8g+u>::1/64         2001:2:0:ff<8g+u>::2/64
    bwlab-G-U-wan      (upstream: iperf3 -s on ports 5201.., routes to G's LAN networks)
    bwlab-G-<a.id>     (a client, id lowercased): lan0 --veth-- p<n> on the switch's br0;
                       per subnet of A (IPv4 or IPv6) the gateway has network+1, the client
                       network+2; a default route per family via that family's first subnet
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from pathlib import Path

from bandwidth.lab.errors import LabError
from bandwidth.lab.state import FORMAT

PREFIX = "bwlab-"
ROOT_LINK_PREFIX = "bwlab-m"
AGENCY_RANGE = ipaddress.IPv4Network("198.18.0.0/16")  # clients and the gateways' LAN side
# IPv6: only the benchmarking range 2001:2::/48. Agencies in its lower half, the lab's own
# transit links in 2001:2:0:ff00::/56 (one /64 per uplink).
AGENCY_RANGE6 = ipaddress.IPv6Network("2001:2::/49")
LINK_RANGE6 = ipaddress.IPv6Network("2001:2:0:ff00::/56")
FAMILIES = {4: "ipv4", 6: "ipv6"}
FIRST_PORT = 5201
SSH_PORT = 22
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_IFNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,14}\Z")


def _addr(value: int, version: int = 4) -> str:
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


def _link6(transit: int, host: int) -> str:
    return str(LINK_RANGE6.network_address + (transit << 64) + host)


def plan(inventory, allocations: list, today: dt.date, *, lab_dir: Path, root: Path, source_inventory: Path, clients: bool = True) -> dict:  # noqa: PLR0912, PLR0915 - the whole lab plan in one pure function, tested as one (tests/test_lab_topology.py)
    """Everything the lab is made of, as the lab.json document (state "building", no pids yet)."""
    lab_dir = Path(os.path.abspath(lab_dir))
    ssh_dir, run_dir, log_dir = lab_dir / "ssh", lab_dir / "run", lab_dir / "log"
    names = sorted(inventory.gateways)
    if len(names) > 31:
        raise LabError(f"the lab has room for 31 gateways, the inventory has {len(names)}")
    doc: dict = {
        "format": FORMAT,
        "state": "building",
        "created": None,
        "today": today.isoformat(),
        "lab_dir": str(lab_dir),
        "repo": str(Path(os.path.abspath(root))),
        "source_inventory": str(Path(os.path.abspath(source_inventory))),
        "inventory": str(lab_dir / "inventory"),
        "ssh": {
            "user": "root",
            "private_key": str(ssh_dir / "id_ed25519"),
            "known_hosts": str(ssh_dir / "known_hosts"),
            "argv": _ssh_argv(ssh_dir),
        },
        "namespaces": [],
        "links": [],
        "gateways": [],
        "clients": [],
        "skipped": [],
    }
    by_uplink: dict[tuple[str, str], list] = {}
    for allocation in sorted(allocations, key=lambda a: a.id):
        if not allocation.active_on(today):
            continue
        gateway = inventory.gateways.get(allocation.gateway)
        if gateway is None or allocation.uplink not in gateway.uplinks:
            doc["skipped"].append({"id": allocation.id, "reason": f"{allocation.gateway}/{allocation.uplink} is not in the inventory"})
            continue
        by_uplink.setdefault((allocation.gateway, allocation.uplink), []).append(allocation)

    for g, name in enumerate(names):
        gateway = inventory.gateways[name]
        if not _NAME.match(name):
            raise LabError(f"gateway name {name!r} cannot name a namespace (letters, digits, '.', '_', '-')")
        namespace = PREFIX + name
        entry = {
            "name": name,
            "index": g,
            "namespace": namespace,
            "mgmt": {"interface": "mgmt0", "address": f"198.19.255.{4 * g + 2}", "prefixlen": 30, "root_interface": f"{ROOT_LINK_PREFIX}{g}", "root_address": f"198.19.255.{4 * g + 1}"},
            "sshd": {
                "port": SSH_PORT,
                "config": str(ssh_dir / f"sshd_config-{name}"),
                "log": str(log_dir / f"sshd-{name}.log"),
                "pid_file": str(run_dir / f"sshd-{name}.pid"),
                "pid": None,
                "starttime": None,
            },
            "lan_networks": [],
            "uplinks": [],
        }
        doc["namespaces"].append(namespace)
        doc["links"].append(entry["mgmt"]["root_interface"])
        for network in gateway.lan_networks:
            agency_range = AGENCY_RANGE if network.version == 4 else AGENCY_RANGE6
            if not _inside(network, agency_range):
                doc["skipped"].append({"id": name, "reason": f"LAN network {network} is outside {agency_range}, the lab's agency range: not routed"})
                continue
            entry["lan_networks"].append(str(network))
        used_interfaces = {"lo", "mgmt0"} | {f"wan{u}" for u in range(len(gateway.uplinks))}
        taken: list[tuple[ipaddress.IPv4Network, str]] = []  # agency subnets on this gateway
        if len(gateway.uplinks) > 8:
            raise LabError(f"{name}: the lab has room for 8 uplinks per gateway, it has {len(gateway.uplinks)}")
        for u, uplink in enumerate(gateway.uplinks.values()):
            if not _NAME.match(uplink.name):
                raise LabError(f"{name}: uplink name {uplink.name!r} cannot name a namespace")
            if not _IFNAME.match(uplink.lan_interface) or uplink.lan_interface in used_interfaces:
                raise LabError(f"{name}/{uplink.name}: lan_interface {uplink.lan_interface!r} cannot be used in the lab (at most 15 characters; not lo, mgmt0 or wan<n>)")
            used_interfaces.add(uplink.lan_interface)
            transit = 8 * g + u
            switch, upstream = f"{PREFIX}{name}-{uplink.name}-lan", f"{PREFIX}{name}-{uplink.name}-wan"
            up_entry = {
                "name": uplink.name,
                "index": u,
                "lan_interface": uplink.lan_interface,
                "switch_namespace": switch,
                "bridge": "br0",
                "switch_port": "p0",
                "wan_interface": f"wan{u}",
                "upstream_namespace": upstream,
                "upstream_interface": "wan0",
                "gateway_address": f"198.19.{transit}.1",
                "server_address": f"198.19.{transit}.2",
                "prefixlen": 30,
                "gateway_address6": _link6(transit, 1),
                "server_address6": _link6(transit, 2),
                "prefixlen6": 64,
                "download_kbit": uplink.download_kbit,
                "upload_kbit": uplink.upload_kbit,
                "reserve_percent": uplink.reserve_percent,
                "servers": [],
                "clients": [],
            }
            doc["namespaces"] += [switch, upstream]
            for allocation in by_uplink.get((name, uplink.name), []) if clients else []:
                client = _plan_client(allocation, entry, up_entry, taken, doc["skipped"])
                if client:
                    up_entry["clients"].append(client["id"])
                    doc["clients"].append(client)
                    doc["namespaces"].append(client["namespace"])
            ports = [(family["server_port"], family["server_address"]) for c in doc["clients"] if c["uplink"] == uplink.name and c["gateway"] == name for family in c["families"].values()]
            for port, address in sorted(ports) or [(FIRST_PORT, up_entry["server_address"])]:
                stem = f"iperf3-{name}-{uplink.name}-{port}"
                pid_file, log = str(run_dir / f"{stem}.pid"), str(log_dir / f"{stem}.log")
                up_entry["servers"].append({"port": port, "address": address, "pid_file": pid_file, "log": log, "pid": None, "starttime": None})
            entry["uplinks"].append(up_entry)
        doc["gateways"].append(entry)
    duplicates = {n for n in doc["namespaces"] if doc["namespaces"].count(n) > 1}
    if duplicates:
        raise LabError(f"two parts of the lab would share the namespace name {sorted(duplicates)[0]}")
    return doc


def _inside(subnet, network) -> bool:
    return subnet.version == network.version and network.supernet_of(ipaddress.ip_network((subnet.address, subnet.prefixlen)))


def _plan_client(allocation, gateway: dict, uplink: dict, taken: list, skipped: list) -> dict | None:
    """The client namespace of one allocation, or None (and a reason in skipped).

    Per subnet the gateway has network+1 and the client network+2, in each family; the client
    has one iperf3 server port per family (a dual-stack allocation is measured over both at once)."""
    subnets = []
    for subnet in allocation.subnets:
        network = ipaddress.ip_network((subnet.address, subnet.prefixlen))
        agency_range = AGENCY_RANGE if subnet.version == 4 else AGENCY_RANGE6
        if subnet.prefixlen > (30 if subnet.version == 4 else 126):
            skipped.append({"id": allocation.id, "reason": f"subnet {network} is smaller than /{30 if subnet.version == 4 else 126}: no room for a gateway and a client"})
            continue
        if not _inside(subnet, agency_range):
            skipped.append({"id": allocation.id, "reason": f"subnet {network} is outside {agency_range}, the lab's agency range"})
            continue
        if not any(ipaddress.ip_network(lan).version == subnet.version and ipaddress.ip_network(lan).supernet_of(network) for lan in gateway["lan_networks"]):
            skipped.append({"id": allocation.id, "reason": f"subnet {network} is not inside a LAN network of {gateway['name']}"})
            continue
        clash = next((owner for other, owner in taken if other.version == network.version and other.overlaps(network)), None)
        if clash:
            skipped.append({"id": allocation.id, "reason": f"subnet {network} overlaps a subnet of {clash} on {gateway['name']}"})
            continue
        taken.append((network, allocation.id))
        subnets.append(subnet)
    if not subnets:
        skipped.append({"id": allocation.id, "reason": "no subnet the lab can use: no client"})
        return None
    if not _NAME.match(allocation.id):
        raise LabError(f"allocation id {allocation.id!r} cannot name a namespace")
    families = {}
    next_port = FIRST_PORT + uplink.setdefault("ports_used", 0)
    for version in (4, 6):
        mine = [s for s in subnets if s.version == version]
        if not mine:
            continue
        families[FAMILIES[version]] = {
            "address": _addr(mine[0].address + 2, version),
            "gateway_address": _addr(mine[0].address + 1, version),
            "server_address": uplink["server_address"] if version == 4 else uplink["server_address6"],
            "server_port": next_port,
        }
        next_port += 1
    uplink["ports_used"] = next_port - FIRST_PORT
    primary = next(iter(families.values()))
    return {
        "id": allocation.id,
        "gateway": gateway["name"],
        "uplink": uplink["name"],
        "namespace": f"{PREFIX}{gateway['name']}-{allocation.id.lower()}",
        "interface": "lan0",
        "switch_port": f"p{len(uplink['clients']) + 1}",
        # The first family's, as before dual-stack (IPv4 when it has any).
        "address": primary["address"],
        "addresses": [f"{_addr(s.address + 2, s.version)}/{s.prefixlen}" for s in subnets],
        "gateway_address": primary["gateway_address"],
        "gateway_addresses": [f"{_addr(s.address + 1, s.version)}/{s.prefixlen}" for s in subnets],
        "subnets": [str(s) for s in subnets],
        "server_address": primary["server_address"],
        "server_port": primary["server_port"],
        "families": families,
        "download": {"guaranteed_kbit": allocation.download.guaranteed_kbit, "max_kbit": allocation.download.max_kbit},
        "upload": {"guaranteed_kbit": allocation.upload.guaranteed_kbit, "max_kbit": allocation.upload.max_kbit},
        "priority": allocation.priority,
    }


def _ssh_argv(ssh_dir: Path) -> list[str]:
    known_hosts = ssh_dir / "known_hosts"
    return ["ssh", "-F", "none", "-i", str(ssh_dir / "id_ed25519"), "-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"]
