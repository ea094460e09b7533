"""`bandwidth lab up|down|status|reboot`: a replica of the inventory in network namespaces on this machine.

Every gateway of group `gateways` becomes a namespace reached over real SSH, with its uplinks,
an Ethernet switch per uplink, one client namespace per allocation in force, and iperf3 servers
upstream, so that playbooks and measurements run against something that behaves like the real
network. Needs root. It is dual-stack. Addresses come only from the benchmarking ranges:
IPv4 198.18.0.0/15 (RFC 2544; agencies' subnets from 198.18.0.0/16, the lab's own links from
198.19.0.0/16) and IPv6 2001:2::/48 (RFC 5180; agencies' subnets from 2001:2::/49, the uplinks'
transit links from 2001:2:0:ff00::/56, one /64 each). Nothing is routed outside the lab: the only
link to the root namespace is each gateway's management veth (IPv4).

Files in the lab folder (default `lab/`, relative to the repository):

    lab.json                   the description, format in state.py (removed by `down`)
    inventory/                 hosts.yml (ansible_host = mgmt address, the lab's key and known_hosts),
                               host_vars/* copied byte for byte, group_vars/gateways.yml
    ssh/                       host key, client key id_ed25519, authorized_keys, known_hosts,
                               sshd_config-<G> (kept by `down`; keys are reused by the next `up`)
    run/                       pid files of sshd and iperf3 (removed by `down`)
    log/                       sshd and iperf3 logs (kept)
    state/<G>/                 gateway G's bandwidth_state_dir (lock, applied plan, boot-restore unit);
                               emptied by a new `up`: new gateways carry no state

The parts, one job each:

    topology.py    the plan: inventory, allocations and a date -> the lab description (pure)
    state.py       lab.json, the lab description on disk, and its format
    network.py     namespaces, veths, bridges, addresses and routes; leftovers of a lab
    processes.py   the lab's processes by pid through /proc: start the daemons, tell, stop
    sshd.py        keys, each gateway's sshd configuration, the lab's inventory
    runner.py      the commands the lab runs, one or many at once
    commands.py    `up`, `down`, `status` (the arguments: bandwidth/commands/lab.py); reboot.py `reboot`
    errors.py      LabError
"""

from bandwidth.lab.commands import run
from bandwidth.lab.errors import LabError
from bandwidth.lab.topology import plan

__all__ = ["LabError", "plan", "run"]
