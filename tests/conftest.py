"""Shared fixtures: a throwaway repository and the real `bandwidth` command."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

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
