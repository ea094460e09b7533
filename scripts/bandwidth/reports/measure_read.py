"""What `bandwidth measure` reads while iperf3 runs, all on one clock: the byte counters of the
allocations' HTB classes on the gateway (the wire rate) and the payload counters of iperf3's TCP
connections on their sending side (the goodput), each read stamped with its own time.

Both rates are the bytes between the first read and the last over the time between them, and both
come from the same reads, so they cover the same window: the goodput of the families of a
dual-stack allocation is summed over that window only, whenever each iperf3 began, and can never
exceed the wire rate of traffic that went through the class. (A line fitted through many reads, as
the wire rate once was, weighs the middle of the window more than its ends: with the rate changing
in the window, as under contention, it is not the window's average, and goodput came out above it.)
"""

from __future__ import annotations

import itertools
import re
import subprocess
import time

from bandwidth.shaping.tc import parse

# ss -tin: a connection line ("ESTAB 0 0 198.19.8.2:5206 198.18.15.2:41972"; without the state when one state is
# asked for), then its TCP_INFO line.
_CONNECTION = re.compile(r"^(?:[A-Z][A-Z-]*\s+)?\d+\s+\d+\s+(\S+):(\d+)\s+(\S+):(\d+)\s*$")
_FIELD = re.compile(r"\b(bytes_acked|sacked|mss):(\d+)")


def rate_mbps(points: list[tuple[float, int]]) -> float | None:
    """Mbit/s from (time, bytes) reads of one counter: the bytes between the first read and the last over the time between.

    None without two reads, or if the counter went back (the class was replaced meanwhile)."""
    if len(points) < 2 or points[-1][0] <= points[0][0] or any(later[1] < earlier[1] for earlier, later in itertools.pairwise(points)):
        return None
    (start, first), (end, last) = points[0], points[-1]
    return round((last - first) * 8 / (end - start) / 1e6, 3)


def class_counters(devices: set[tuple[str, str]]) -> dict[tuple[str, str, int], tuple[int, float]]:
    """(namespace, device, minor) -> (bytes sent, when read), for every class of the given devices.

    Each device has its own time (the middle of its tc call): reading several devices one after
    the other takes tens of milliseconds, a few percent of a measured second."""
    found = {}
    for namespace, device in sorted(devices):
        before = time.monotonic()
        done = subprocess.run(["tc", "-n", namespace, "-s", "-j", "class", "show", "dev", device], capture_output=True, text=True, check=False)
        when = (before + time.monotonic()) / 2
        for classid, counters in parse.parse_counters(done.stdout).items():  # the parser of the module bandwidth_counters
            major, _, minor = classid.partition(":")
            if major == "1" and minor:
                found[(namespace, device, int(minor, 16))] = (counters["bytes"], when)
    return found


def parse_connections(output: str) -> dict[tuple[int, int, str], int]:
    """`ss -tinH` -> {(local port, peer port, peer address): payload bytes delivered} per TCP connection that still has
    its TCP_INFO, as its sender knows it: acknowledged (bytes_acked) plus the segments the receiver holds beyond a
    loss (sacked, each one MSS: the lab sends one segment per packet). The acknowledged bytes alone lag behind by
    everything held behind a lost segment until it is sent again: up to a window, some percent of a second."""
    found = {}
    key = None
    for line in output.splitlines():
        match = _CONNECTION.match(line)
        if match:
            key = (int(match.group(2)), int(match.group(4)), match.group(3))
            continue
        if key is not None and line[:1].isspace():
            fields = {name: int(value) for name, value in _FIELD.findall(line)}
            if "bytes_acked" in fields:  # a closing connection (TIME-WAIT) has no TCP_INFO left to read
                found[key] = fields["bytes_acked"] + fields.get("sacked", 0) * fields.get("mss", 0)
            key = None
    return found


def connections(namespaces: set[str], state: str = "connected") -> dict[str, tuple[dict[tuple[int, int, str], int], float]]:
    """namespace -> (its TCP connections in `state` (ss's state filter) as parse_connections gives them, when read)."""
    found = {}
    for namespace in sorted(namespaces):
        before = time.monotonic()
        done = subprocess.run(["ss", "-N", namespace, "-tinH", "state", state], capture_output=True, text=True, check=False)
        found[namespace] = (parse_connections(done.stdout), (before + time.monotonic()) / 2)
    return found


class Goodput:
    """The payload one iperf3 run delivered, read after read on its sending side (the server for a download, the
    client for an upload): the sum over its connections to the server's port, each at its last read.

    Connections open before the round started are left out; one that closes keeps the bytes it had."""

    def __init__(self, port: int, old: set[tuple[int, int, str]]):
        self.port, self.old = port, old
        self.latest: dict[tuple[int, int, str], int] = {}
        self.points: list[tuple[float, int]] = []

    def add(self, found: dict[tuple[int, int, str], int], when: float) -> None:
        for key, delivered in found.items():
            if self.port in key[:2] and key not in self.old:
                self.latest[key] = max(self.latest.get(key, 0), delivered)
        self.points.append((when, sum(self.latest.values())))

    def mbps(self) -> float | None:
        return rate_mbps(self.points)
