"""`bandwidth lab up|down|status|reboot|fault`: the arguments, and the commands that build, remove and check the lab."""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import socket
import sys
import time
from pathlib import Path

from bandwidth.lab.errors import LabError
from bandwidth.lab.network import NETNS_DIR, build_network, has_leftovers, lab_namespaces, require_root, root_links
from bandwidth.lab.processes import alive, cmdline, comm, daemon_alive, lab_processes, netns_inode, process_stat, start_daemons, stop
from bandwidth.lab.runner import IP, run_command
from bandwidth.lab.sshd import ensure_keys, write_inventory
from bandwidth.lab.state import FORMAT, read_json, without_volatile, write_json
from bandwidth.lab.topology import PREFIX, ROOT_LINK_PREFIX, plan

# ---------------------------------------------------------------------------------------------
# Arguments


def run(args) -> int:
    root = Path(getattr(args, "repo", None) or ".")
    lab_dir = args.lab_dir if args.lab_dir.is_absolute() else root / args.lab_dir
    lab_dir = Path(os.path.abspath(lab_dir))
    try:
        if (args.action in ("reboot", "fault")) != bool(getattr(args, "gateway", None)):
            raise LabError("reboot takes a gateway (bandwidth lab reboot GATEWAY), fault an allocation (bandwidth lab fault ID); up, down, status and monitoring take none")
        if args.action == "fault":
            from bandwidth.lab.fault import fault

            directions = (args.direction,) if args.direction else ("download", "upload")
            return fault(lab_dir, root / args.plans, args.gateway, args.ceil_percent, args.without_filter, directions)
        if args.action == "monitoring":
            from bandwidth.lab import monitoring

            urls = monitoring.up(lab_dir, args.webhook_url, args.smtp_smarthost)
            print(f"lab monitoring up: Prometheus {urls['prometheus']}, Alertmanager {urls['alertmanager']}, alerts posted to {urls['webhook']}")
            return 0
        if args.action == "up":
            return up(root, args.inventory, lab_dir, args.today, clients=getattr(args, "clients", True), rebuild=getattr(args, "rebuild", False))
        if args.action == "down":
            return down(lab_dir)
        if args.action == "reboot":
            from bandwidth.lab.reboot import reboot

            return reboot(lab_dir, args.gateway)
        return status(lab_dir)
    except LabError as exc:
        print(f"bandwidth lab {args.action}: error: {exc}", file=sys.stderr)
        return 1


# ---------------------------------------------------------------------------------------------
# up


def up(root: Path, inventory_dir: str, lab_dir: Path, today: dt.date | None, clients: bool = True, rebuild: bool = False) -> int:
    from bandwidth.allocations import loader
    from bandwidth.allocations.checker import local_today
    from bandwidth.errors import UsageError

    require_root()
    started = time.monotonic()
    try:
        inventory, problems = loader.load_inventory(root, inventory_dir)
    except UsageError as exc:
        raise LabError(str(exc)) from None
    if problems:
        first = problems[0]
        raise LabError(f"the inventory has {len(problems)} problem(s), first {first.path}:{first.line}: {first.message} (run `bandwidth check`)")
    if not inventory.gateways:
        raise LabError(f"{inventory_dir}: no gateways to build")
    allocations, found, _blobs, _files = loader.load_allocations(root)
    doc = plan(inventory, allocations, today or local_today(), lab_dir=lab_dir, root=root, source_inventory=root / inventory_dir, clients=clients)

    current = read_json(lab_dir, strict=False)
    if not rebuild and current and current.get("format") == FORMAT and without_volatile(current) == without_volatile(doc) and status(lab_dir, quiet=True) == 0:
        print(f"lab already up as planned (allocations of {doc['today']}); nothing to do (--rebuild builds it anew)")
        return 0
    if ((lab_dir / "lab.json").exists() or has_leftovers()) and down(lab_dir, quiet=True) != 0:
        raise LabError("the lab that is there could not be removed (see above)")
    shutil.rmtree(lab_dir / "state", ignore_errors=True)  # new gateways: no lock, applied plan or journal carried over
    for sub in ("ssh", "run", "log", "inventory", "state"):
        (lab_dir / sub).mkdir(parents=True, exist_ok=True)
    (lab_dir / "ssh").chmod(0o700)
    host_key = ensure_keys(lab_dir / "ssh")
    write_json(lab_dir / "lab.json", doc)  # first, so that `down` finds a half-built lab
    try:
        build_network(doc)
        start_daemons(doc, lab_dir)
    except LabError as exc:
        raise LabError(f"{exc} (the lab is half built; `bandwidth lab down` removes it)") from None
    write_inventory(doc, Path(doc["source_inventory"]), lab_dir / "inventory")
    (lab_dir / "ssh" / "known_hosts").write_text("".join(f"{gw['mgmt']['address']} {host_key}\n" for gw in doc["gateways"]))
    doc["state"] = "up"
    doc["created"] = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    write_json(lab_dir / "lab.json", doc)

    for item in doc["skipped"]:
        print(f"bandwidth lab up: warning: {item['id']}: {item['reason']}", file=sys.stderr)
    if found:
        print(f"bandwidth lab up: warning: {len(found)} problem(s) in request files; those files are left out (run `bandwidth check`)", file=sys.stderr)
    uplinks = sum(len(gw["uplinks"]) for gw in doc["gateways"])
    print(f"lab up in {time.monotonic() - started:.1f} s: {len(doc['gateways'])} gateway(s), {uplinks} uplink(s), {len(doc['clients'])} client(s) as of {doc['today']}")
    print(f"  inventory: {doc['inventory']}")
    for gw in doc["gateways"]:
        print(f"  {gw['name']}: {shlex.join(doc['ssh']['argv'])} root@{gw['mgmt']['address']}")
    return 0


