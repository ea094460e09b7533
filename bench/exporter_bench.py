"""Benchmark: one scrape of the collector on a lab gateway with 4,000 allocations, against raw tc.

One gateway, one uplink, 4,000 allocations: 8,000 HTB classes (download on the LAN interface, upload on
its ifb). Measured in the same run, on the same lab gateway, as CPU seconds (user + system, with the
child processes the collector runs: tc):
  raw      one `tc -s class show` of every shaped device (the floor: reading the counters at all)
  scrape   one scrape of the collector (reading the state, the read-back that sets
           bandwidth_shaping_matches_plan, the counters, and the exposition), median of RUNS
Target (issue #22): a scrape costs at most 0.2 s of CPU per 4,000 classes; the ratio scrape / raw is printed.
Scraped as Prometheus 2.42 scrapes (OpenMetrics, gzip). Also printed: the series one gateway exposes,
the bytes on the wire and the scrape's wall time.
"""

from __future__ import annotations

import gzip
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV_BIN = Path(sys.executable).parent
ALLOCATIONS = 4_000
GATEWAY = "gw-bench"
PORT = 9469
RUNS = 7
TARGET_CPU_PER_4000_CLASSES = 0.2
# What Prometheus 2.42 sends when it scrapes: it takes OpenMetrics, gzipped.
PROMETHEUS_HEADERS = {
    "Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip",
}
LONG_AGENCY = "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Provinsi Kalimantan Timur"


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process and of its children it has waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """CPU seconds of this process's children so far (the tc runs of the raw measurement)."""
    import resource

    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return child.ru_utime + child.ru_stime


def main() -> int:
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import write_big_gateway

    repo = HERE / "out" / "exporter-4k"
    bandwidth = str(VENV_BIN / "bandwidth")
    write_big_gateway(repo if not repo.exists() else _fresh(repo), ALLOCATIONS, GATEWAY)
    for path in (repo / "allocations" / GATEWAY).glob("*.yaml"):  # agencies as long as the province's ("Dinas ... Provinsi Kalimantan Timur")
        path.write_text(path.read_text().replace("agency: Dinas Uji ", f"agency: {LONG_AGENCY} "))
    netns = ["ip", "netns", "exec", f"bwlab-{GATEWAY}"]
    try:
        subprocess.run([bandwidth, "lab", "up", "--no-clients"], cwd=repo, check=True, capture_output=True)
        subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "lab/inventory", "playbooks/apply.yml"], cwd=repo, check=True, capture_output=True)
        lab = json.loads((repo / "lab" / "lab.json").read_text())
        state = repo / "lab" / "state" / GATEWAY
        devices = [d["device"] for d in json.loads((state / "applied.json").read_text())["plan"]["devices"]]
        raws = []
        for _ in range(RUNS):
            before = children_cpu()
            for device in devices:
                subprocess.run([*netns, "tc", "-s", "class", "show", "dev", device], check=True, capture_output=True)
            raws.append(children_cpu() - before)
        scrapes, walls, text, body = measure_scrapes(netns, state, lab["gateways"][0]["mgmt"]["address"])
    finally:
        subprocess.run([bandwidth, "lab", "down"], cwd=repo, check=False, capture_output=True)

    series = sum(1 for line in text.decode().splitlines() if line and not line.startswith("#"))
    classes = ALLOCATIONS * 2
    raw, scrape, wall = statistics.median(raws), statistics.median(scrapes), statistics.median(walls)
    per_4000 = scrape * 4000 / classes
    print(f"collector on one lab gateway with {ALLOCATIONS:,} allocations ({classes:,} HTB classes), median of {RUNS}")
    print(f"  raw     tc -s class show of {len(devices)} devices: {raw:.3f} s CPU")
    print(f"  scrape  {scrape:.3f} s CPU ({per_4000:.3f} s per 4,000 classes; target <= {TARGET_CPU_PER_4000_CLASSES}), {wall:.3f} s wall, ratio to raw {scrape / raw:.1f}")
    print(f"  series  {series:,} in one scrape ({len(text) / 1e6:.1f} MB of OpenMetrics, {len(body) / 1e6:.2f} MB gzipped on the wire)")
    print(json.dumps({"raw_cpu": raw, "scrape_cpu": scrape, "scrape_cpu_per_4000_classes": per_4000, "scrape_wall": wall, "series": series, "bytes": len(text), "wire_bytes": len(body)}))
    return 0 if per_4000 <= TARGET_CPU_PER_4000_CLASSES else 1


def measure_scrapes(netns: list[str], state: Path, address: str) -> tuple[list[float], list[float], bytes, bytes]:
    """CPU and wall time of RUNS scrapes of the installed collector, after one to warm it; the last scrape's text and body."""
    argv = [*netns, "/usr/bin/python3", str(state / "exporter" / "bandwidth-exporter"), "--listen", f"{address}:{PORT}", "--state-dir", str(state)]
    exporter = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://{address}:{PORT}/metrics"
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url, timeout=30).read()  # the first scrape: the plan prepared, caches warm
                break
            except OSError:
                if exporter.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the collector did not answer: {exporter.stderr.read().decode() if exporter.poll() is not None else 'timeout'}") from None
                time.sleep(0.1)
        scrapes, walls, text, body = [], [], b"", b""
        for _ in range(RUNS):
            before, started = cpu_of(exporter.pid), time.perf_counter()
            with urllib.request.urlopen(urllib.request.Request(url, headers=PROMETHEUS_HEADERS), timeout=30) as answer:
                body = answer.read()
                text = gzip.decompress(body) if answer.headers.get("Content-Encoding") == "gzip" else body
            walls.append(time.perf_counter() - started)
            scrapes.append(cpu_of(exporter.pid) - before)
        return scrapes, walls, text, body
    finally:
        exporter.terminate()
        exporter.wait(timeout=10)


def _fresh(repo: Path) -> Path:
    import shutil

    shutil.rmtree(repo)
    return repo


if __name__ == "__main__":
    sys.exit(main())
