"""Shared fixtures: a throwaway repository, the real `bandwidth` command, and a lab of a repository copy."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# Tests make throwaway repositories: git run from a hook or `git rebase -x` exports GIT_DIR and
# friends, which would point their git commands at this repository instead.
for _name in [name for name in os.environ if name.startswith("GIT_")]:
    del os.environ[_name]

ROOT = Path(__file__).resolve().parent.parent
BANDWIDTH = str(Path(sys.executable).with_name("bandwidth"))
TODAY = "2026-11-28"

INVENTORY_HOSTS = """\
all:
  children:
    gateways:
      hosts:
        gw-a: {}
        gw-b: {}
"""
GW_A = """\
bandwidth_lan_networks: [198.18.0.0/20, 2001:db8:a::/48]
bandwidth_uplinks:
  - {name: isp-a, download_mbps: 100, upload_mbps: 50, reserve_percent: 10, lan_interface: eth1}
  - {name: isp-b, download_mbps: 50, upload_mbps: 50, reserve_percent: 0, lan_interface: eth2}
"""
GW_B = """\
bandwidth_lan_networks: [198.18.16.0/20]
bandwidth_uplinks:
  - {name: isp-a, download_mbps: 100, upload_mbps: 100, reserve_percent: 20, lan_interface: eth1}
"""

# The lines of a request file, in order; tests replace, drop or add keys by name.
BASE_FIELDS = {
    "id": None,  # filled from the file name
    "agency": "Dinas Uji Coba Provinsi Kalimantan Timur",
    "letter": "{number: 001/UJI/2026, date: 2026-11-01}",
    "contact": "{name: Penguji, email: penguji@example.go.id}",
    "gateway": None,  # filled from the folder
    "uplink": "isp-a",
    "subnets": "[198.18.1.0/24]",
    "download": "{guaranteed_mbps: 10, max_mbps: 20}",
    "upload": "{guaranteed_mbps: 5, max_mbps: 10}",
    "priority": "3",
    "start": "2026-11-01",
    "purpose": "Pengujian",
}


def request_text(request_id: str, gateway: str, drop=(), **fields) -> str:
    values = {**BASE_FIELDS, "id": request_id, "gateway": gateway}
    values.update({k: v for k, v in fields.items()})
    return "".join(f"{key}: {value}\n" for key, value in values.items() if key not in drop)


@dataclass
class Repo:
    path: Path

    def write(self, rel: str, content: str | bytes) -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def request(self, request_id: str, gateway: str = "gw-a", drop=(), **fields) -> str:
        rel = f"allocations/{gateway}/{request_id}.yaml"
        self.write(rel, request_text(request_id, gateway, drop, **fields))
        return rel

    def run(self, *args: str, today: str | None = TODAY, stdin: str | None = None) -> subprocess.CompletedProcess:
        argv = [BANDWIDTH, *args]
        if today and args and args[0] in ("check", "new"):
            argv.append(f"--today={today}")
        return subprocess.run(argv, cwd=self.path, capture_output=True, text=True, input=stdin, timeout=120, check=False)

    def check(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self.run("check", *args, **kwargs)

    def git(self, *args: str) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "Uji", "GIT_AUTHOR_EMAIL": "uji@example.go.id", "GIT_COMMITTER_NAME": "Uji", "GIT_COMMITTER_EMAIL": "uji@example.go.id"}
        return subprocess.run(["git", *args], cwd=self.path, capture_output=True, text=True, check=True, env=env).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path)
    r.write("inventory/production/hosts.yml", INVENTORY_HOSTS)
    r.write("inventory/production/host_vars/gw-a.yml", GW_A)
    r.write("inventory/production/host_vars/gw-b.yml", GW_B)
    (tmp_path / "allocations").mkdir()
    return r


@pytest.fixture
def lab_plan(repo: Repo):
    """The lab's plan of the throwaway repository, made as `bandwidth lab up` makes it before it
    builds anything: its inventory and allocations loaded, planned for a date. No root, no namespaces.
    `order` rearranges the loaded allocations first."""
    from bandwidth import loader
    from bandwidth.lab import topology

    def make(today: str = TODAY, clients: bool = True, order=list) -> dict:
        inventory, problems = loader.load_inventory(repo.path, "inventory/production")
        assert not problems, [p.message for p in problems]
        allocations, found, _blobs, _files = loader.load_allocations(repo.path)
        assert not found, [p.message for p in found]
        return topology.plan(
            inventory,
            order(allocations),
            dt.date.fromisoformat(today),
            lab_dir=repo.path / "lab",
            root=repo.path,
            source_inventory=repo.path / "inventory/production",
            clients=clients,
        )

    return make


# ---- the lab: a copy of the repository with its own lab, through ansible-playbook over SSH ----

ANSIBLE_PLAYBOOK = str(Path(BANDWIDTH).with_name("ansible-playbook"))
COPIED = ("allocations", "inventory", "playbooks", "roles", "schemas", "scripts", "ansible.cfg")


class Lab:
    """A copy of the repository with its own lab, so tests may edit allocations freely."""

    def __init__(self, path: Path):
        self.path = path

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}
        done = subprocess.run(argv, cwd=self.path, capture_output=True, text=True, timeout=600, env=env, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"{argv} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
        return done

    def apply(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(ANSIBLE_PLAYBOOK, "-i", "lab/inventory", "playbooks/apply.yml", *extra, check=check)

    def verify(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(ANSIBLE_PLAYBOOK, "-i", "lab/inventory", "playbooks/verify.yml", *extra, check=check)

    def description(self) -> dict:
        return json.loads((self.path / "lab" / "lab.json").read_text())

    def state_dir(self, gateway: str) -> Path:
        return self.path / "lab" / "state" / gateway

    def tc(self, gateway: str, *args: str) -> str:
        return subprocess.run(["ip", "netns", "exec", f"bwlab-{gateway}", "tc", *args], capture_output=True, text=True, check=True).stdout

    def classes(self, gateway: str, device: str) -> dict[str, str]:
        """classid -> its line of `tc class show` without counters."""
        found = {}
        for line in self.tc(gateway, "class", "show", "dev", device).splitlines():
            parts = line.split()
            if len(parts) > 2 and parts[0] == "class":
                found[parts[2]] = line.strip()
        return found

    def sent_bytes(self, gateway: str, device: str) -> dict[str, int]:
        text = self.tc(gateway, "-s", "class", "show", "dev", device)
        return {m.group(1): int(m.group(2)) for m in re.finditer(r"class htb (\S+) .*?\n Sent (\d+) bytes", text)}

    def filters(self, gateway: str, device: str) -> str:
        return self.tc(gateway, "filter", "show", "dev", device, "parent", "1:")

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.path / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new))


def recap_changed(output: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def minor(request_id: str) -> str:
    from bandwidth.tc import build

    return f"1:{build.minor_for(request_id):x}"


def ping(lab: Lab, request_id: str, count: int = 3) -> None:
    """A little real traffic from an agency's client through the gateway, so counters move."""
    description = json.loads((lab.path / "lab" / "lab.json").read_text())
    client = next(c for c in description["clients"] if c["id"] == request_id)
    subprocess.run(["ip", "netns", "exec", client["namespace"], "ping", "-q", "-c", str(count), "-i", "0.2", "-W", "1", client["server_address"]], capture_output=True, check=True)


