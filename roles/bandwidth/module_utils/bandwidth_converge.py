"""Converge one gateway to its plan, safely: the lock, the batch, the rollback, the journal.

Standard library only. Used on the gateway by the Ansible modules `bandwidth_tc` and
`bandwidth_acknowledge`, and by `bandwidth-restore`, the boot-time program the role installs
(it imports this file and the tc core, bandwidth_tc_*.py, from the folder beside it).

The gateway's state folder (`bandwidth_state_dir`, one per gateway):

    lock             flock(2): exclusive while a run reads, changes or rolls back the tc state,
                     shared while a read-back (check mode) reads it; holds the owner as JSON
    applied.json     the plan last applied in full, with the leaf qdisc: what boot restores
    unreported.json  differences applied but not yet recorded by a controller, per run; a run
                     reports them all, and `bandwidth_acknowledge` drops them once recorded
    failed.batch     the tc batch of the last failed run (the command list stays off the log)

The lock lives on the gateway because runs may come from different controllers. flock is
released by the kernel when its holder dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import signal
import socket
import tempfile
import time

try:  # inside an Ansible module
    from ansible.module_utils.bandwidth_tc_build import filter_redirect
    from ansible.module_utils.bandwidth_tc_parse import parse_classes, parse_filters, parse_qdiscs, redirect_targets
    from ansible.module_utils.bandwidth_tc_plan import differences, plan_device, plan_redirect
    from ansible.module_utils.bandwidth_tc_rollback import restore_commands
except ImportError:  # bandwidth-restore, with this folder on sys.path
    from bandwidth_tc_build import filter_redirect  # type: ignore[no-redef]
    from bandwidth_tc_parse import parse_classes, parse_filters, parse_qdiscs, redirect_targets  # type: ignore[no-redef]
    from bandwidth_tc_plan import differences, plan_device, plan_redirect  # type: ignore[no-redef]
    from bandwidth_tc_rollback import restore_commands  # type: ignore[no-redef]

STATE_FORMAT = 1
LOCK_POLL_SECONDS = 0.02
# While the tc state is being changed or restored, the run must finish by itself: a dropped SSH
# connection (SIGHUP, SIGPIPE) or a ^C on the controller must not stop it half way.
SHIELDED_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)


class ConvergeError(Exception):
    """A problem that stops the run before anything was changed; the message names it."""


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")  # noqa: UP017 - gateways may run Python < 3.11


# ---- the lock ------------------------------------------------------------------------------


class LockTimeout(ConvergeError):
    pass


class GatewayLock:
    """flock on <state_dir>/lock; the exclusive holder writes who it is into the file."""

    def __init__(self, state_dir: str, exclusive: bool, owner: dict, timeout: float):
        self.path = os.path.join(state_dir, "lock")
        self.exclusive, self.owner, self.timeout = exclusive, owner, timeout
        self.handle = None
        self.waited = 0.0

    def __enter__(self):
        os.makedirs(os.path.dirname(self.path), mode=0o750, exist_ok=True)
        self.handle = open(self.path, "a+", encoding="utf-8")  # held until __exit__
        mode = (fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        started = time.monotonic()
        while True:
            try:
                fcntl.flock(self.handle, mode)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() - started >= self.timeout:
                holder = read_owner(self.path)
                self.handle.close()
                raise LockTimeout(f"another run holds the gateway's lock {self.path} ({holder}); waited {self.timeout:g} s")
            time.sleep(LOCK_POLL_SECONDS)
        self.waited = time.monotonic() - started
        if self.exclusive:
            self.handle.seek(0)
            self.handle.truncate()
            self.handle.write(json.dumps({**self.owner, "pid": os.getpid(), "host": socket.gethostname(), "since": utc_now()}) + "\n")
            self.handle.flush()
        return self

    def __exit__(self, *exc_info):
        if self.exclusive:
            with contextlib.suppress(OSError):
                self.handle.seek(0)
                self.handle.truncate()
        self.handle.close()  # releases the flock


def read_owner(path: str) -> str:
    """Who holds the lock, in words: controller host and pid, gateway pid, since when."""
    try:
        with open(path, encoding="utf-8") as handle:
            owner = json.loads(handle.read() or "null")
    except (OSError, ValueError):
        owner = None
    if not isinstance(owner, dict):
        return "held by a read-back, or a run that has not written its name yet"
    parts = [f"{key} {owner[key]}" for key in ("controller", "controller_pid", "purpose") if owner.get(key)]
    parts.append(f"pid {owner.get('pid')} on {owner.get('host')} since {owner.get('since')}")
    return "held by " + ", ".join(parts)


@contextlib.contextmanager
def shielded():
    """Ignore the signals of a dropped connection or an impatient controller while tc changes."""
    previous = {}
    for number in SHIELDED_SIGNALS:
        with contextlib.suppress(ValueError, OSError):  # not in the main thread: nothing to shield
            previous[number] = signal.signal(number, signal.SIG_IGN)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# ---- files of the state folder -----------------------------------------------------------------


def write_json(path: str, doc) -> None:
    """Write-then-rename with fsync: after a crash the file is the old one or the new one."""
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o750, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(doc, out, separators=(",", ":"))
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_json(path: str, default):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise ConvergeError(f"{path} cannot be read ({exc}); move it aside to start afresh") from None


def unreported_runs(state_dir: str) -> list[dict]:
    doc = read_json(os.path.join(state_dir, "unreported.json"), {"runs": []})
    runs = doc.get("runs") if isinstance(doc, dict) else None
    return runs if isinstance(runs, list) else []


def journal_run(state_dir: str, run_id: str, found: list[dict]) -> None:
    runs = unreported_runs(state_dir)
    runs.append({"run": run_id, "time": utc_now(), "differences": found})
    write_json(os.path.join(state_dir, "unreported.json"), {"format": STATE_FORMAT, "runs": runs})


def acknowledge(state_dir: str, run_ids: list[str]) -> int:
    """Drop the runs a controller has recorded; returns how many were dropped."""
    runs = unreported_runs(state_dir)
    kept = [run for run in runs if run.get("run") not in set(run_ids)]
    if len(kept) != len(runs):
        write_json(os.path.join(state_dir, "unreported.json"), {"format": STATE_FORMAT, "runs": kept})
    return len(runs) - len(kept)


def plan_digest(plan: dict, leaf: str) -> str:
    import hashlib

    text = json.dumps({"devices": plan["devices"], "redirects": plan["redirects"], "ifbs": plan["ifbs"], "leaf": leaf}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def keep_applied(state_dir: str, plan: dict, leaf: str) -> bool:
    """Remember the plan that is now on the gateway, for boot restore; True if it was new."""
    path = os.path.join(state_dir, "applied.json")
    digest = plan_digest(plan, leaf)
    current = read_json(path, {}) if os.path.exists(path) else {}
    if isinstance(current, dict) and current.get("digest") == digest:
        return False
    plan_only = {key: plan[key] for key in ("gateway", "devices", "redirects", "ifbs")}
    write_json(path, {"format": STATE_FORMAT, "gateway": plan["gateway"], "leaf_qdisc": leaf, "digest": digest, "time": utc_now(), "plan": plan_only})
    return True


def keep_monitoring_labels(state_dir: str, plan: dict) -> bool:
    """Keep what the collector labels its series with (agencies, the commit rendered); True if it changed."""
    path = os.path.join(state_dir, "monitoring.json")
    labels = {"format": STATE_FORMAT, "gateway": plan["gateway"], "commit": plan.get("commit"), "agencies": plan.get("agencies") or {}}
    if os.path.exists(path) and read_json(path, None) == labels:
        return False
    write_json(path, labels)
    return True


# ---- reading and changing tc -------------------------------------------------------------------


def device_exists(device: str) -> bool:
    return os.path.exists(f"/sys/class/net/{device}")


class Gateway:
    """tc and ip on this gateway, through `run(argv) -> (rc, stdout, stderr)`."""

    def __init__(self, run, tc: str, ip: str, scratch_dir: str):
        self.run, self.tc, self.ip, self.scratch_dir = run, tc, ip, scratch_dir

    def read(self, device: str) -> dict:
        def show(*args):
            rc, out, err = self.run([self.tc, *args])
            if rc != 0:
                raise ConvergeError(f"cannot read tc state of {device}: tc {' '.join(args)}: {err.strip()}")
            return out

        return {
            "qdiscs": parse_qdiscs(show("-j", "qdisc", "show", "dev", device)),
            "classes": parse_classes(show("-d", "class", "show", "dev", device)),
            "filters": parse_filters(show("-j", "filter", "show", "dev", device, "parent", "1:")),
            "ingress_filters": show("-j", "filter", "show", "dev", device, "parent", "ffff:"),
        }

    def batch(self, commands: list[str], force: bool = False) -> tuple[bool, str | None, str]:
        """One tc -batch; returns (ok, the failing command, tc's message)."""
        handle, path = tempfile.mkstemp(dir=self.scratch_dir, prefix=".batch-", suffix=".tc")
        with os.fdopen(handle, "w") as out:
            out.write("\n".join(commands) + "\n")
        try:
            rc, _out, err = self.run([self.tc, "-force", "-batch", path] if force else [self.tc, "-batch", path])
        finally:
            os.unlink(path)
        if rc == 0:
            return True, None, ""
        failed = None
        for line in err.splitlines():  # "Command failed <file>:<line>"
            if line.startswith("Command failed") and ":" in line:
                with contextlib.suppress(ValueError, IndexError):
                    failed = commands[int(line.rsplit(":", 1)[1]) - 1]
        message = " ".join(line.strip() for line in err.splitlines() if line.strip() and not line.startswith("Command failed"))
        return False, failed, message

    def add_ifb(self, name: str) -> str | None:
        for argv in ([self.ip, "link", "add", "name", name, "type", "ifb"], [self.ip, "link", "set", "dev", name, "up"]):
            rc, _out, err = self.run(argv)
            if rc != 0:
                return err.strip() or f"{' '.join(argv)} failed"
        return None

    def delete_link(self, name: str) -> None:
        self.run([self.ip, "link", "del", "dev", name])


EMPTY_STATE = {"qdiscs": [], "classes": {}, "filters": {"tables": set(), "links": {}, "leaves": {}}, "ingress_filters": "[]"}


def comparable(state: dict) -> dict:
    """What must be the same after a rollback: the objects, not their counters or auto handles."""
    return {
        "qdiscs": sorted((q.get("kind"), q.get("handle"), q.get("parent", "root" if q.get("root") else None)) for q in state["qdiscs"]),
        "classes": state["classes"],
        "tables": sorted(state["filters"]["tables"]),
        "links": {version: link[:3] for version, link in state["filters"]["links"].items()},
        "leaves": state["filters"]["leaves"],
        "redirects": redirect_targets(state["ingress_filters"]),
    }


class Outcome:
    """What a converge did or would do."""

    def __init__(self):
        self.commands: list[str] = []
        self.per_device: dict[str, list[str]] = {}
        self.differences: list[dict] = []
        self.created_ifbs: list[str] = []
        self.ok = True
        self.failed_command: str | None = None
        self.message = ""
        self.rollback_problems: list[str] = []  # after a rollback: what still differs (none: rolled back)


def converge(gateway: Gateway, plan: dict, leaf: str, check_mode: bool, exists=device_exists) -> Outcome:
    """Read every device, plan the fewest commands, run them in one batch; roll back on failure.

    Call it holding the gateway's lock (exclusive unless check_mode)."""
    outcome = Outcome()
    missing_ifbs = [name for name in plan["ifbs"] if not exists(name)]
    missing = [spec["device"] for spec in plan["devices"] if spec["device"] not in plan["ifbs"] and not exists(spec["device"])]
    missing += [r["device"] for r in plan["redirects"] if not exists(r["device"]) and r["device"] not in missing]
    if missing:
        raise ConvergeError(f"devices missing: {', '.join(missing)} (check lan_interface in host_vars)")

    before: dict[str, dict] = {}
    for spec in plan["devices"]:
        device = spec["device"]
        state = EMPTY_STATE if device in missing_ifbs else gateway.read(device)
        before[device] = state
        planned = plan_device(spec, leaf, state["qdiscs"], state["classes"], state["filters"])
        outcome.per_device[device] = planned
        outcome.commands += planned
        outcome.differences += differences(spec, planned)
    for redirect in plan["redirects"]:
        device = redirect["device"]
        state = before.get(device) or gateway.read(device)
        before.setdefault(device, state)
        planned = plan_redirect(device, redirect["ifb"], state["qdiscs"], state["ingress_filters"])
        outcome.per_device[device] = outcome.per_device.get(device, []) + planned
        outcome.commands += planned
        outcome.differences += differences({"device": device}, planned)
    if check_mode or not outcome.commands:
        return outcome

    with shielded():
        for name in missing_ifbs:
            problem = gateway.add_ifb(name)
            if problem:
                outcome.ok, outcome.message = False, f"cannot create ifb {name}: {problem}"
                break
            outcome.created_ifbs.append(name)
        if outcome.ok:
            outcome.ok, outcome.failed_command, outcome.message = gateway.batch(outcome.commands)
        if not outcome.ok:
            touched = {device for device, commands in outcome.per_device.items() if commands}
            outcome.rollback_problems = rollback(gateway, before, touched, outcome.created_ifbs, plan, exists)
    return outcome


def rollback(gateway: Gateway, before: dict, touched: set, created_ifbs: list[str], plan: dict, exists=device_exists) -> list[str]:  # noqa: PLR0912 - one rollback, one branch per kind of device state; kept whole so it is read in one place
    """Put the devices back as they were read, whatever the batch reached; returns what differs after.

    The devices the batch had commands for are rebuilt; an ifb this run created is removed; one
    that existed and is gone (deleted meanwhile) is made again, and the redirect to it restored.
    Then every device is read back and compared with its state before the run."""
    problems = []
    for name in created_ifbs:
        gateway.delete_link(name)
    remade = set()
    for device in before:
        if device not in created_ifbs and not exists(device):
            if device in plan["ifbs"] and gateway.add_ifb(device) is None:
                remade.add(device)
            else:
                problems.append(f"{device} is gone and cannot be made again")
    redirected_to_remade = {r["device"] for r in plan["redirects"] if r["ifb"] in remade}
    restore = []
    for device, state in before.items():
        if device in created_ifbs or not exists(device):
            continue
        if device in touched or device in remade:
            restore += restore_commands(device, state["qdiscs"], state["classes"], state["filters"])
        if device in touched or device in redirected_to_remade:
            # Ingress as it was: none, or the redirects it had (an ifb made again has a new index).
            restore.append(f"qdisc del dev {device} handle ffff: ingress")
            if any(q.get("kind") == "ingress" for q in state["qdiscs"]):
                restore.append(f"qdisc add dev {device} handle ffff: ingress")
                restore += [filter_redirect(device, target) for target in redirect_targets(state["ingress_filters"])]
    if restore:
        gateway.batch(restore, force=True)  # "nothing to delete" is expected; the read-back below decides
    for device, state in before.items():
        if device in created_ifbs or not exists(device):
            continue
        try:
            now = gateway.read(device)
        except ConvergeError as exc:
            problems.append(str(exc))
            continue
        if comparable(now) != comparable(state):
            problems.append(f"{device} differs from its state before the run")
    return problems


def failure_message(gateway_name: str, outcome: Outcome, batch_file: str | None) -> str:
    where = f" at: tc {outcome.failed_command}" if outcome.failed_command else ""
    text = f"{gateway_name}: tc failed{where}: {outcome.message or 'no message from tc'}; "
    if not outcome.rollback_problems:
        text += "the gateway was rolled back to its state before this run"
    else:
        text += "ROLLBACK INCOMPLETE: " + "; ".join(outcome.rollback_problems) + " (see docs/shaping.md: recovering a gateway by hand)"
    if batch_file:
        text += f"; the {len(outcome.commands)} planned commands are in {batch_file} on the gateway"
    return text


def keep_failed_batch(state_dir: str, commands: list[str]) -> str | None:
    path = os.path.join(state_dir, "failed.batch")
    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write("\n".join(commands) + "\n")
    except OSError:
        return None
    return path
