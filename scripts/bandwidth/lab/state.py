"""The lab's state file: lab.json in the lab folder, which describes the lab that is up.

lab.json, format 1. Stable: keys are only ever added; a change of meaning raises "format".

    format        1
    state         "building" while `up` runs (a crash leaves it so), "up" when complete
    created       UTC time `up` finished building, ISO 8601
    today         the date whose allocations were built (YYYY-MM-DD)
    lab_dir, repo, source_inventory, inventory   absolute paths (inventory: the lab's)
    ssh           {user, private_key, known_hosts, argv}: argv + ["root@<mgmt address>", cmd...] runs a command
    namespaces    every namespace the lab made, in creation order
    links         the lab's interfaces in the root namespace (bwlab-m<g>)
    gateways      [{name, index, namespace,
                    mgmt {interface, address, prefixlen, root_interface, root_address},
                    sshd {port, config, log, pid_file, pid, starttime},
                    lan_networks [networks routed back from upstream, IPv4 and IPv6],
                    uplinks [{name, index, lan_interface, switch_namespace, bridge, switch_port,
                              wan_interface, upstream_namespace, upstream_interface,
                              gateway_address, server_address, prefixlen,
                              gateway_address6, server_address6, prefixlen6, ports_used,
                              download_kbit, upload_kbit, reserve_percent,
                              servers [{port, address, pid_file, log, pid, starttime}],
                              clients [allocation ids]}]}]
    clients       [{id, gateway, uplink, namespace, interface, switch_port,
                    address (first client address), addresses ["a.b.c.d/len", ...],
                    gateway_address (its default route), gateway_addresses ["a.b.c.d/len", ...],
                    subnets, server_address, server_port (the first family's: IPv4 if it has any),
                    families {ipv4|ipv6: {address, gateway_address, server_address, server_port}}
                    (each client has its own iperf3 server per family),
                    download {guaranteed_kbit, max_kbit}, upload {...}, priority}]
    skipped       [{id, reason}]: allocations in force that have no client, or networks left out

pid is the process id, starttime its start in clock ticks after boot (/proc/<pid>/stat field 22),
so a later reader can tell the process from a new one that reuses the pid.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bandwidth.lab.errors import LabError

# 2: every data link carries blocks of at most 4 segments (network.WIRE); a lab of format 1 is built anew.
FORMAT = 2
_VOLATILE = frozenset({"pid", "starttime", "created", "state"})


def write_json(path: Path, doc: dict) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(doc, indent=1) + "\n")
    os.replace(temporary, path)


def read_json(lab_dir: Path, strict: bool = True) -> dict | None:
    """lab.json, or None when there is none. Not strict (for `down`): whatever can be read, so
    that a broken or older description still leads to its namespaces."""
    try:
        doc = json.loads((lab_dir / "lab.json").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        if not strict:
            return None
        raise LabError(f"{lab_dir / 'lab.json'}: unreadable ({exc}); `bandwidth lab down` removes the lab") from None
    if not strict:
        return doc if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise LabError(f"{lab_dir / 'lab.json'}: not a lab description of format {FORMAT}")
    return doc


def without_volatile(doc):
    """The lab description without what changes from one build to the next (pids, times)."""
    if isinstance(doc, dict):
        return {k: without_volatile(v) for k, v in doc.items() if k not in _VOLATILE}
    if isinstance(doc, list):
        return [without_volatile(v) for v in doc]
    return doc
