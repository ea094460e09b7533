"""One round of `bandwidth measure`: a set of iperf3 runs started at once, with the class counters on
the gateways and iperf3's connections on their sending side read at the start and the end of its
measured window (measure_read), and ping under load where asked.

iperf3 makes and sinks the traffic; the figures are read on this machine's clock. A round whose
iperf3 could not run (a server still busy with the last test, a connection reset while a full
queue drains) is run again, whole, up to ATTEMPTS times.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from bandwidth.reports import measure_read

WARM_UP = 1  # seconds iperf3 leaves out (-O), before the counters are first read
# iperf3 runs this much longer than the window to be measured: the iperf3 of a round start one after
# the other (0.4 s from the first to the last of 14 on a busy machine), and a read takes up to some
# tenths of a second there. The window is read while every stream of the round runs.
TAIL = 1
# TCP connections per iperf3 run. One connection saws: each loss in the leaf queue halves its window
# and can leave the class idle for a moment, most at low rates. Several desynchronised ones keep the
# class busy, which is what is being judged: the shaper's ceiling, not one TCP's sawtooth.
STREAMS = 4
ATTEMPTS = 3  # runs of a round whose iperf3 failed to start or finish, before the failure is the answer
RETRY_PAUSE = 1.0  # seconds for the servers to finish the last test before a round runs again
IDLE_WAIT = 5.0  # seconds at most that a round waits for its servers to be done with the last one
_RTT = re.compile(r"= [\d.]+/([\d.]+)/")


class MeasureError(Exception):
    pass


@dataclass
class Stream:
    """One iperf3 run of a round: an allocation's client in one family, and where its bytes are counted."""

    client: dict
    family: str
    wire: tuple[str, str, int] | None  # (gateway namespace, device, class minor) of this direction
    # (namespace, server port): where the payload is counted, on the sending side of this direction (the server's
    # namespace for a download, the client's for an upload), by the connections to or from the server's port.
    sender: tuple[str, int]
    server: tuple[str, int]  # (the server's namespace, its port)

    @property
    def key(self) -> str:
        return f"{self.client['id']}/{self.family}"


@dataclass
class RoundResult:
    goodput: dict[tuple[str, str], float | None] = field(default_factory=dict)  # (id, family) -> Mbit/s
    wire: dict[str, float] = field(default_factory=dict)  # id -> Mbit/s of its class, every family of the round
    rtt: dict[str, float | None] = field(default_factory=dict)  # id -> ms under load


def iperf_argv(client: dict, family: str, direction: str, duration: int, streams: int = STREAMS) -> list[str]:
    """iperf3 from the client's namespace to its uplink's server, JSON out; a rate (-b) added after applies per stream."""
    target = client["families"][family]
    argv = ["ip", "netns", "exec", client["namespace"], "iperf3", "-c", target["server_address"], "-p", str(target["server_port"])]
    argv += ["-B", target["address"], "-t", str(duration), "-O", str(WARM_UP), "-J", "--connect-timeout", "3000", "-P", str(streams)]
    return [*argv, "-R"] if direction == "download" else argv


def iperf_error(output: str) -> str | None:
    """None when iperf3 finished its test, else what went wrong."""
    try:
        result = json.loads(output)
    except ValueError:
        return "no result"
    if isinstance(result, dict) and isinstance(result.get("end"), dict) and "sum_received" in result["end"]:
        return None
    error = ""
    with contextlib.suppress(AttributeError):
        error = result.get("error", "")
    return f"no result{': ' + error if error else ''}"


def run_parallel(jobs: list[tuple[str, list[str]]], timeout: float, during=None) -> dict[str, str]:
    """Start every job at once and wait for all: key -> stdout. `during(first, last)` runs meanwhile, in this thread,
    with the times (time.monotonic) the first and the last job were started."""
    first = time.monotonic()
    started = {key: subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for key, argv in jobs}
    last = time.monotonic()
    outputs: dict[str, str] = {}
    readers = [threading.Thread(target=lambda k=key, p=process: outputs.__setitem__(k, p.communicate()[0]), daemon=True) for key, process in started.items()]
    try:
        for reader in readers:
            reader.start()
        if during:
            during(first, last)
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


def ping_argv(client: dict, count: int, wait: int) -> list[str]:
    """ping from the client to its server, in its first family (the one the RTT is reported for)."""
    server = next(iter(client["families"].values()))["server_address"]
    return ["ip", "netns", "exec", client["namespace"], "ping", "-q", "-n", "-c", str(count), "-i", "0.2", "-W", str(wait), server]


def rtt_ms(ping_output: str) -> float | None:
    match = _RTT.search(ping_output or "")
    return round(float(match.group(1)), 3) if match else None