def copy_repo(path: Path) -> Path:
    """The parts of the repository a lab run needs, with the real venv; tests may edit it freely."""
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, path / name, symlinks=True)
        else:
            shutil.copy(source, path / name)
    (path / ".venv").symlink_to(ROOT / ".venv")
    return path


@contextlib.contextmanager
def applied_lab(path: Path):
    """The lab of a repository copy, up and applied; taken down afterwards, also on failure."""
    instance = Lab(path)
    try:
        instance.run(BANDWIDTH, "lab", "up")
        instance.apply()
        yield instance
    finally:
        instance.run(BANDWIDTH, "lab", "down", check=False)


def write_big_gateway(path: Path, allocations: int, gateway: str = "gw-big") -> Path:
    """A repository copy whose inventory is one gateway with one 10 Gbit/s uplink and `allocations`
    allocations in /28s of 198.18.0.0/16: a batch long enough to act on while it runs."""
    copy_repo(path)
    shutil.rmtree(path / "allocations")
    shutil.rmtree(path / "inventory")
    host_vars = path / "inventory/production/host_vars"
    host_vars.mkdir(parents=True)
    (path / "inventory/production/hosts.yml").write_text(f"all:\n  children:\n    gateways:\n      hosts:\n        {gateway}: {{}}\n")
    (host_vars / f"{gateway}.yml").write_text(
        "bandwidth_lan_networks: [198.18.0.0/16]\nbandwidth_uplinks:\n  - {name: isp-a, download_mbps: 10000, upload_mbps: 10000, reserve_percent: 10, lan_interface: eth1}\n"
    )
    folder = path / "allocations" / gateway
    folder.mkdir(parents=True)
    for n in range(1, allocations + 1):
        third, fourth = divmod((n - 1) * 16, 256)
        (folder / f"BW-2026-{n:04d}.yaml").write_text(
            f"id: BW-2026-{n:04d}\nagency: Dinas Uji {n}\nletter: {{number: 555/{n}/UJI/2026, date: 2026-11-01}}\n"
            f"contact: {{name: Penguji, email: uji@example.go.id}}\ngateway: {gateway}\nuplink: isp-a\n"
            f"subnets: [198.18.{third}.{fourth}/28]\ndownload: {{guaranteed_mbps: 2, max_mbps: 10}}\n"
            f"upload: {{guaranteed_mbps: 1, max_mbps: 5}}\npriority: {n % 8}\nstart: 2026-11-01\npurpose: Uji beban\n"
        )
    return path


def clear_gateway(gateway: str, devices=("eth1",), ifbs=("ifb-eth1",)) -> None:
    """What a gateway looks like before its first apply: no qdisc of ours, no ifb."""
    namespace = f"bwlab-{gateway}"
    for device in devices:
        subprocess.run(["ip", "netns", "exec", namespace, "tc", "qdisc", "del", "dev", device, "root"], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "exec", namespace, "tc", "qdisc", "del", "dev", device, "ingress"], capture_output=True, check=False)
    for ifb in ifbs:
        subprocess.run(["ip", "-n", namespace, "link", "del", "dev", ifb], capture_output=True, check=False)


def processes_in(namespace: str, word: str) -> list[int]:
    """Live processes in a network namespace whose command line contains `word`."""
    inode = os.stat(f"/run/netns/{namespace}").st_ino
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}/ns/net").st_ino != inode:
                continue
            if word in Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.append(int(name))
        except OSError:
            continue
    return found
