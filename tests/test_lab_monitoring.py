"""Monitoring on the lab for real: the collector in each gateway namespace, Prometheus and Alertmanager beside it.

Known traffic through two allocations: Prometheus' rates agree with the tc counters; every panel of the
Grafana dashboard returns data; the root qdisc removed by hand fires BandwidthShapingHilang, and the alert
reaches the webhook.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import grafanadashboard as grafana
from bandwidth.reports.measure_round import iperf_argv
from conftest import BANDWIDTH, ROOT, applied_lab, copy_repo, stop_process

PAIR = "198.19.255.1"  # the lab's monitoring address (first gateway's management link, root side)
WEBHOOK_PORT = 9095
SHAPING_LOST_FOR = 5  # seconds: the lab's `for:` of BandwidthShapingHilang (bandwidth.lab.monitoring.LAB_SETTINGS)
# Quotes and a backslash: what `bandwidth check` lets through in an agency, and what breaks a careless exposition.
HOSTILE_AGENCY = 'Dinas "Komunikasi" \\ Informatika {x="1"} # 100%'
DRIVEN = {  # id: (gateway, direction, iperf3 -b in Mbit/s, or None for as fast as HTB lets it)
    "BW-2026-0001": ("gw-samarinda", "download", 20),  # max 100: paced below it
    "BW-2026-0007": ("gw-samarinda", "download", None),  # max 60: held at its ceiling
}
WINDOW = 12  # seconds over which the rates are compared


class AlertReceiver:
    """Alertmanager's webhook, on a lab address: keeps every notification it is sent."""

    def __init__(self, address: str, port: int):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((address, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://{address}:{port}/"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def query(prometheus: str, expr: str, at: float | None = None) -> list[dict]:
    params = {"query": expr} | ({"time": f"{at:.3f}"} if at else {})
    with urllib.request.urlopen(f"{prometheus}/api/v1/query?{urllib.parse.urlencode(params)}", timeout=10) as answer:
        doc = json.load(answer)
    assert doc["status"] == "success", (expr, doc)
    return doc["data"]["result"]


def class_bytes(gateway: str, device: str) -> dict[str, int]:
    from bandwidth.shaping.tc import parse

    text = subprocess.run(["ip", "netns", "exec", f"bwlab-{gateway}", "tc", "-s", "class", "show", "dev", device], capture_output=True, text=True, check=True).stdout
    return {classid: values["bytes"] for classid, values in parse.parse_counters(text).items()}


def minor_of(ident: str) -> str:
    from bandwidth.shaping.tc import build

    return f"1:{build.minor_for(ident):x}"


@pytest.mark.lab
def test_prometheus_on_the_lab_agrees_with_tc_fires_shaping_hilang_and_fills_every_panel(tmp_path: Path):
    path = copy_repo(tmp_path / "repo")
    request = path / "allocations" / "gw-samarinda" / "BW-2026-0007.yaml"
    text = request.read_text()
    request.write_text(text.replace(text.splitlines()[2], "agency: '" + HOSTILE_AGENCY + "'"))
    git = ["git", "-C", str(path), "-c", "user.name=lab", "-c", "user.email=lab@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "lab"], check=True)  # the plans carry this commit
    with applied_lab(path) as lab, AlertReceiver(PAIR, WEBHOOK_PORT) as receiver:
        done = lab.run(BANDWIDTH, "lab", "monitoring", "--webhook-url", receiver.url)
        prometheus = f"http://{PAIR}:9090"
        assert prometheus in done.stdout

        # The exposition itself: promtool's lint, and the hostile agency read back exactly.
        scrape = urllib.request.urlopen(f"http://{lab.description()['gateways'][1]['mgmt']['address']}:9469/metrics", timeout=10).read()
        lint = subprocess.run(["promtool", "check", "metrics"], input=scrape, capture_output=True, check=False)
        assert lint.returncode == 0, lint.stdout + lint.stderr

        clients = {c["id"]: c for c in lab.description()["clients"]}
        processes = []
        try:
            for ident, (_gateway, direction, mbps) in DRIVEN.items():
                argv = iperf_argv(clients[ident], next(iter(clients[ident]["families"])), direction, WINDOW + 12, streams=1)
                processes.append(subprocess.Popen([*argv, *(["-b", f"{mbps}M"] if mbps else [])], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(4)  # past TCP's start
            interfaces = {(gw["name"], up["name"]): up["lan_interface"] for gw in lab.description()["gateways"] for up in gw["uplinks"]}
            devices = {(clients[ident]["gateway"], interfaces[clients[ident]["gateway"], clients[ident]["uplink"]]) for ident in DRIVEN}
            start, before = time.time(), {k: v for gateway, device in devices for k, v in class_bytes(gateway, device).items()}
            time.sleep(WINDOW)
            end, after = time.time(), {k: v for gateway, device in devices for k, v in class_bytes(gateway, device).items()}
            time.sleep(2)  # Prometheus has scraped past `end`
            assert all(p.poll() is None for p in processes), "an iperf3 ended before the window did"

            compared = {}
            for ident in DRIVEN:
                by_tc = (after[minor_of(ident)] - before[minor_of(ident)]) / (end - start)
                result = query(prometheus, f'rate(bandwidth_allocation_sent_bytes_total{{allocation="{ident}",direction="download"}}[{WINDOW}s])', at=end)
                assert len(result) == 1, result
                by_prometheus = float(result[0]["value"][1])
                compared[ident] = (round(by_tc * 8 / 1e6, 2), round(by_prometheus * 8 / 1e6, 2))
                samples = query(prometheus, f'bandwidth_allocation_sent_bytes_total{{allocation="{ident}",direction="download"}}[{WINDOW}s]', at=end)[0]["values"]
                scrapes = query(prometheus, f'max_over_time(scrape_duration_seconds{{gateway="gw-samarinda"}}[{WINDOW}s])', at=end)
                assert by_prometheus == pytest.approx(by_tc, rel=0.03), (ident, compared[ident], start, end, [round(t - start, 3) for t, _v in samples], scrapes)
            print(f"Mbit/s (tc counters, Prometheus rate over {WINDOW} s): {compared}")

            # Every panel of the dashboard returns data for the driven allocations.
            labels = query(prometheus, 'bandwidth_allocation_maximum_bytes_per_second{allocation="BW-2026-0007",direction="download"}')[0]["metric"]
            assert labels["agency"] == HOSTILE_AGENCY and labels["family"] == "ipv4" and labels["uplink"] == "isp-b"
            dashboard = grafana.load_dashboard(ROOT / "monitoring" / "grafana" / "dashboards" / "bandwidth.json")
            other_agency = query(prometheus, 'bandwidth_allocation_maximum_bytes_per_second{allocation="BW-2026-0001",direction="download"}')[0]["metric"]["agency"]
            variables = {"datasource": "bandwidth-prometheus", "gateway": ["gw-samarinda"], "agency": [HOSTILE_AGENCY, other_agency], "allocation": list(DRIVEN), "direction": ["download"]}
            empty = [(title, ref, expr) for title, ref, expr in grafana.panel_queries(dashboard, variables, rate_interval="5s", interval="1s", time_range="1m") if not query(prometheus, expr)]
            assert not empty, f"panels without data: {empty}"
        finally:
            for process in processes:
                stop_process(process, timeout=5)

        # Shaping lost on one gateway: the alert fires within its `for:` and a few evaluations, and reaches the webhook.
        assert not query(prometheus, 'ALERTS{alertname="BandwidthShapingHilang"}')
        shaped = {r["metric"]["gateway"]: r["value"][1] for r in query(prometheus, "bandwidth_shaping_matches_plan")}
        assert shaped == {"gw-balikpapan": "1", "gw-samarinda": "1"}
        removed = time.monotonic()
        subprocess.run(["ip", "netns", "exec", "bwlab-gw-samarinda", "tc", "qdisc", "del", "dev", "eth1", "root"], check=True)
        firing = None
        while time.monotonic() - removed < SHAPING_LOST_FOR + 15 and not firing:
            time.sleep(0.25)
            firing = query(prometheus, 'ALERTS{alertname="BandwidthShapingHilang",alertstate="firing"}')
        fired_after = time.monotonic() - removed
        assert firing, f"BandwidthShapingHilang did not fire within {SHAPING_LOST_FOR + 15} s"
        assert {a["metric"]["gateway"] for a in firing} == {"gw-samarinda"}  # not the gateway that still shapes
        assert fired_after >= SHAPING_LOST_FOR, "fired before its `for:`"
        while time.monotonic() - removed < fired_after + 15 and not _notified(receiver, "BandwidthShapingHilang"):
            time.sleep(0.25)
        notified = _notified(receiver, "BandwidthShapingHilang")
        assert notified, f"the webhook got no BandwidthShapingHilang: {receiver.received}"
        assert notified["labels"]["gateway"] == "gw-samarinda" and notified["status"] == "firing"
        print(f"BandwidthShapingHilang firing {fired_after:.1f} s after the root qdisc was removed; at the webhook {time.monotonic() - removed:.1f} s after")


def _notified(receiver: AlertReceiver, alertname: str) -> dict | None:
    return next((alert for message in receiver.received for alert in message.get("alerts", []) if alert["labels"].get("alertname") == alertname), None)
