"""The lab's network: its namespaces, veths, bridges, addresses and routes, built from the plan
in one `ip -batch` from the root namespace and one inside each namespace; and what of a lab is
left on this machine (bwlab- namespaces, bwlab-m links).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from bandwidth.lab.errors import LabError
from bandwidth.lab.runner import IP, run_all, run_command
from bandwidth.lab.topology import PREFIX, ROOT_LINK_PREFIX

NETNS_DIR = Path("/run/netns")
# A veth hands the next hop whatever its sender built: with segmentation offload, TCP blocks of up
# to 64 KB, which HTB charges and sends as one. At 10 Mbit/s such a block is 52 ms of the class's
# time, so its byte counters move in steps that put a 1 s reading up to 5 % off either way
# (measured: 96.2-104.3 % of the ceiling). A physical wire carries frames of one MTU, but a lab of
# single frames is more than this machine's 2 cores can carry: with every allocation sending at once
# a counter read took 1-3 s. Blocks of at most 4 segments (6 KB, 4.8 ms at 10 Mbit/s) keep the
# readings within 0.2 % and the reads within tens of milliseconds, one core kept busy elsewhere.
WIRE = "gso_max_segs 4"


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, veths, sshd)")


def lab_namespaces() -> list[str]:
    try:
        return sorted(name for name in os.listdir(NETNS_DIR) if name.startswith(PREFIX))
    except FileNotFoundError:
        return []


def root_links() -> list[str]:
    return sorted(name for name in os.listdir("/sys/class/net") if name.startswith(ROOT_LINK_PREFIX))


def has_leftovers() -> bool:
    return bool(lab_namespaces() or root_links())


def build_network(doc: dict) -> None:
    """Namespaces and veths in one batch from the root namespace, then one batch inside each namespace."""
    root = [f"netns add {ns}" for ns in doc["namespaces"]]
    inside: dict[str, list[str]] = {ns: ["link set dev lo up"] for ns in doc["namespaces"]}
    clients = {c["id"]: c for c in doc["clients"]}
    for gw in doc["gateways"]:
        ns, mgmt = gw["namespace"], gw["mgmt"]
        root += [
            f"link add name {mgmt['root_interface']} type veth peer name {mgmt['interface']} netns {ns}",
            f"addr add {mgmt['root_address']}/{mgmt['prefixlen']} dev {mgmt['root_interface']}",
            f"link set dev {mgmt['root_interface']} up",
        ]
        inside[ns] += [f"addr add {mgmt['address']}/{mgmt['prefixlen']} dev {mgmt['interface']}", f"link set dev {mgmt['interface']} up"]
        for uplink in gw["uplinks"]:
            switch, upstream, bridge = uplink["switch_namespace"], uplink["upstream_namespace"], uplink["bridge"]
            root += [
                f"link add name {uplink['lan_interface']} netns {ns} {WIRE} type veth peer name {uplink['switch_port']} netns {switch} {WIRE}",
                f"link add name {uplink['wan_interface']} netns {ns} {WIRE} type veth peer name {uplink['upstream_interface']} netns {upstream} {WIRE}",
            ]
            inside[switch] += [f"link add name {bridge} type bridge", f"link set dev {bridge} up", f"link set dev {uplink['switch_port']} master {bridge}", f"link set dev {uplink['switch_port']} up"]
            inside[ns] += [f"addr add {uplink['gateway_address']}/{uplink['prefixlen']} dev {uplink['wan_interface']}", f"link set dev {uplink['wan_interface']} up"]
            inside[ns].append(f"addr add {uplink['gateway_address6']}/{uplink['prefixlen6']} dev {uplink['wan_interface']} nodad")
            inside[upstream] += [f"addr add {uplink['server_address']}/{uplink['prefixlen']} dev {uplink['upstream_interface']}", f"link set dev {uplink['upstream_interface']} up"]
            inside[upstream].append(f"addr add {uplink['server_address6']}/{uplink['prefixlen6']} dev {uplink['upstream_interface']} nodad")
            for network in gw["lan_networks"]:
                via = uplink["gateway_address"] if ipaddress.ip_network(network).version == 4 else uplink["gateway_address6"]
                inside[upstream].append(f"route add {network} via {via} dev {uplink['upstream_interface']}")
            for client_id in uplink["clients"]:
                client = clients[client_id]
                root.append(f"link add name {client['interface']} netns {client['namespace']} {WIRE} type veth peer name {client['switch_port']} netns {switch} {WIRE}")
                inside[switch] += [f"link set dev {client['switch_port']} master {bridge}", f"link set dev {client['switch_port']} up"]
                # nodad: an IPv6 address is usable at once (no duplicate-address wait on a lab link).
                inside[ns] += [f"addr add {address} dev {uplink['lan_interface']}{_nodad(address)}" for address in client["gateway_addresses"]]
                inside[client["namespace"]] += [f"addr add {address} dev {client['interface']}{_nodad(address)}" for address in client["addresses"]]
                inside[client["namespace"]].append(f"link set dev {client['interface']} up")
                for name, family in client["families"].items():
                    default = "0.0.0.0/0" if name == "ipv4" else "::/0"
                    inside[client["namespace"]].append(f"route add {default} via {family['gateway_address']} dev {client['interface']}")
            inside[ns].append(f"link set dev {uplink['lan_interface']} up")
    run_command([IP, "-batch", "-"], stdin="".join(line + "\n" for line in root))
    # No IPv6 duplicate-address detection on the lab's links, also for link-local addresses (before
    # any link is up): a tentative link-local address makes the first neighbour lookup fail.
    no_dad = "for f in /proc/sys/net/ipv6/conf/*/accept_dad; do echo 0 > $f; done"
    run_all([([IP, "netns", "exec", ns, "sh", "-c", no_dad], None) for ns in doc["namespaces"]])
    run_all([([IP, "-n", ns, "-batch", "-"], "".join(line + "\n" for line in lines)) for ns, lines in inside.items()])


def _nodad(address: str) -> str:
    return " nodad" if ":" in address else ""
