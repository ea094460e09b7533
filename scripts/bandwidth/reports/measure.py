"""`bandwidth measure`: real throughput per allocation with iperf3, in the lab (SOP step 8).

Each allocation's client (a namespace of the lab, inside the agency's subnets) runs iperf3 to the
server of its uplink, through the gateway: download with -R (the server sends, shaped on the LAN
interface), upload without (shaped on the ifb). An allocation is measured in every family it has:
each family alone, then (dual-stack) both at once, which proves they share the one class. First
each allocation alone in its uplink (it should reach its max_mbps), then all allocations of an
uplink at once (each should keep its guaranteed_mbps).

Beside iperf3's goodput (TCP payload) the rate on the wire is read from the gateway: the byte
counters of the allocation's HTB class, read every tenth of a second from iperf3's warm-up second
to near the end, the rate being the slope of a line fitted through those reads.
That is what HTB shapes (layer 2: Ethernet header included). While an allocation's download is
saturated alone, ping from its client to the server gives the round-trip time under load, beside
the idle one measured before any load.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bandwidth.model import DIRECTIONS
from bandwidth.shaping.plan import GatewayPlan
from bandwidth.shaping.tc import parse

WARM_UP = 1  # seconds iperf3 leaves out (-O), before the counters are first read
TAIL = 0.7  # seconds before the end of the streams when the counters are last read
# Seconds between reads of the counters. A read's time is known to some milliseconds, tens on a
# busy machine (a process per read): two reads a second apart put the rate a few percent off; a
# line fitted through ten or more halves the spread (lab, 2 s runs: stdev 0.85 % -> 0.43 %).
SAMPLE_EVERY = 0.1
# TCP connections per iperf3 run. One connection saws: each loss in the leaf queue halves its window
# and can leave the class idle for a moment, most at low rates (a 10 Mbit/s upload through the ifb's
# 32-packet queue carried 95.5-99 % of its ceiling over a second). Several desynchronised ones keep
# the class busy, which is what is being judged: the shaper's ceiling, not one TCP's sawtooth.
STREAMS = 4
_RTT = re.compile(r"= [\d.]+/([\d.]+)/")


class MeasureError(Exception):
    pass


@dataclass
class Options:
    lab_dir: Path
    ids: list[str] | None = None  # None: every client of the lab
    duration: int = 3  # seconds measured, after one second of TCP warm-up left out
    contention: bool = True
    # id -> {"namespace": gateway namespace, "download": [device, minor], "upload": [device, minor]}:
    # where the allocation's class counts its bytes (wire_targets); None: goodput only.
    wire: dict | None = None


def wire_targets(plans: dict[str, GatewayPlan], lab: dict) -> dict:
    """Per allocation, the gateway namespace, devices and class minors, from the plans of `bandwidth render`."""
    namespaces = {gw["name"]: gw["namespace"] for gw in lab.get("gateways", [])}
    found: dict[str, dict] = {}
    for name, plan in plans.items():
        for device in plan.devices:
            for item in device.classes:
                entry = found.setdefault(item.label, {"namespace": namespaces.get(name)})
                entry[device.direction] = [device.device, item.minor]
    return {k: v for k, v in found.items() if v["namespace"] and all(d in v for d in DIRECTIONS)}


def iperf_argv(client: dict, family: str, direction: str, duration: int, streams: int = STREAMS) -> list[str]:
    """iperf3 from the client's namespace to its uplink's server, JSON out; a rate (-b) added after applies per stream."""
    target = client["families"][family]
    argv = ["ip", "netns", "exec", client["namespace"], "iperf3", "-c", target["server_address"], "-p", str(target["server_port"])]
    argv += ["-B", target["address"], "-t", str(duration), "-O", str(WARM_UP), "-J", "--connect-timeout", "3000", "-P", str(streams)]
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


def _counters(devices: set[tuple[str, str]]) -> dict[tuple[str, str, int], tuple[int, float]]:
    """(namespace, device, minor) -> (bytes sent, when read), for every class of the given devices.

    Each device has its own time (the middle of its tc call): reading several devices one after
    the other takes tens of milliseconds, a few percent of a measured second."""
    found = {}
    for namespace, device in sorted(devices):
        before = time.monotonic()
        done = subprocess.run(["ip", "netns", "exec", namespace, "tc", "-s", "-j", "class", "show", "dev", device], capture_output=True, text=True, check=False)
        when = (before + time.monotonic()) / 2
        for classid, counters in parse.parse_counters(done.stdout).items():  # the parser of the module bandwidth_counters
            major, _, minor = classid.partition(":")
            if major == "1" and minor:
                found[(namespace, device, int(minor, 16))] = (counters["bytes"], when)
    return found


def wire_mbps(points: list[tuple[float, int]]) -> float | None:
    """Mbit/s from (time, bytes sent) reads of one class: the least-squares slope through all of them.

    None without two reads, or if the counter went back (the class was replaced meanwhile)."""
    if len(points) < 2 or any(later[1] < earlier[1] for earlier, later in itertools.pairwise(points)):
        return None
    times, sent = zip(*points, strict=True)
    return round(statistics.linear_regression(times, sent).slope * 8 / 1e6, 3)


def run_parallel(jobs: list[tuple[str, list[str]]], timeout: float, during=None) -> dict[str, str]:
    """Start every job at once and wait for all: key -> stdout. `during()` runs meanwhile, in this thread."""
    started = {key: subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for key, argv in jobs}
    outputs: dict[str, str] = {}
    readers = [threading.Thread(target=lambda k=key, p=process: outputs.__setitem__(k, p.communicate()[0]), daemon=True) for key, process in started.items()]
    try:
        for reader in readers:
            reader.start()
        if during:
            during()
        deadline = time.monotonic() + timeout
        for reader in readers:
            reader.join(max(0.1, deadline - time.monotonic()))
    finally:
        for process in started.values():
            if process.poll() is None:  # only what this function started
                process.kill()
                process.wait()
        for reader in readers:
            reader.join(5)
    return outputs


class _Round:
    """One set of iperf3 runs at once, with the class counters read around its measured seconds."""

    def __init__(self, options: Options, streams: list[tuple[dict, str]], direction: str, pings: tuple = ()):
        self.options, self.streams, self.direction, self.pings = options, streams, direction, pings
        self.wire: dict[str, float] = {}
        self.rtt: dict[str, float | None] = {}

    def _targets(self) -> dict[str, tuple[str, str, int]]:
        targets = {}
        for client, _family in self.streams:
            target = (self.options.wire or {}).get(client["id"])
            if target:
                device, minor = target[self.direction]
                targets[client["id"]] = (target["namespace"], device, minor)
        return targets

    def _sample(self) -> None:
        targets = self._targets()
        devices = {(ns, device) for ns, device, _minor in targets.values()}
        count = max(3, int((self.options.duration - 0.5) / 0.2))
        series: dict[tuple[str, str, int], list[tuple[float, int]]] = {key: [] for key in targets.values()}

        def read() -> None:
            for key, (sent, when) in _counters(devices).items():
                if key in series:
                    series[key].append((when, sent))

        started = time.monotonic()
        time.sleep(WARM_UP + 0.3)  # connect, then iperf3's warm-up second
        read()
        pingers = {client["id"]: subprocess.Popen(_ping_argv(client, count, 2), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for client in self.pings}
        # End well before the streams do: each iperf3 starts a little later than the last, and the
        # streams of a dual-stack test share one class, so a stream ending early would leave it idle.
        end = max(time.monotonic() + 0.5, started + WARM_UP + self.options.duration - TAIL)
        while (now := time.monotonic()) < end:
            time.sleep(min(SAMPLE_EVERY, end - now))
            read()
        for client_id, key in targets.items():
            rate = wire_mbps(series[key])
            if rate is not None:
                self.wire[client_id] = rate
        for client_id, pinger in pingers.items():
            try:
                out, _ = pinger.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                pinger.kill()
                out, _ = pinger.communicate()
            self.rtt[client_id] = _rtt(out)

    def run(self) -> dict[tuple[str, str], float]:
        jobs = [(f"{client['id']}/{family}", iperf_argv(client, family, self.direction, self.options.duration)) for client, family in self.streams]
        outputs = run_parallel(jobs, self.options.duration + WARM_UP + 15, during=self._sample)
        return {(c["id"], f): _mbps(outputs.get(f"{c['id']}/{f}", ""), f"{c['id']} {self.direction} {f}") for c, f in self.streams}


def _rtt(ping_output: str) -> float | None:
    match = _RTT.search(ping_output or "")
    return round(float(match.group(1)), 3) if match else None


def _ping_argv(client: dict, count: int, wait: int) -> list[str]:
    """ping from the client to its server, in its first family (the one the RTT is reported for)."""
    server = next(iter(client["families"].values()))["server_address"]
    return ["ip", "netns", "exec", client["namespace"], "ping", "-q", "-n", "-c", str(count), "-i", "0.2", "-W", str(wait), server]


def _idle_rtt(clients: list[dict]) -> dict[str, float | None]:
    outputs = run_parallel([(c["id"], _ping_argv(c, 5, 1)) for c in clients], 10)
    return {key: _rtt(out) for key, out in outputs.items()}


def measure(options: Options) -> dict:  # noqa: PLR0912 - the measuring sequence (alone, per family, together) in the order it runs
    """{"duration", "alone": {id: {direction: Mbit/s}}, "contention": {...}, "wire_alone", "wire_contention",
    "by_family": {id: {direction: {family: {"measured_mbps", "wire_mbps"}}}}, "rtt": {id: {family, idle, loaded}}}.

    Alone and contention figures are of every family of the allocation at once."""
    doc_path = options.lab_dir / "lab.json"
    if not doc_path.exists():
        raise MeasureError(f"no lab in {options.lab_dir} (`bandwidth lab up` builds one)")
    lab = json.loads(doc_path.read_text())
    clients = [c for c in lab["clients"] if options.ids is None or c["id"] in options.ids]
    if options.ids is not None:
        missing = sorted(set(options.ids) - {c["id"] for c in clients})
        if missing:
            raise MeasureError(f"no lab client for {', '.join(missing)}")
    result: dict = {"duration": options.duration, "alone": {}, "contention": {}, "wire_alone": {}, "wire_contention": {}, "by_family": {}, "rtt": {}}
    idle = _idle_rtt(clients)
    for client in clients:
        result["rtt"][client["id"]] = {"family": next(iter(client["families"])), "idle": idle.get(client["id"]), "loaded": None}

    # The tests of one allocation: each family alone, then all of them at once (dual-stack).
    tests: dict[str, list[tuple[str, ...]]] = {}
    for client in clients:
        names = tuple(client["families"])
        tests[client["id"]] = [(name,) for name in names] + ([names] if len(names) > 1 else [])
    by_uplink: dict[tuple, list] = {}
    for client in clients:
        for test in tests[client["id"]]:
            by_uplink.setdefault((client["gateway"], client["uplink"]), []).append((client, test))
    groups = list(by_uplink.values())
    # Alone means alone in its uplink's tree: one test of every uplink at a time, since uplinks are
    # separate HTB trees on separate interfaces and cannot slow each other.
    for round_index in range(max((len(g) for g in groups), default=0)):
        batch = [g[round_index] for g in groups if round_index < len(g)]
        streams = [(client, family) for client, test in batch for family in test]
        for direction in DIRECTIONS:
            # RTT under load: during the download of each allocation's first test (its first family alone).
            pings = tuple(client for client, test in batch if direction == "download" and test == tests[client["id"]][0])
            one = _Round(options, streams, direction, pings=pings)
            got = one.run()
            for client_id, rtt in one.rtt.items():
                result["rtt"][client_id]["loaded"] = rtt
            for client, test in batch:
                goodput = round(sum(got[(client["id"], f)] for f in test), 3)
                family_entry = result["by_family"].setdefault(client["id"], {d: {} for d in DIRECTIONS})[direction]
                if len(test) == 1:
                    family_entry[test[0]] = {"measured_mbps": goodput, "wire_mbps": one.wire.get(client["id"])}
                if test == tests[client["id"]][-1]:  # every family at once (for one family: that one)
                    result["alone"].setdefault(client["id"], {})[direction] = goodput
                    result["wire_alone"].setdefault(client["id"], {})[direction] = one.wire.get(client["id"])
    if options.contention:  # every allocation of every uplink at once, every family
        streams = [(client, family) for client in clients for family in client["families"]]
        for direction in DIRECTIONS:
            one = _Round(options, streams, direction)
            got = one.run()
            for client in clients:
                result["contention"].setdefault(client["id"], {})[direction] = round(sum(got[(client["id"], f)] for f in client["families"]), 3)
                result["wire_contention"].setdefault(client["id"], {})[direction] = one.wire.get(client["id"])
    return result
