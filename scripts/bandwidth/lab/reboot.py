"""`bandwidth lab reboot GATEWAY`: what a reboot does to a lab gateway's shaping, then its boot restore.

A real gateway loses every qdisc, class and filter and every ifb device when it reboots; then
systemd starts bandwidth-restore.service, which re-applies the plan last applied. Lab gateways
share this machine's systemd, so the role writes the unit into the gateway's own state folder and
never installs it; this command clears the gateway's tc state as a reboot would and then runs, in
the gateway's namespace, exactly the command of the unit's ExecStart (honouring its
ConditionPathExists, as systemd would).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from bandwidth.lab.errors import LabError
from bandwidth.lab.network import require_root
from bandwidth.lab.runner import IP, run_command
from bandwidth.lab.state import read_json

UNIT = "bandwidth-restore.service"


def unit_path(lab_dir: Path, gateway: str) -> Path:
    return lab_dir / "state" / gateway / UNIT


def read_unit(path: Path) -> tuple[list[str], list[str]]:
    """(ExecStart argv, ConditionPathExists paths) of a unit file; systemd's quoting is shell-like here."""
    argv, conditions = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "ExecStart":
            argv = shlex.split(value.strip())
        elif key.strip() == "ConditionPathExists":
            conditions.append(value.strip())
    if not argv:
        raise LabError(f"{path}: no ExecStart")
    return argv, conditions


def clear_like_a_reboot(namespace: str) -> list[str]:
    """Remove every root and ingress qdisc and every ifb of a namespace; returns what was there."""
    links = json.loads(run_command([IP, "-n", namespace, "-d", "-j", "link", "show"]).stdout or "[]")
    ifbs = sorted(link["ifname"] for link in links if (link.get("linkinfo") or {}).get("info_kind") == "ifb")
    others = [link["ifname"] for link in links if link["ifname"] not in ifbs and link["ifname"] != "lo"]
    batch = "".join(f"qdisc del dev {name} root\nqdisc del dev {name} ingress\n" for name in others)
    if batch:  # -force: most devices have no qdisc of their own to delete
        subprocess.run([IP, "netns", "exec", namespace, "tc", "-force", "-batch", "-"], input=batch, capture_output=True, text=True, check=False)
    for name in ifbs:
        run_command([IP, "-n", namespace, "link", "del", "dev", name])
    return ifbs


def reboot(lab_dir: Path, gateway: str | None) -> int:
    require_root()
    doc = read_json(lab_dir)
    if doc is None or doc.get("state") != "up":
        raise LabError(f"no lab up in {lab_dir} (`bandwidth lab up` builds one)")
    names = [gw["name"] for gw in doc["gateways"]]
    if gateway not in names:
        raise LabError(f"which gateway? {gateway!r} is not one of the lab's: {', '.join(names)}")
    namespace = next(gw["namespace"] for gw in doc["gateways"] if gw["name"] == gateway)
    ifbs = clear_like_a_reboot(namespace)
    print(f"{gateway}: rebooted: every qdisc removed, ifb devices removed ({', '.join(ifbs) or 'none'})")
    path = unit_path(lab_dir, gateway)
    if not path.is_file():
        print(f"{gateway}: no {UNIT} in {path.parent} (never applied by playbooks/apply.yml): the gateway stays unshaped", file=sys.stderr)
        return 1
    argv, conditions = read_unit(path)
    unmet = [c for c in conditions if not Path(c.lstrip("!")).exists() ^ c.startswith("!")]
    if unmet:
        print(f"{gateway}: {UNIT} skipped, as systemd would: ConditionPathExists={unmet[0]} is not met; the gateway stays unshaped")
        return 0
    print(f"{gateway}: {UNIT}: ExecStart={shlex.join(argv)}")
    done = subprocess.run([IP, "netns", "exec", namespace, *argv], capture_output=True, text=True, check=False)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return 0 if done.returncode == 0 else 1
