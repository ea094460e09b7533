"""The repository's inventory is data: connection settings and extra files in it are refused, and a refused
inventory reaches no gateway. The attacker here is a pull request that edits inventory/ or playbooks/."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import ANSIBLE_PLAYBOOK, BANDWIDTH, copy_repo

HOST_VARS = "inventory/production/host_vars/gw-samarinda.yml"
HOSTS = "inventory/production/hosts.yml"
WHY = "the repository's inventory is data: of Ansible's settings only ansible_host, ansible_port and ansible_user, in hosts.yml"


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def in_hosts(repo: Path, old: str, new: str) -> None:
    path = repo / HOSTS
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def write(repo: Path, rel: str, text: str) -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text(text, encoding="utf-8")


ATTACKS = {  # name: (the change, the line `bandwidth check` prints)
    "host_vars ssh args": (
        lambda r: append(r / HOST_VARS, 'ansible_ssh_common_args: "-o ProxyCommand=touch /tmp/x"\n'),
        f"{HOST_VARS}:7: error: unknown key 'ansible_ssh_common_args' ({WHY})",
    ),
    "host_vars python": (lambda r: append(r / HOST_VARS, "ansible_python_interpreter: /tmp/x\n"), f"{HOST_VARS}:7: error: unknown key 'ansible_python_interpreter'"),
    "host_vars other key": (lambda r: append(r / HOST_VARS, "bandwidth_tc_binary: /tmp/x\n"), f"{HOST_VARS}:7: error: unknown key 'bandwidth_tc_binary'"),
    "hosts.yml inline ssh executable": (
        lambda r: in_hosts(r, "ansible_host: 198.18.255.1\n", "ansible_host: 198.18.255.1\n          ansible_ssh_executable: /tmp/x\n"),
        f"{HOSTS}:9: error: unknown key 'ansible_ssh_executable' in all.children.gateways.hosts.gw-samarinda ({WHY})",
    ),
    "hosts.yml group vars": (
        lambda r: in_hosts(r, "    gateways:\n", "    gateways:\n      vars: {ansible_connection: local}\n"),
        f"{HOSTS}:6: error: unknown key 'vars' in all.children.gateways ({WHY})",
    ),
    "hosts.yml templated address": (
        lambda r: in_hosts(r, "ansible_host: 198.18.255.2", "ansible_host: \"{{ lookup('pipe', 'id') }}\""),
        f"{HOSTS}:10: error: all.children.gateways.hosts.gw-balikpapan.ansible_host is not in the expected format",
    ),
    "hosts.yml user with options": (
        lambda r: in_hosts(r, "ansible_host: 198.18.255.2", "ansible_host: 198.18.255.2\n          ansible_user: -oProxyCommand=x"),
        f"{HOSTS}:11: error: all.children.gateways.hosts.gw-balikpapan.ansible_user is not in the expected format",
    ),
    "hosts.yml port as text": (
        lambda r: in_hosts(r, "ansible_host: 198.18.255.2", "ansible_host: 198.18.255.2\n          ansible_port: '22 -o x'"),
        f"{HOSTS}:11: error: all.children.gateways.hosts.gw-balikpapan.ansible_port must be a whole number",
    ),
    "group_vars folder": (
        lambda r: write(r, "inventory/production/group_vars/all.yml", "ansible_ssh_common_args: -o ProxyCommand=x\n"),
        "inventory/production/group_vars:1: error: a folder the loader does not read",
    ),
    "an extra file": (lambda r: write(r, "inventory/production/more.yml", "all: {}\n"), "inventory/production/more.yml:1: error: a file the loader does not read"),
    "host_vars of no gateway": (
        lambda r: write(r, "inventory/production/host_vars/gw-other.yml", "x: 1\n"),
        "inventory/production/host_vars/gw-other.yml:1: error: a file the loader does not read",
    ),
    "host_vars as a folder": (
        lambda r: write(r, "inventory/production/host_vars/gw-samarinda/ssh.yml", "x: 1\n"),
        "inventory/production/host_vars/gw-samarinda:1: error: a folder the loader does not read",
    ),
    "playbooks group_vars": (
        lambda r: write(r, "playbooks/group_vars/gateways.yml", "ansible_ssh_common_args: x\n"),
        "playbooks/group_vars:1: error: Ansible reads a group_vars/ folder beside the playbooks",
    ),
}


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_bandwidth_check_refuses_what_is_not_data(tmp_path: Path, attack: str):
    repo = copy_repo(tmp_path)
    change, expected = ATTACKS[attack]
    change(repo)
    done = subprocess.run([BANDWIDTH, "check"], cwd=repo, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert expected in done.stdout, done.stdout
    assert "Traceback" not in done.stderr


def test_the_shipped_inventory_is_data(tmp_path: Path):
    done = subprocess.run([BANDWIDTH, "check"], cwd=copy_repo(tmp_path), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_refused_inventory_reaches_no_gateway(tmp_path: Path):
    """host_vars with a ProxyCommand: the plan is refused, the plans of an earlier run are removed, and no ssh runs."""
    repo = copy_repo(tmp_path / "repo")
    earlier = subprocess.run([BANDWIDTH, "render", "--output-dir", ".plans"], cwd=repo, capture_output=True, text=True, timeout=60, check=False)
    assert earlier.returncode == 0 and (repo / ".plans/gw-samarinda.json").is_file()  # what an earlier run left
    marker = tmp_path / "proxycommand-ran"
    append(repo / HOST_VARS, f'ansible_ssh_common_args: "-o ProxyCommand=\\"touch {marker}\\""\n')
    shims = tmp_path / "bin"
    shims.mkdir()
    calls = tmp_path / "ssh-calls"
    for name in ("ssh", "scp", "sftp"):  # every way Ansible's ssh connection reaches a host, recorded, never run
        (shims / name).write_text(f'#!/bin/sh\necho "{name} $*" >> {calls}\nexit 255\n')
        (shims / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{shims}:{os.environ['PATH']}", "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run([ANSIBLE_PLAYBOOK, "playbooks/apply.yml"], cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert not calls.exists(), calls.read_text()
    assert not marker.exists()
    assert done.returncode != 0
    assert "refusing to render: bandwidth check fails" in done.stdout
    assert f"{HOST_VARS}:7: error: unknown key 'ansible_ssh_common_args'" in done.stdout
    assert not list((repo / ".plans").glob("gw-*.json"))  # nothing an earlier run rendered is left to apply
    assert "Shape the gateways" not in done.stdout  # the run ended with the plan
