"""`bandwidth measure`: real throughput per allocation with iperf3, in the lab (SOP step 8).

Each allocation's client (a namespace of the lab, inside the agency's subnets) runs iperf3 to the
server of its uplink, through the gateway: download with -R (the server sends, shaped on the LAN
interface), upload without (shaped on the ifb). An allocation is measured in every family it has:
each family alone, then (dual-stack) both at once, which proves they share the one class. First
each allocation alone in its uplink (it should reach its max_mbps), then all allocations of an
uplink at once (each should keep its guaranteed_mbps).

Two figures per test, read on one clock over the same window (measure_read): the rate on the wire,
the slope of the byte counters of the allocation's HTB class on the gateway (what HTB shapes, layer
2, Ethernet header included), and the goodput, the payload iperf3's connections delivered in that
window as their sending side counts it, summed over the allocation's families. While an allocation's
download is saturated alone, ping from its client gives the round-trip time under load.

The rule (report_data.alone_in_band, together_in_band): a figure out of the pass band is measured
once more, in a round of its own kind; the allocation fails only if the repeat is out of the band
too. Both figures stay in the result: the repeat where the first was, the first under "first".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bandwidth.model import DIRECTIONS
from bandwidth.reports import report_data
from bandwidth.reports.measure_round import MeasureError, Round, Stream, idle_rtt, iperf_argv
from bandwidth.shaping.plan import GatewayPlan

__all__ = ["MeasureError", "Options", "iperf_argv", "measure", "wire_targets"]


@dataclass
class Options:
    lab_dir: Path
    ids: list[str] | None = None  # None: every client of the lab
    duration: int = 3  # seconds measured, after one second of TCP warm-up left out
    contention: bool = True
    # id -> {"namespace": gateway namespace, "download": [device, minor], "upload": [device, minor]}:
    # where the allocation's class counts its bytes (wire_targets); None: goodput only.
    wire: dict | None = None
    tolerance: dict | None = None  # the pass band the repeat rule judges by (None: report_data.TOLERANCE)


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


def _upstreams(lab: dict) -> dict[tuple[str, str], str]:
    """(gateway, uplink) -> the namespace of that uplink's iperf3 servers."""
    return {(gw["name"], uplink["name"]): uplink["upstream_namespace"] for gw in lab.get("gateways", []) for uplink in gw.get("uplinks", [])}


Test = tuple[str, ...]  # the families of an allocation measured at once
Key = tuple[str, Test, str]  # (allocation id, test, direction)


class _Campaign:
    """Every round of one `measure`, and the figures they gave: {key: {"measured_mbps", "wire_mbps"}}."""

    def __init__(self, options: Options, lab: dict):
        self.options = options
        self.band = {**report_data.TOLERANCE, **(options.tolerance or {})}
        self.upstreams = _upstreams(lab)
        self.alone: dict[Key, dict] = {}
        self.together: dict[tuple[str, str], dict] = {}  # (id, direction)
        self.first: dict = {}  # the same keys: the first figure, where it was out of the band and measured again
        self.rtt: dict[str, float | None] = {}

    def _streams(self, items: list[tuple[dict, Test]], direction: str) -> list[Stream]:
        streams = []
        for client, test in items:
            target = (self.options.wire or {}).get(client["id"])
            wire = (target["namespace"], *target[direction]) if target else None
            upstream = self.upstreams.get((client["gateway"], client["uplink"]))
            if upstream is None:
                raise MeasureError(f"lab.json: no uplink {client['uplink']} of {client['gateway']} for {client['id']}")
            sender = upstream if direction == "download" else client["namespace"]
            for family in test:
                port = client["families"][family]["server_port"]
                streams.append(Stream(client, family, wire, (sender, port), (upstream, port)))
        return streams

    def run_alone(self, items: list[tuple[dict, Test]], direction: str, pings: tuple = ()) -> dict[Key, dict]:
        done = Round(self._streams(items, direction), direction, self.options.duration, pings).run()
        self.rtt.update(done.rtt)
        return {(client["id"], test, direction): _figure(done, client["id"], test) for client, test in items}

    def run_together(self, clients: list[dict], direction: str) -> dict[tuple[str, str], dict]:
        done = Round(self._streams([(c, tuple(c["families"])) for c in clients], direction), direction, self.options.duration).run()
        return {(client["id"], direction): _figure(done, client["id"], tuple(client["families"])) for client in clients}

    def measure_alone(self, clients: list[dict], tests: dict[str, list[Test]]) -> None:
        """Every test of every allocation, alone in its uplink; then each figure out of the band once more."""
        by_id = {c["id"]: c for c in clients}
        for batch in _batches([(client, test) for client in clients for test in tests[client["id"]]]):
            for direction in DIRECTIONS:
                # RTT under load: during the download of each allocation's first test (its first family alone).
                pings = tuple(client for client, test in batch if direction == "download" and test == tests[client["id"]][0])
                self.alone.update(self.run_alone(batch, direction, pings))
        for direction in DIRECTIONS:
            again = [(by_id[i], test) for (i, test, d), figure in self.alone.items() if d == direction and not self.alone_ok(by_id[i], d, figure)]
            for batch in _batches(again):
                for key, figure in self.run_alone(batch, direction).items():
                    self.first[key] = self.alone[key]
                    self.alone[key] = figure

    def measure_together(self, clients: list[dict]) -> None:
        """Every allocation of every uplink at once, every family; the whole round once more if a figure is out of the
        band: a guarantee only means something with every other class busy."""
        for direction in DIRECTIONS:
            self.together.update(self.run_together(clients, direction))
            out = [c for c in clients if not self.together_ok(c, direction, self.together[(c["id"], direction)])]
            if out:
                repeat = self.run_together(clients, direction)
                for client in out:
                    key = (client["id"], direction)
                    self.first[key] = self.together[key]
                    self.together[key] = repeat[key]

    def alone_ok(self, client: dict, direction: str, figure: dict) -> bool:
        return report_data.alone_in_band(figure, client[direction]["max_kbit"] / 1000, self.band)

    def together_ok(self, client: dict, direction: str, figure: dict) -> bool:
        return report_data.together_in_band(figure, client[direction]["guaranteed_kbit"] / 1000, self.band)


