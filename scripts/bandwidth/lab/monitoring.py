"""`bandwidth lab monitoring`: the collector in each lab gateway, Prometheus and Alertmanager beside the lab.

Run after the lab is up and applied (the role installs the collector into each gateway's state folder):
each gateway's namespace runs that installed collector on its management address; Prometheus and
Alertmanager run in the root namespace on the first gateway's management link (198.19.255.1), a lab
address, with the files of `bandwidth monitoring-config` for the lab's inventory and short lab timings.
Their pid files are in the lab's run/ folder, so `bandwidth lab down` stops them with the rest.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from bandwidth.lab.errors import LabError
from bandwidth.lab.processes import alive, cmdline, listening, log_tail, read_pid, stop
from bandwidth.lab.runner import IP
from bandwidth.lab.state import read_json

PYTHON = "/usr/bin/python3"  # the gateways' Python, as the role's unit runs it
PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
EXPORTER_PORT = 9469
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
WEBHOOK_PORT = 9095  # where the lab's Alertmanager posts: `bandwidth alert-webhook --listen 198.19.255.1:9095`, or a test's receiver
START_TIMEOUT = 15.0
# Lab timings: seconds where production has minutes, so that a lab test sees an alert fire.
LAB_SETTINGS = {
    "prometheus": {"scrape_interval": "1s", "evaluation_interval": "1s"},
    "rules": {"shaping_lost_for": "5s", "collector_down_for": "5s", "counter_reset_window": "1m"},
    "alertmanager": {"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h", "resolve_timeout": "1m"},
}


def monitoring_address(doc: dict) -> str:
    """The root namespace's end of the first gateway's management link: a lab address the gateways reach."""
    return doc["gateways"][0]["mgmt"]["root_address"]


def up(lab_dir: Path, webhook_url: str | None = None, smtp_smarthost: str | None = None) -> dict:
    """Start (or restart) the lab's monitoring; returns its URLs (the pids are in the lab's run/ folder)."""
    from bandwidth.monitoring.config_files import render_all, write_all

    doc = read_json(lab_dir)
    if doc is None or doc.get("state") != "up":
        raise LabError(f"no lab is up in {lab_dir}: run `bandwidth lab up` and playbooks/apply.yml first")
    address = monitoring_address(doc)
    folder, run_dir, log_dir = lab_dir / "monitoring", lab_dir / "run", lab_dir / "log"
    down(lab_dir)
    settings = {key: dict(value) for key, value in LAB_SETTINGS.items()}
    settings["prometheus"]["alertmanager"] = f"{address}:{ALERTMANAGER_PORT}"
    settings["prometheus"]["exporter_port"] = EXPORTER_PORT
    settings["alertmanager"]["webhook_url"] = webhook_url or f"http://{address}:{WEBHOOK_PORT}/"
    if smtp_smarthost:
        settings["alertmanager"]["smtp_smarthost"] = smtp_smarthost
    write_all(folder, render_all(Path(doc["inventory"]), settings))

    daemons = []  # (name, argv, port, namespace or None)
    for gw in doc["gateways"]:
        state_dir = Path(doc["lab_dir"]) / "state" / gw["name"]
        program = state_dir / "exporter" / "bandwidth-exporter"
        if not program.is_file():
            raise LabError(f"{gw['name']}: no collector installed in {program.parent}: run playbooks/apply.yml on the lab first")
        argv = [IP, "netns", "exec", gw["namespace"], PYTHON, str(program), "--listen", f"{gw['mgmt']['address']}:{EXPORTER_PORT}", "--state-dir", str(state_dir)]
        daemons.append((f"exporter-{gw['name']}", argv, EXPORTER_PORT))
    daemons.append((
        "prometheus",
        [PROMETHEUS, f"--config.file={folder / 'prometheus.yml'}", f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address={address}:{PROMETHEUS_PORT}", "--storage.tsdb.retention.time=2d"],
        PROMETHEUS_PORT,
    ))  # fmt: skip
    daemons.append((
        "alertmanager",
        [ALERTMANAGER, f"--config.file={folder / 'alertmanager.yml'}", f"--storage.path={folder / 'alertmanager'}", f"--web.listen-address={address}:{ALERTMANAGER_PORT}", "--cluster.listen-address="],
        ALERTMANAGER_PORT,
    ))  # fmt: skip
    started = []
    for name, argv, port in daemons:
        log = (log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        (run_dir / f"{name}.pid").write_text(f"{process.pid}\n")
        started.append((name, process, port))
    deadline = time.monotonic() + START_TIMEOUT
    for name, process, port in started:
        while not listening(process.pid, port):
            if process.poll() is not None or time.monotonic() > deadline:
                down(lab_dir)
                raise LabError(f"{name} is not listening on port {port}; {log_dir / (name + '.log')}: {log_tail(log_dir / (name + '.log'))}")
            time.sleep(0.05)
    for url in (f"http://{address}:{PROMETHEUS_PORT}/-/ready", f"http://{address}:{ALERTMANAGER_PORT}/-/ready"):
        _wait_ready(url, deadline)
    # Prometheus applies discovered targets at most every 5 s: up means every gateway scraped once.
    _wait_scraped(f"http://{address}:{PROMETHEUS_PORT}", len(doc["gateways"]), deadline)
    return {
        "prometheus": f"http://{address}:{PROMETHEUS_PORT}",
        "alertmanager": f"http://{address}:{ALERTMANAGER_PORT}",
        "webhook": settings["alertmanager"]["webhook_url"],
    }


def _wait_ready(url: str, deadline: float) -> None:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 - a lab address
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise LabError(f"{url} is not ready after {START_TIMEOUT:g} s")
        time.sleep(0.1)


def _wait_scraped(prometheus: str, gateways: int, deadline: float) -> None:
    healthy = []
    while True:
        try:
            with urllib.request.urlopen(f"{prometheus}/api/v1/targets?state=active", timeout=1) as answer:  # noqa: S310 - a lab address
                targets = json.load(answer)["data"]["activeTargets"]
            healthy = [t["labels"].get("gateway") for t in targets if t.get("health") == "up"]
            if len(healthy) == gateways:
                return
        except (urllib.error.URLError, OSError, ValueError, KeyError):
            pass
        if time.monotonic() > deadline:
            raise LabError(f"Prometheus scraped {len(healthy)} of {gateways} gateways' collectors after {START_TIMEOUT:g} s; see {prometheus}/targets")
        time.sleep(0.1)


def down(lab_dir: Path) -> int:
    """Stop the lab's monitoring processes (by their pid files); returns how many were running."""
    pids = set()
    for path in (lab_dir / "run").glob("*.pid"):
        if path.name.startswith(("exporter-", "prometheus", "alertmanager")):
            pid = read_pid(path)
            if pid and alive(pid) and str(lab_dir) + "/" in cmdline(pid):  # not a process that reuses the pid
                pids.add(pid)
            path.unlink(missing_ok=True)
    stop(pids)
    return len(pids)
