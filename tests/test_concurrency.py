"""Runs that overlap or are cut off, on a lab gateway with 1,500 allocations (a batch of about 9,000
tc commands, long enough to act on while it runs): real tc, real SSH, real ansible-playbook."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ANSIBLE_PLAYBOOK, BANDWIDTH, Lab, clear_gateway, descendants, processes_in, recap_changed, running, write_big_gateway

pytestmark = pytest.mark.lab

BIG = 1500


def lock_is_free(state_dir: Path) -> bool:
    with open(state_dir / "lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def start_apply(path: Path, inventory: Path) -> subprocess.Popen:
    env = {**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}
    return subprocess.Popen([ANSIBLE_PLAYBOOK, "-i", str(inventory), "playbooks/apply.yml"], cwd=path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    path = write_big_gateway(tmp_path_factory.mktemp("big"), BIG)
    instance = Lab(path)
    try:
        instance.run(BANDWIDTH, "lab", "up", "--no-clients")
        # A gateway's first run also installs the boot restore: done here, so that every test counts only
        # its own changes, whichever runs first (-k ssh_cut alone counted 6 instead of 1).
        instance.apply()
        yield instance
    finally:
        instance.run(BANDWIDTH, "lab", "down", check=False)


@pytest.fixture(scope="module")
def other_controller(big: Lab, tmp_path_factory) -> Path:
    """A second checkout of the same repository, as on another machine: its own .plans, the same gateways."""
    path = tmp_path_factory.mktemp("other")
    for name in ("allocations", "inventory", "playbooks", "roles", "schemas", "scripts", "ansible.cfg", ".venv"):
        source = big.path / name
        if source.is_symlink():
            (path / name).symlink_to(source.resolve())
        elif source.is_dir():
            subprocess.run(["cp", "-a", str(source), str(path / name)], check=True)
        else:
            subprocess.run(["cp", str(source), str(path / name)], check=True)
    return path


def every_class_present(lab: Lab) -> bool:
    return len(lab.classes("gw-big", "eth1")) == BIG + 2 and len(lab.classes("gw-big", "ifb-eth1")) == BIG + 2


@pytest.mark.parametrize("delay", [0.0, 0.3, 0.8])
def test_two_applies_at_once_both_succeed_and_every_class_is_there(big: Lab, other_controller: Path, delay: float):
    clear_gateway("gw-big")
    inventory = big.path / "lab" / "inventory"
    first = start_apply(big.path, inventory)
    time.sleep(delay)
    second = start_apply(other_controller, inventory)
    outputs = [run.communicate(timeout=300)[0] for run in (first, second)]
    for run, out in zip((first, second), outputs, strict=True):
        assert run.returncode == 0, out[-3000:]
        assert "ROLLBACK" not in out and "tc failed" not in out
    assert every_class_present(big)
    # One of them applied the batch; the other waited for the lock and found nothing to do.
    # Both name what was applied (the second reports it too until the first has recorded it).
    assert recap_changed(start_apply(big.path, inventory).communicate(timeout=300)[0])["gw-big"] == 0


def test_an_ssh_cut_mid_batch_is_finished_on_the_gateway_and_reported_by_the_next_run(big: Lab):
    clear_gateway("gw-big")
    known_hosts = str(big.path / "lab" / "ssh" / "known_hosts")
    run = start_apply(big.path, big.path / "lab" / "inventory")
    deadline = time.monotonic() + 120
    while not processes_in("bwlab-gw-big", "-batch") and time.monotonic() < deadline:
        assert run.poll() is None, run.stdout.read()[-3000:]
        time.sleep(0.01)
    assert processes_in("bwlab-gw-big", "-batch"), "the batch never started"
    # The controller and its SSH connection die mid-batch: every ssh client and master to this lab, and ansible-playbook
    # with its workers (each in a session of its own: the process group alone would leave them behind, for good).
    controller = [run.pid, *descendants(run.pid)]
    killed = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                cmdline = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline and cmdline[0].endswith(b"ssh") and any(known_hosts.encode() in part for part in cmdline):
                os.kill(int(name), signal.SIGKILL)
                killed += 1
    for pid in controller:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    run.communicate()
    deadline = time.monotonic() + 10
    while any(running(pid) for pid in controller) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in controller if running(pid)], "a process of the killed controller lives on"
    assert killed >= 1
    deadline = time.monotonic() + 60
    while not lock_is_free(big.state_dir("gw-big")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lock_is_free(big.state_dir("gw-big")), "the gateway's run never finished"
    assert every_class_present(big)  # finished by itself, not half way
    assert (big.state_dir("gw-big") / "lock").read_text() == ""

    after = big.apply()
    assert recap_changed(after.stdout)["gw-big"] == 1
    record = json.loads((big.path / ".plans/gw-big.applied.json").read_text())
    assert {d["allocation"] for d in record["differences"]} >= {f"BW-2026-{n:04d}" for n in range(1, BIG + 1)}
    assert recap_changed(big.apply().stdout)["gw-big"] == 0