def idle_rtt(clients: list[dict]) -> dict[str, float | None]:
    outputs = run_parallel([(c["id"], ping_argv(c, 5, 1)) for c in clients], 10)
    return {key: rtt_ms(out) for key, out in outputs.items()}


class Round:
    """One set of iperf3 runs at once, in one direction, with its reads."""

    def __init__(self, streams: list[Stream], direction: str, duration: int, pings: tuple = ()):
        self.streams, self.direction, self.duration, self.pings = streams, direction, duration, pings

    def run(self) -> RoundResult:
        jobs = [(s.key, iperf_argv(s.client, s.family, self.direction, self.duration + TAIL)) for s in self.streams]
        for attempt in range(1, ATTEMPTS + 1):
            self._wait_for_idle_servers()
            old = self._connections()  # a connection of an earlier round is not this round's
            result = RoundResult()
            outputs = run_parallel(jobs, self.duration + TAIL + WARM_UP + 15, during=lambda first, last, r=result, o=old: self._sample(r, o, first, last))
            errors = {key: error for key, _ in jobs if (error := iperf_error(outputs.get(key, "")))}
            if not errors:
                return self._checked(result)
            named = "; ".join(f"{key} {self.direction}: {error}" for key, error in sorted(errors.items()))
            if attempt == ATTEMPTS:
                raise MeasureError(f"iperf3 {named} ({ATTEMPTS} attempts)")
            print(f"bandwidth measure: iperf3 {named}: the round runs again ({attempt + 1} of {ATTEMPTS})", file=sys.stderr)
            time.sleep(RETRY_PAUSE)
        raise AssertionError("unreachable")

    def _checked(self, result: RoundResult) -> RoundResult:
        missing = [s.key for s in self.streams if result.goodput.get((s.client["id"], s.family)) is None]
        if missing:
            raise MeasureError(f"no connection of iperf3 {', '.join(missing)} {self.direction} was read on its sending side")
        return result

    def _wait_for_idle_servers(self) -> None:
        """Until no connection of an earlier test is open on this round's servers (at most IDLE_WAIT seconds). After an
        upload its client goes on sending what it had buffered, through the class, after iperf3 ended: an iperf3
        server takes one test at a time and answers "busy" meanwhile."""
        ports: dict[str, set[int]] = {}
        for stream in self.streams:
            ports.setdefault(stream.server[0], set()).add(stream.server[1])
        deadline = time.monotonic() + IDLE_WAIT
        while time.monotonic() < deadline:
            found = measure_read.connections(set(ports), state="established")
            if not any(key[0] in ports[ns] for ns, (connections, _when) in found.items() for key in connections):
                return
            time.sleep(0.1)

    def _connections(self) -> dict[str, set]:
        return {ns: set(found) for ns, (found, _when) in measure_read.connections({s.sender[0] for s in self.streams}).items()}

    def _sample(self, result: RoundResult, old: dict[str, set], first: float, last: float) -> None:
        """The window: from the warm-up of the last iperf3 started to `duration` after that of the first, ended early by
        what a read takes, so that its last read is done before any stream of the round ends."""
        wires = {s.client["id"]: s.wire for s in self.streams if s.wire}
        devices = {(ns, device) for ns, device, _minor in wires.values()}
        namespaces = {s.sender[0] for s in self.streams}
        classes: dict[tuple[str, str, int], list[tuple[float, int]]] = {key: [] for key in wires.values()}
        goodput = {s.key: measure_read.Goodput(s.sender[1], old.get(s.sender[0], set())) for s in self.streams}

        def read() -> None:
            for key, (sent, when) in measure_read.class_counters(devices).items():
                if key in classes:
                    classes[key].append((when, sent))
            connections = measure_read.connections(namespaces)
            for stream in self.streams:
                found, when = connections[stream.sender[0]]
                goodput[stream.key].add(found, when)

        count = max(3, int((self.duration - 0.5) / 0.2))
        time.sleep(max(0.0, last + WARM_UP + 0.3 - time.monotonic()))  # connected, then iperf3's warm-up second
        before = time.monotonic()
        read()
        took = time.monotonic() - before
        pingers = {client["id"]: subprocess.Popen(ping_argv(client, count, 2), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for client in self.pings}
        time.sleep(max(0.5, first + WARM_UP + self.duration - took - time.monotonic()))
        read()
        for client_id, key in wires.items():
            rate = measure_read.rate_mbps(classes[key])
            if rate is not None:
                result.wire[client_id] = rate
        for stream in self.streams:
            result.goodput[(stream.client["id"], stream.family)] = goodput[stream.key].mbps()
        for client_id, pinger in pingers.items():
            try:
                out, _ = pinger.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                pinger.kill()
                out, _ = pinger.communicate()
            result.rtt[client_id] = rtt_ms(out)