# ---------------------------------------------------------------------------------------------
# down


def down(lab_dir: Path, quiet: bool = False) -> int:
    """Stop the lab's processes, delete its namespaces and root links, and any leftover bwlab-
    namespace and bwlab-m link too. 0 when nothing of a lab is left.

    The lab's processes are those of its pid files, those in the lab's namespaces whose command
    line names the lab folder, and their children (SSH sessions). When anything else runs in a
    bwlab- namespace (another lab folder's lab, or a stray command), nothing is touched at all."""
    require_root()
    started = time.monotonic()
    doc = read_json(lab_dir, strict=False) or {}
    namespaces = list(dict.fromkeys([ns for ns in doc.get("namespaces", []) if isinstance(ns, str) and ns.startswith(PREFIX)] + lab_namespaces()))
    inodes = {inode: ns for ns in namespaces if (inode := netns_inode(str(NETNS_DIR / ns)))}
    marker = str(lab_dir) + "/"

    pid_files = sorted((lab_dir / "run").glob("*.pid"))
    deadline = time.monotonic() + 1
    while True:  # a process that ends while we look (an SSH connection closing) is no stranger
        inside, ours, foreign = lab_processes(inodes, pid_files, marker)
        if not foreign or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if foreign:
        for pid in foreign[:5]:
            stat = process_stat(pid) or ("?", "?", "?")
            what = cmdline(pid)[:150] or comm(pid)
            print(f"bandwidth lab down: error: namespace {inside[pid]} has process {pid} ({what}; state {stat[0]}, parent {stat[1]}), which the lab in {lab_dir} did not start", file=sys.stderr)
        others = sorted({m.group(1) for pid in foreign if (m := re.search(r"(/\S+)/(?:ssh/sshd_config-|run/)", cmdline(pid)))})
        hint = f"; it belongs to the lab in {', '.join(others)}: `bandwidth lab down --lab-dir {others[0]}`" if others else "; stop it, then run down again"
        print(f"bandwidth lab down: error: {len(foreign)} process(es) this lab did not start run in bwlab- namespaces: nothing was removed{hint}", file=sys.stderr)
        return 1
    stop(ours)

    problems = [f"process {pid} in namespace {ns} is still running" for pid, ns in inside.items() if alive(pid)]
    links = list(dict.fromkeys([link for link in doc.get("links", []) if isinstance(link, str) and link.startswith(ROOT_LINK_PREFIX)] + root_links()))
    links = [link for link in links if Path("/sys/class/net", link).exists()]
    commands = [f"link del dev {link}" for link in links] + [f"netns del {ns}" for ns in namespaces]
    if commands:
        run_command([IP, "-force", "-batch", "-"], stdin="".join(c + "\n" for c in commands), check=False)
    problems += [f"namespace {ns} could not be deleted" for ns in lab_namespaces()]
    problems += [f"link {link} could not be deleted" for link in root_links()]
    for path in pid_files:
        path.unlink(missing_ok=True)
    if not problems:
        (lab_dir / "lab.json").unlink(missing_ok=True)
    for problem in problems:
        print(f"bandwidth lab down: error: {problem}", file=sys.stderr)
    if not quiet:
        print(f"lab down in {time.monotonic() - started:.1f} s: stopped {len(ours)} process(es) and their children, removed {len(namespaces)} namespace(s) and {len(links)} link(s)")
    return 1 if problems else 0


# ---------------------------------------------------------------------------------------------
# status


def _reachable(address: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def status(lab_dir: Path, quiet: bool = False) -> int:
    doc = read_json(lab_dir, strict=not quiet)
    say = (lambda *_args, **_kwargs: None) if quiet else print  # quiet: only the answer matters
    if doc is None:
        leftovers = lab_namespaces() + root_links()
        extra = f"; leftovers of a lab: {', '.join(leftovers)} (`bandwidth lab down` removes them)" if leftovers else ""
        say(f"no lab in {lab_dir} (`bandwidth lab up` builds one){extra}")
        return 1
    ok = doc.get("state") == "up"
    say(f"lab {lab_dir}: {doc.get('state')}" + (f" since {doc['created']}" if doc.get("created") else "") + f", allocations of {doc.get('today')}")
    present = set(lab_namespaces())
    for gw in doc["gateways"]:
        clients = [c for c in doc["clients"] if c["gateway"] == gw["name"]]
        servers = [s for uplink in gw["uplinks"] for s in uplink["servers"]]
        has_ns = gw["namespace"] in present
        pid = daemon_alive(gw["sshd"])
        reachable = _reachable(gw["mgmt"]["address"], gw["sshd"]["port"])
        clients_up = sum(c["namespace"] in present for c in clients)
        switches_up = all(u["switch_namespace"] in present and u["upstream_namespace"] in present for u in gw["uplinks"])
        servers_up = sum(daemon_alive(s) is not None for s in servers)
        good = has_ns and pid is not None and reachable and switches_up and clients_up == len(clients) and servers_up == len(servers)
        ok = ok and good
        say(
            f"  {gw['name']}: namespace {'present' if has_ns else 'MISSING'}"
            f", sshd {f'pid {pid} alive' if pid else 'NOT RUNNING'}"
            f", ssh {gw['mgmt']['address']}:{gw['sshd']['port']} {'reachable' if reachable else 'UNREACHABLE'}"
            f", clients {clients_up}/{len(clients)}"
            f", uplinks {'present' if switches_up else 'MISSING'}"
            f", iperf3 servers {servers_up}/{len(servers)}"
        )
    say("lab is up" if ok else "lab is NOT fully up (`bandwidth lab up` rebuilds it)")
    return 0 if ok else 1
