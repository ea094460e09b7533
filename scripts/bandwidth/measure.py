"""`bandwidth measure`: real throughput per allocation with iperf3, in the lab (SOP step 8).

Each allocation's client (a namespace of the lab, inside the agency's subnet) runs iperf3 to the
server of its uplink, through the gateway: download with -R (the server sends, shaped on the LAN
interface), upload without (shaped on the ifb). First each allocation alone (it should reach its
max_mbps), then all allocations of an uplink at once (each should keep its guaranteed_mbps).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DIRECTIONS = ("download", "upload")


class MeasureError(Exception):
    pass


@dataclass
class Options:
    lab_dir: Path
    ids: list[str] | None = None  # None: every client of the lab
    duration: int = 3  # seconds measured, after one second of TCP warm-up left out
    contention: bool = True


def _iperf_argv(client: dict, direction: str, duration: int) -> list[str]:
    argv = ["ip", "netns", "exec", client["namespace"], "iperf3", "-c", client["server_address"], "-p", str(client["server_port"])]
    argv += ["-B", client["address"], "-t", str(duration), "-O", "1", "-J", "--connect-timeout", "3000"]
    return [*argv, "-R"] if direction == "download" else argv


def _mbps(output: str, where: str) -> float:
    try:
        result = json.loads(output)
        return round(result["end"]["sum_received"]["bits_per_second"] / 1e6, 3)
    except (ValueError, KeyError, TypeError):
        error = ""
        with contextlib.suppress(ValueError, AttributeError):
            error = json.loads(output).get("error", "")
        raise MeasureError(f"iperf3 {where}: no result{': ' + error if error else ''}") from None


def run_parallel(jobs: list[tuple[str, list[str]]], timeout: float) -> dict[str, str]:
    """Start every iperf3 at once and wait for all: key -> stdout."""
    started = {key: subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for key, argv in jobs}
    outputs = {}
    deadline = time.monotonic() + timeout
    try:
        for key, process in started.items():
            out, _err = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            outputs[key] = out
    finally:
        for process in started.values():
            if process.poll() is None:  # only what this function started
                process.kill()
                process.wait()
    return outputs


def measure(options: Options) -> dict:
    """{"duration", "alone": {id: {download, upload}}, "contention": {id: {download, upload}}}."""
    doc_path = options.lab_dir / "lab.json"
    if not doc_path.exists():
        raise MeasureError(f"no lab in {options.lab_dir} (`bandwidth lab up` builds one)")
    lab = json.loads(doc_path.read_text())
    clients = [c for c in lab["clients"] if options.ids is None or c["id"] in options.ids]
    if options.ids is not None:
        missing = sorted(set(options.ids) - {c["id"] for c in clients})
        if missing:
            raise MeasureError(f"no lab client for {', '.join(missing)}")
    timeout = options.duration + 15
    by_uplink: dict[tuple, list] = {}
    for client in clients:
        by_uplink.setdefault((client["gateway"], client["uplink"]), []).append(client)
    groups = list(by_uplink.values())
    alone: dict[str, dict] = {}
    # Alone means alone in its uplink's tree: one allocation of every uplink at a time, since
    # uplinks are separate HTB trees on separate interfaces and cannot slow each other.
    for round_index in range(max((len(g) for g in groups), default=0)):
        batch = [g[round_index] for g in groups if round_index < len(g)]
        for direction in DIRECTIONS:
            outputs = run_parallel([(c["id"], _iperf_argv(c, direction, options.duration)) for c in batch], timeout)
            for client in batch:
                alone.setdefault(client["id"], {})[direction] = _mbps(outputs[client["id"]], f"{client['id']} {direction}")
    contention: dict[str, dict] = {}
    if options.contention:  # every allocation of every uplink at once
        for direction in DIRECTIONS:
            outputs = run_parallel([(c["id"], _iperf_argv(c, direction, options.duration)) for c in clients], timeout)
            for client in clients:
                contention.setdefault(client["id"], {})[direction] = _mbps(outputs[client["id"]], f"{client['id']} {direction} (all of {client['uplink']} at once)")
    return {"duration": options.duration, "alone": alone, "contention": contention}
