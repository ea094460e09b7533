"""The lab's processes, by pid, through /proc: its daemons started until they listen, and stopped.

sshd in each gateway and the iperf3 servers upstream write pid files; lab.json keeps each pid with
its starttime, so that a process is told from a new one that reuses its pid. `down` tells the lab's
own processes (and their children, the SSH sessions) from any other in its namespaces.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from bandwidth.lab.errors import LabError
from bandwidth.lab.runner import IP, one_line, run_all
from bandwidth.lab.sshd import sshd_config
from bandwidth.lab.topology import SSH_PORT

SSHD = "/usr/sbin/sshd"
START_TIMEOUT = 5.0  # seconds for a daemon to listen
STOP_TIMEOUT = 3.0  # seconds between SIGTERM and SIGKILL


def process_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, starttime) of a process, or None when there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), int(fields[19])


def alive(pid: int) -> bool:
    stat = process_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def starttime_of(pid: int) -> int | None:
    stat = process_stat(pid)
    return stat[2] if stat else None


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def comm(pid: int) -> str:
    try:
        return "[" + Path(f"/proc/{pid}/comm").read_text().strip() + "]"
    except OSError:
        return "?"


def netns_inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _descendants(roots: set[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid in _pids():
        stat = process_stat(pid)
        if stat:
            children.setdefault(stat[1], []).append(pid)
    found, todo = set(), list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def stop(pids: set[int]) -> None:
    """SIGSTOP first (no new children), take the descendants too, SIGTERM, then SIGKILL what stays."""
    pids = {pid for pid in pids if alive(pid)}
    for pid in pids:
        _signal(pid, signal.SIGSTOP)
    pids |= _descendants(pids)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
        _signal(pid, signal.SIGCONT)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.01)
    for pid in pids:
        if alive(pid):
            _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 1
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.01)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def listening(pid: int, port: int) -> bool:
    """The process's network namespace has a TCP socket listening on port (/proc/<pid>/net/tcp, tcp6)."""
    lines = []
    for table in ("tcp", "tcp6"):
        try:
            lines += Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
    for line in lines:
        parts = line.split()
        if len(parts) > 3 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
            return True
    return False


def daemon_alive(entry: dict) -> int | None:
    pid = read_pid(Path(entry["pid_file"]))
    if pid and alive(pid) and (entry.get("starttime") is None or starttime_of(pid) == entry["starttime"]):
        return pid
    return None


def lab_processes(inodes: dict, pid_files: list[Path], marker: str) -> tuple[dict, set, list]:
    """One look at /proc: the live processes in the namespaces (pid -> namespace), the lab's own
    (pid files, command lines naming the lab folder, and their children), and the others."""
    parents: dict[int, int] = {}
    inside: dict[int, str] = {}
    for pid in _pids():
        stat = process_stat(pid)
        if stat is None or stat[0] in ("Z", "X"):
            continue
        parents[pid] = stat[1]
        ns = inodes.get(netns_inode(f"/proc/{pid}/ns/net")) if inodes else None
        if ns:
            inside[pid] = ns
    ours = {pid for pid in inside if marker in cmdline(pid)}
    for path in pid_files:
        pid = read_pid(path)
        if pid in parents and (pid in inside or marker in cmdline(pid)):
            ours.add(pid)

    def owned(pid: int) -> bool:
        seen = set()
        while pid > 1 and pid not in seen:
            if pid in ours:
                return True
            seen.add(pid)
            pid = parents.get(pid, 0)
        return False

    return inside, ours, sorted(pid for pid in inside if not owned(pid))


# ---------------------------------------------------------------------------------------------
# Starting the daemons


def start_daemons(doc: dict, lab_dir: Path) -> None:
    """Forwarding on, sshd in each gateway, the iperf3 servers upstream; then wait until all listen."""
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege separation directory
    jobs = []
    daemons = []  # (what, entry, port)
    for gw in doc["gateways"]:
        jobs.append(([IP, "netns", "exec", gw["namespace"], "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"], None))
        sshd = gw["sshd"]
        Path(sshd["config"]).write_text(sshd_config(gw, lab_dir / "ssh"))
        Path(sshd["pid_file"]).unlink(missing_ok=True)
        jobs.append(([IP, "netns", "exec", gw["namespace"], SSHD, "-f", sshd["config"], "-E", sshd["log"]], None))
        daemons.append((f"sshd of {gw['name']} on {gw['mgmt']['address']}:{SSH_PORT}", sshd, SSH_PORT))
        for uplink in gw["uplinks"]:
            for server in uplink["servers"]:
                Path(server["pid_file"]).unlink(missing_ok=True)
                argv = ["iperf3", "-s", "-D", "-B", server["address"], "-p", str(server["port"]), "--pidfile", server["pid_file"], "--logfile", server["log"]]
                jobs.append(([IP, "netns", "exec", uplink["upstream_namespace"], *argv], None))
                daemons.append((f"iperf3 server of {gw['name']}/{uplink['name']} on {server['address']}:{server['port']}", server, server["port"]))
    run_all(jobs)
    deadline = time.monotonic() + START_TIMEOUT
    waiting = list(daemons)
    while waiting:
        still = []
        for what, entry, port in waiting:
            pid = read_pid(Path(entry["pid_file"]))
            if pid and alive(pid) and listening(pid, port):
                entry["pid"], entry["starttime"] = pid, starttime_of(pid)
            else:
                still.append((what, entry, port))
        waiting = still
        if waiting and time.monotonic() > deadline:
            what, entry, _port = waiting[0]
            raise LabError(f"{what} is not listening after {START_TIMEOUT:g} s; {entry['log']}: {log_tail(Path(entry['log']))}")
        if waiting:
            time.sleep(0.01)


def log_tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return one_line("\n".join(lines[-3:])) or "empty log"
