"""Gateways stay shaped through concurrent runs, failed batches, cut connections, reboots and a gateway down.

Everything on the lab: real tc in namespaces, reached by ansible-playbook over real SSH. Faults are
real too: a tc that fails on a chosen line of its batch (the real tc, told to use a device that is
not there), a device deleted while the batch runs, SSH clients killed mid-batch, a gateway's sshd
killed, a lock held by someone else.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ANSIBLE_PLAYBOOK, BANDWIDTH, Lab, applied_lab, clear_gateway, copy_repo, minor, ping, processes_in, recap_changed

pytestmark = pytest.mark.lab

BIG = 1500  # allocations on the big gateway: a batch of about 9,000 tc commands, a second or so
DEVICES = {"gw-samarinda": ("eth1", "ifb-eth1", "eth2", "ifb-eth2"), "gw-balikpapan": ("eth1", "ifb-eth1")}

# tc for fault injection, armed by a file: the next `tc -batch FILE` fails as the file says, once.
#   first|middle|last   that line of the batch names a device that does not exist (tc: Cannot find device)
#   delete DEVICE       the batch runs up to the first command on DEVICE, then DEVICE is deleted, then the rest runs
# Everything else, and the rollback's `tc -force -batch`, is the real tc.
FAULTY_TC = """#!/usr/bin/python3
import os, re, subprocess, sys
ARMED, TC = {armed!r}, "/usr/sbin/tc"
args = sys.argv[1:]
if len(args) == 2 and args[0] == "-batch" and os.path.exists(ARMED):
    mode, _, device = open(ARMED).read().split("\\n")[0].partition(" ")
    os.unlink(ARMED)
    lines = open(args[1]).read().splitlines()
    if mode in ("first", "middle", "last"):
        n = {{"first": 1, "middle": (len(lines) + 1) // 2, "last": len(lines)}}[mode]
        lines[n - 1] = re.sub(r"dev \\S+", "dev nosuchdev0", lines[n - 1], count=1)
        open(args[1], "w").write("\\n".join(lines) + "\\n")
    elif mode == "delete":
        cut = next(i for i, line in enumerate(lines) if i > 0 and f"dev {{device}} " in line + " ")
        head, tail = args[1] + ".head", args[1] + ".tail"
        open(head, "w").write("\\n".join(lines[:cut]) + "\\n")
        open(tail, "w").write("\\n".join(lines[cut:]) + "\\n")
        subprocess.run([TC, "-batch", head], check=True)
        subprocess.run(["ip", "link", "del", "dev", device], check=True)
        done = subprocess.run([TC, "-batch", tail], capture_output=True, text=True)
        for path in (head, tail):
            os.unlink(path)
        sys.stderr.write(re.sub(r"Command failed \\S+:(\\d+)", lambda m: f"Command failed {{args[1]}}:{{int(m.group(1)) + cut}}", done.stderr))
        sys.exit(done.returncode)
os.execv(TC, [TC, *args])
"""


def output(done: subprocess.CompletedProcess) -> str:
    """What ansible-playbook printed (its errors go to stdout or stderr, depending on the callback)."""
    return done.stdout + done.stderr


def tc_state(lab: Lab, gateway: str) -> dict:
    """Everything a rollback must put back, per device: classes, filters, qdiscs and ingress, without counters."""
    state = {}
    for device in DEVICES[gateway]:
        exists = subprocess.run(["ip", "-n", f"bwlab-{gateway}", "link", "show", "dev", device], capture_output=True, check=False).returncode == 0
        if not exists:
            state[device] = None
            continue
        state[device] = {
            "classes": lab.classes(gateway, device),
            "filters": lab.filters(gateway, device),
            "qdiscs": re.sub(r" refcnt \d+", "", lab.tc(gateway, "qdisc", "show", "dev", device)),
            # The redirect as such: a restored one is a new action, with a new index.
            "ingress": re.sub(r"index \d+ ref \d+ bind \d+", "", lab.tc(gateway, "filter", "show", "dev", device, "parent", "ffff:")) if device.startswith("eth") else "",
        }
    return state


# ---- the shipped lab --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with applied_lab(copy_repo(tmp_path_factory.mktemp("repo"))) as instance:
        yield instance


@pytest.fixture
def faulty_tc(lab: Lab, tmp_path: Path):
    """(path of the faulty tc, arm(mode))"""
    armed = tmp_path / "armed"
    tc = tmp_path / "faulty-tc"
    tc.write_text(FAULTY_TC.format(armed=str(armed)))
    tc.chmod(0o755)

    def arm(mode: str) -> None:
        armed.write_text(mode + "\n")

    yield str(tc), arm
    armed.unlink(missing_ok=True)


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_failed_batch_is_rolled_back_whatever_line_failed(lab: Lab, faulty_tc, where: str):
    tc, arm = faulty_tc
    rel = "allocations/gw-samarinda/BW-2026-0001.yaml"
    original = (lab.path / rel).read_text()
    lab.edit(rel, "download: {guaranteed_mbps: 50, max_mbps: 100}", "download: {guaranteed_mbps: 55, max_mbps: 110}")
    lab.edit(rel, "subnets: [198.18.10.0/24]", "subnets: [198.18.10.0/25]")  # filters too, on eth1 and ifb-eth1
    before = tc_state(lab, "gw-samarinda")
    planned = [line[1:] for line in lab.apply("--check", "--diff", "--limit", "localhost,gw-samarinda").stdout.splitlines() if line.startswith("+tc ")]
    assert len(planned) >= 5
    failing = planned[{"first": 0, "middle": (len(planned) + 1) // 2 - 1, "last": -1}[where]]
    try:
        arm(where)
        done = lab.apply("-e", f"bandwidth_tc_binary={tc}", "--limit", "localhost,gw-samarinda", check=False)
        out = output(done)
        assert done.returncode != 0
        assert f'gw-samarinda: tc failed at: {failing}: Cannot find device "nosuchdev0"; the gateway was rolled back to its state before this run' in out
        assert tc_state(lab, "gw-samarinda") == before
        # A person reads the failure: the one command, not the batch (which stays on the gateway).
        assert out.count("dev eth1") + out.count("dev ifb-eth1") <= 3
        assert f"the {len(planned)} planned commands are in {lab.state_dir('gw-samarinda')}/failed.batch on the gateway" in out
        record = json.loads((lab.path / ".plans/gw-samarinda.applied.json").read_text())
        assert record["applied"] is False and "tc failed at" in record["reason"] and record["differences"] == []
    finally:
        (lab.path / rel).write_text(original)
    assert recap_changed(lab.apply().stdout)["gw-samarinda"] == 0  # nothing was left half applied


def test_rollback_removes_the_ifb_a_failed_first_apply_made(lab: Lab, faulty_tc):
    tc, arm = faulty_tc
    clear_gateway("gw-balikpapan")
    before = tc_state(lab, "gw-balikpapan")
    assert before["ifb-eth1"] is None
    try:
        arm("middle")
        done = lab.apply("-e", f"bandwidth_tc_binary={tc}", check=False)
        assert done.returncode != 0 and "gw-balikpapan: tc failed at: tc " in output(done) and "rolled back" in output(done)
        assert tc_state(lab, "gw-balikpapan") == before  # no ifb, no qdisc: as it was
        assert re.search(r"^gw-samarinda +: ok=\d+ +changed=\d+ +unreachable=0 +failed=0", done.stdout, re.M)  # the other gateway went on
    finally:
        lab.apply()
    assert len(lab.classes("gw-balikpapan", "ifb-eth1")) == 5


def test_rollback_makes_again_a_device_deleted_while_the_batch_runs(lab: Lab, faulty_tc):
    tc, arm = faulty_tc
    rel = "allocations/gw-samarinda/BW-2026-0002.yaml"
    original = (lab.path / rel).read_text()
    # A change on eth1 first, then on ifb-eth1, which is deleted in between.
    text = re.sub(r"(load): \{guaranteed_mbps: (\d+), max_mbps: (\d+)\}", lambda m: f"{m.group(1)}: {{guaranteed_mbps: {m.group(2)}, max_mbps: {int(m.group(3)) + 5}}}", original)
    (lab.path / rel).write_text(text)
    before = tc_state(lab, "gw-samarinda")
    try:
        arm("delete ifb-eth1")
        done = lab.apply("-e", f"bandwidth_tc_binary={tc}", "--limit", "localhost,gw-samarinda", check=False)
        assert done.returncode != 0
        assert 'Cannot find device "ifb-eth1"; the gateway was rolled back' in output(done)
        assert tc_state(lab, "gw-samarinda") == before  # ifb-eth1 made again, with its tree and the redirect to it
    finally:
        (lab.path / rel).write_text(original)
    counted = lab.sent_bytes("gw-samarinda", "ifb-eth1").get(minor("BW-2026-0002"), 0)
    ping(lab, "BW-2026-0002")
    assert lab.sent_bytes("gw-samarinda", "ifb-eth1")[minor("BW-2026-0002")] > counted  # upload reaches the new ifb
    assert recap_changed(lab.apply().stdout)["gw-samarinda"] == 0


def test_a_run_waits_for_the_lock_then_fails_naming_who_holds_it(lab: Lab):
    state_dir = lab.state_dir("gw-samarinda")
    owner = {"controller": "ops-laptop", "controller_pid": 4242, "purpose": "apply", "pid": os.getpid(), "host": "gw-samarinda", "since": "2026-12-01T01:02:03Z"}
    with open(state_dir / "lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(owner))
        handle.flush()
        started = time.monotonic()
        done = lab.apply("-e", "bandwidth_lock_timeout_seconds=2", check=False)
        waited = time.monotonic() - started
        handle.truncate(0)
    assert done.returncode != 0
    assert "gw-samarinda: another run holds the gateway's lock" in output(done)
    assert f"held by controller ops-laptop, controller_pid 4242, purpose apply, pid {os.getpid()} on gw-samarinda since 2026-12-01T01:02:03Z); waited 2 s" in output(done)
    assert waited >= 2
    assert recap_changed(done.stdout)["gw-balikpapan"] == 0  # its own lock: not held, served
    assert lab.apply().returncode == 0


def test_a_read_back_never_sees_a_run_in_progress(lab: Lab):
    """verify.yml waits for the shared lock: while an apply holds it, no half state is read as drift."""
    state_dir = lab.state_dir("gw-balikpapan")
    with open(state_dir / "lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        clear_gateway("gw-balikpapan")  # "half applied" under the lock
        env = {**os.environ, "ANSIBLE_NOCOLOR": "1"}
        verify = subprocess.Popen(
            [ANSIBLE_PLAYBOOK, "-i", "lab/inventory", "playbooks/verify.yml", "-e", "bandwidth_verify_measure=none"], cwd=lab.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        time.sleep(4)
        assert verify.poll() is None  # waiting, not reading
        # The holder finishes its run: the gateway as main describes it again.
        batch = lab.run(BANDWIDTH, "render", "--format", "tc", "--gateway", "gw-balikpapan", "--leaf-qdisc", "pfifo").stdout
        subprocess.run(["ip", "-n", "bwlab-gw-balikpapan", "link", "add", "name", "ifb-eth1", "type", "ifb"], check=True)
        subprocess.run(["ip", "-n", "bwlab-gw-balikpapan", "link", "set", "dev", "ifb-eth1", "up"], check=True)
        subprocess.run(["ip", "netns", "exec", "bwlab-gw-balikpapan", "tc", "-batch", "-"], input=batch, text=True, check=True)
    out, _ = verify.communicate(timeout=120)
    assert verify.returncode == 0, out
    assert "DRIFT" not in out


def test_a_reboot_restores_the_shaping_without_the_controller(lab: Lab):
    before = tc_state(lab, "gw-samarinda")
    unit = lab.state_dir("gw-samarinda") / "bandwidth-restore.service"
    analyzed = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True, check=False)
    assert analyzed.returncode == 0 and analyzed.stderr == "", analyzed.stderr
    text = unit.read_text()
    assert "After=network-online.target sys-subsystem-net-devices-eth1.device sys-subsystem-net-devices-eth2.device" in text
    assert not Path("/etc/systemd/system/bandwidth-restore.service").exists()  # never installed on the lab's host

    done = lab.run(BANDWIDTH, "lab", "reboot", "gw-samarinda")
    assert "removed (ifb-eth1, ifb-eth2)" in done.stdout
    assert re.search(r"bandwidth-restore: gw-samarinda: \d+ tc command\(s\), 18 allocation class\(es\)", done.stdout)
    assert tc_state(lab, "gw-samarinda") == before
    verified = lab.verify("-e", "bandwidth_verify_measure=none")
    assert "DRIFT" not in verified.stdout
    assert recap_changed(lab.apply().stdout)["gw-samarinda"] == 0  # the restore is no change to report


def test_a_gateway_without_its_restore_unit_stays_unshaped_after_a_reboot(lab: Lab):
    unit = lab.state_dir("gw-balikpapan") / "bandwidth-restore.service"
    aside = unit.with_name("aside.service")
    unit.rename(aside)
    try:
        done = lab.run(BANDWIDTH, "lab", "reboot", "gw-balikpapan", check=False)
        assert done.returncode == 1 and "(never applied by playbooks/apply.yml): the gateway stays unshaped" in output(done)
        assert tc_state(lab, "gw-balikpapan")["ifb-eth1"] is None
    finally:
        aside.rename(unit)
    wrong = lab.run(BANDWIDTH, "lab", "reboot", "gw-nowhere", check=False)
    assert wrong.returncode == 1 and "not one of the lab's: gw-balikpapan, gw-samarinda" in output(wrong)
    lab.run(BANDWIDTH, "lab", "reboot", "gw-balikpapan")
    assert "DRIFT" not in lab.verify("-e", "bandwidth_verify_measure=none").stdout


def test_one_gateway_down_the_others_served_and_a_later_run_converges(lab: Lab):
    lab.edit("allocations/gw-samarinda/BW-2026-0005.yaml", "priority: 3", "priority: 5")
    lab.edit("allocations/gw-balikpapan/BW-2026-0011.yaml", "priority: 4", "priority: 5")
    gateway = next(gw for gw in lab.description()["gateways"] if gw["name"] == "gw-balikpapan")
    for pid in processes_in(gateway["namespace"], "sshd"):  # the listener and any session: gone
        os.kill(pid, signal.SIGKILL)
    try:
        done = lab.apply(check=False)
        assert done.returncode != 0
        assert "gw-balikpapan: unreachable: " in output(done)
        assert "prio 5" in lab.classes("gw-samarinda", "eth1")[minor("BW-2026-0005")]  # served
        record = json.loads((lab.path / ".plans/gw-balikpapan.applied.json").read_text())
        assert record["applied"] is False and record["reason"].startswith("gw-balikpapan: unreachable: ")
        assert "prio 4" in lab.classes("gw-balikpapan", "eth1")[minor("BW-2026-0011")]
        # Verification and the report say so; nothing on that gateway passes.
        verified = lab.verify("-e", "bandwidth_verify_measure=none", check=False)
        assert verified.returncode != 0
        assert "NOT APPLIED gw-balikpapan: gw-balikpapan: unreachable: " in verified.stdout
        assert "DRIFT gw-balikpapan - (no allocation of main): read-back failed: unreachable: " in verified.stdout
        report = json.loads((lab.path / "reports/latest/report.json").read_text())
        gateways = {g["name"]: g for g in report["gateways"]}
        assert gateways["gw-balikpapan"]["applied"] is False and gateways["gw-balikpapan"]["reason"].startswith("gw-balikpapan: unreachable: ")
        assert gateways["gw-samarinda"]["applied"] is True
        verdicts = {a["id"]: a["verdict"] for a in report["allocations"]}
        assert {verdicts[i] for i in ("BW-2026-0010", "BW-2026-0011", "BW-2026-0012")} == {"not_applied"}
        assert "not_applied" not in {v for i, v in verdicts.items() if i <= "BW-2026-0009"}
    finally:
        sshd = gateway["sshd"]
        subprocess.run(["ip", "netns", "exec", gateway["namespace"], "/usr/sbin/sshd", "-f", sshd["config"], "-E", sshd["log"]], check=True)
        deadline = time.monotonic() + 5
        while lab.run(BANDWIDTH, "lab", "status", check=False).returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    later = lab.apply()
    assert recap_changed(later.stdout)["gw-balikpapan"] == 1
    assert "prio 5" in lab.classes("gw-balikpapan", "eth1")[minor("BW-2026-0011")]
    record = json.loads((lab.path / ".plans/gw-balikpapan.applied.json").read_text())
    assert record["applied"] is True and {d["allocation"] for d in record["differences"]} == {"BW-2026-0011"}