def _figure(done, client_id: str, test: Test) -> dict:
    rates = [done.goodput.get((client_id, family)) for family in test]
    return {"measured_mbps": None if None in rates else round(sum(rates), 3), "wire_mbps": done.wire.get(client_id)}


def _batches(items: list[tuple[dict, Test]]) -> list[list[tuple[dict, Test]]]:
    """Alone means alone in its uplink's tree: one test of every uplink at a time, since uplinks are
    separate HTB trees on separate interfaces and cannot slow each other."""
    by_uplink: dict[tuple, list] = {}
    for client, test in items:
        by_uplink.setdefault((client["gateway"], client["uplink"]), []).append((client, test))
    groups = list(by_uplink.values())
    return [[g[i] for g in groups if i < len(g)] for i in range(max((len(g) for g in groups), default=0))]


def measure(options: Options) -> dict:
    """{"duration", "alone": {id: {direction: Mbit/s}}, "contention": {...}, "wire_alone", "wire_contention",
    "by_family": {id: {direction: {family: {"measured_mbps", "wire_mbps"[, "first"]}}}}, "first_alone",
    "first_contention": {id: {direction: {"measured_mbps", "wire_mbps"}}}, "rtt": {id: {family, idle, loaded}}}.

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
    campaign = _Campaign(options, lab)
    idle = idle_rtt(clients)

    # The tests of one allocation: each family alone, then all of them at once (dual-stack).
    tests: dict[str, list[Test]] = {}
    for client in clients:
        names = tuple(client["families"])
        tests[client["id"]] = [(name,) for name in names] + ([names] if len(names) > 1 else [])
    campaign.measure_alone(clients, tests)
    if options.contention:
        campaign.measure_together(clients)
    return _result(options, clients, tests, campaign, idle)


def _result(options: Options, clients: list[dict], tests: dict[str, list[Test]], campaign: _Campaign, idle: dict) -> dict:
    result: dict = {"duration": options.duration, "alone": {}, "contention": {}, "wire_alone": {}, "wire_contention": {}, "by_family": {}, "first_alone": {}, "first_contention": {}, "rtt": {}}
    for client in clients:
        cid = client["id"]
        result["rtt"][cid] = {"family": next(iter(client["families"])), "idle": idle.get(cid), "loaded": campaign.rtt.get(cid)}
        result["by_family"][cid] = {d: {} for d in DIRECTIONS}
        for direction in DIRECTIONS:
            for test in tests[cid]:
                key = (cid, test, direction)
                figure = dict(campaign.alone[key])
                if key in campaign.first:
                    figure["first"] = campaign.first[key]
                if len(test) == 1:
                    result["by_family"][cid][direction][test[0]] = figure
                if test == tests[cid][-1]:  # every family at once (for one family: that one)
                    result["alone"].setdefault(cid, {})[direction] = figure["measured_mbps"]
                    result["wire_alone"].setdefault(cid, {})[direction] = figure["wire_mbps"]
                    if "first" in figure:
                        result["first_alone"].setdefault(cid, {})[direction] = figure["first"]
            together = campaign.together.get((cid, direction))
            if together is not None:
                result["contention"].setdefault(cid, {})[direction] = together["measured_mbps"]
                result["wire_contention"].setdefault(cid, {})[direction] = together["wire_mbps"]
                if (cid, direction) in campaign.first:
                    result["first_contention"].setdefault(cid, {})[direction] = campaign.first[(cid, direction)]
    return result
