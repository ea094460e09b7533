"""The repository's inventory is data: what may be in it, and nothing else.

Ansible templates every value of an inventory and takes connection settings from it; a pull request
that adds `ansible_ssh_common_args: -o ProxyCommand=...` to a host_vars file, a `group_vars/` folder or
an inline variable in hosts.yml would run a command on the runner that holds the gateways' key. So an
inventory inside the repository's inventory/ folder holds exactly the files the loader reads:
  hosts.yml                      the group gateways; per gateway at most ansible_host, ansible_port and
                                 ansible_user, each in a strict form (schemas/hosts.schema.json)
  host_vars/<gateway>.yml        bandwidth_lan_networks and bandwidth_uplinks only (schemas/gateway.schema.json)
Any other file or folder there, and a host_vars/ or group_vars/ folder beside the playbooks (Ansible
reads those as inventory variables too), is a problem of `bandwidth check`, named with its file and line;
`bandwidth render` then refuses, so nothing is applied. The lab's own inventory (lab/inventory, written by
`bandwidth lab up` from this one) carries the lab's connection settings and is not held to this.
"""

from __future__ import annotations

import os
from pathlib import Path

from bandwidth.allocations import validation
from bandwidth.model import Problem

HOSTS_SCHEMA = "hosts.schema.json"
PLAYBOOKS = "playbooks"
WHY = "the repository's inventory is data: of Ansible's settings only ansible_host, ansible_port and ansible_user, in hosts.yml"


def is_strict(root: Path, inventory: Path) -> bool:
    """An inventory inside the repository's inventory/ folder (production, or a staging one beside it)."""
    base = os.path.realpath(root / "inventory")
    return os.path.realpath(inventory).startswith(base + os.sep)


def hosts_problems(rel: str, doc) -> list[Problem]:
    """hosts.yml against schemas/hosts.schema.json, each problem with its line."""
    problems = []
    for line, message in validation.validate(HOSTS_SCHEMA, doc.value, doc.line):
        settings = message.startswith(("unknown key 'ansible_", "unknown key 'vars'"))
        problems.append(Problem(rel, line, message + (f" ({WHY})" if settings else ""), rule="inventory"))
    return problems


def explain(problem: Problem) -> Problem:
    """A host_vars problem about a key Ansible would take as a setting, with why it is refused."""
    if problem.message.startswith("unknown key 'ansible_"):
        return Problem(problem.path, problem.line, f"{problem.message} ({WHY})", rule=problem.rule)
    return problem


def file_problems(root: Path, inventory: Path, read: list[Path]) -> list[Problem]:
    """Every file or folder of the inventory besides those the loader `read`, and host_vars/group_vars beside the playbooks."""
    allowed = {path.relative_to(inventory).as_posix() for path in read}
    problems = []
    for folder, dirs, files in os.walk(inventory):
        here = Path(folder).relative_to(inventory)
        for name in sorted(dirs):
            if (here / name).as_posix() != "host_vars":
                problems.append(_extra(root, Path(folder) / name, "a folder"))
        dirs[:] = [d for d in dirs if (here / d).as_posix() == "host_vars"]
        for name in sorted(files):
            if (here / name).as_posix() not in allowed:
                problems.append(_extra(root, Path(folder) / name, "a file"))
    for name in ("host_vars", "group_vars"):
        path = root / PLAYBOOKS / name
        if os.path.lexists(path):
            rel = os.path.relpath(path, root)
            problems.append(Problem(rel, 1, f"Ansible reads a {name}/ folder beside the playbooks as inventory variables of every run ({WHY})", rule="inventory"))
    return problems


def _extra(root: Path, path: Path, what: str) -> Problem:
    rel = os.path.relpath(path, root)
    return Problem(rel, 1, f"{what} the loader does not read: an inventory holds hosts.yml and host_vars/<gateway>.yml only, and Ansible would read this one ({WHY})", rule="inventory")
