"""The plan: what one gateway must look like today. This is where the controller meets the gateway.

The contract is schemas/plan.schema.json, which documents every field. `bandwidth render --output-dir`
writes one GatewayPlan per gateway into the plan folder (.plans/); the module bandwidth_tc reads it
there as JSON on the gateway; `measure`, `report` and `monitor` read it back through PlanFolder, the
one place that knows the folder's file names.

One name per quantity: a request's guaranteed_mbps/max_mbps become the model's guaranteed_kbit/max_kbit
once, in the loader; here they are rate_kbit/ceil_kbit, HTB's words for the same two numbers (rate =
guaranteed, ceil = max), the only rename, at the tc edge. Every rate is an integer in kbit/s.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import jsonschema_rs

from bandwidth import jsonfiles
from bandwidth.errors import UsageError
from bandwidth.paths import SCHEMA_DIR

PLAN_SCHEMA = SCHEMA_DIR / "plan.schema.json"


class PlanError(UsageError):
    """A plan file that is missing, unreadable or not what `bandwidth render --output-dir` writes."""


@dataclass(frozen=True)
class PlanClass:
    """HTB class 1:<minor> of one allocation on one device."""

    minor: int
    label: str  # the allocation's id
    rate_kbit: int  # HTB rate: the allocation's guaranteed_kbit in this direction
    ceil_kbit: int  # HTB ceil: its max_kbit
    prio: int


@dataclass(frozen=True)
class PlanFilter:
    """A u32 match sending one subnet to class 1:<minor>: destination for download, source for upload."""

    family: int
    prefix: str
    minor: int


@dataclass(frozen=True)
class PlanDevice:
    """One shaped device: an uplink's LAN interface (download) or its ifb (upload)."""

    device: str
    direction: str
    uplink: str
    capacity_kbit: int  # class 1:1
    default_kbit: int  # class 1:2, the traffic of no allocation
    classes: tuple[PlanClass, ...]
    filters: tuple[PlanFilter, ...]


@dataclass(frozen=True)
class Redirect:
    """Ingress of a LAN interface redirected to the ifb that shapes its upload."""

    device: str
    ifb: str


@dataclass(frozen=True)
class Controller:
    """Who rendered the plan: the gateway's lock names this holder to a run that has to wait."""

    host: str
    pid: int


@dataclass(frozen=True)
class RenderedCommit:
    """The commit of the repository the plan was rendered from: the gateway's collector exposes it."""

    sha: str
    time: int  # committer time, Unix seconds


@dataclass(frozen=True)
class GatewayPlan:
    gateway: str
    devices: tuple[PlanDevice, ...]
    redirects: tuple[Redirect, ...]
    ifbs: tuple[str, ...]
    today: str | None = None  # ISO date (WITA) the plan is for
    controller: Controller | None = None
    commit: RenderedCommit | None = None
    # allocation id -> agency, for the labels of the collector's metrics (not for tc: the module ignores it)
    agencies: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict:
        """The document of schemas/plan.schema.json (today, controller, commit, agencies only when set)."""
        doc = _plain(asdict(self))
        doc["agencies"] = dict(self.agencies) or None
        head = {key: doc.pop(key) for key in ("today", "controller", "commit", "agencies")}
        return {**{k: v for k, v in head.items() if v is not None}, **doc}

    @classmethod
    def from_json(cls, doc: dict) -> GatewayPlan:
        """A document already valid against the schema (PlanFolder.read checks it) as objects."""
        controller, commit = doc.get("controller"), doc.get("commit")
        return cls(
            gateway=doc["gateway"],
            devices=tuple(
                PlanDevice(
                    device=d["device"],
                    direction=d["direction"],
                    uplink=d["uplink"],
                    capacity_kbit=d["capacity_kbit"],
                    default_kbit=d["default_kbit"],
                    classes=tuple(PlanClass(**c) for c in d["classes"]),
                    filters=tuple(PlanFilter(**f) for f in d["filters"]),
                )
                for d in doc["devices"]
            ),
            redirects=tuple(Redirect(**r) for r in doc["redirects"]),
            ifbs=tuple(doc["ifbs"]),
            today=doc.get("today"),
            controller=Controller(**controller) if controller else None,
            commit=RenderedCommit(**commit) if commit else None,
            agencies=tuple(sorted(doc.get("agencies", {}).items())),
        )

    def labels(self) -> set[str]:
        """The allocations this plan shapes."""
        return {c.label for device in self.devices for c in device.classes}


def _plain(value):
    """asdict keeps tuples; the JSON document has lists."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@cache
def _validator():
    return jsonschema_rs.validator_for(json.loads(PLAN_SCHEMA.read_text(encoding="utf-8")))


class PlanFolder:
    """The plan folder of the playbooks (.plans/): per gateway <gateway>.json (the plan),
    <gateway>.applied.json (the last apply's record), <gateway>.counters.json (monitor.yml's samples),
    and readback.json (verify.yml's read-back of every gateway)."""

    READBACK = "readback"

    def __init__(self, path: Path):
        self.path = path

    def plan_path(self, gateway: str) -> Path:
        return self.path / f"{gateway}.json"

    def applied_path(self, gateway: str) -> Path:
        return self.path / f"{gateway}.applied.json"

    def counters_path(self, gateway: str) -> Path:
        return self.path / f"{gateway}.counters.json"

    def gateways(self) -> list[str]:
        """The gateways that have a plan here, sorted: <name>.json, not <name>.<kind>.json nor readback.json."""
        if not self.path.is_dir():
            return []
        return sorted(p.stem for p in self.path.glob("*.json") if p.name.count(".") == 1 and p.stem != self.READBACK)

    def read(self, gateway: str) -> GatewayPlan:
        path = self.plan_path(gateway)
        doc = jsonfiles.read(path, "plan", "`bandwidth render --output-dir`", PlanError)
        error = next(iter(_validator().iter_errors(doc)), None)
        if error is not None:
            where = "/".join(str(part) for part in error.instance_path) or "(top)"
            raise PlanError(f"{path}: not a plan of `bandwidth render --output-dir` ({where}: {error.message[:200]})")
        return GatewayPlan.from_json(doc)

    def read_all(self, lenient: bool = False) -> dict[str, GatewayPlan]:
        """gateway -> its plan. `lenient`: an unusable plan counts as a gateway with nothing planned
        (the completion report still lists it) instead of stopping with PlanError."""
        plans = {}
        for gateway in self.gateways():
            try:
                plans[gateway] = self.read(gateway)
            except PlanError:
                if not lenient:
                    raise
                plans[gateway] = GatewayPlan(gateway=gateway, devices=(), redirects=(), ifbs=())
        return plans

    def write(self, plan: GatewayPlan) -> Path:
        """Write-then-rename: a run reading the plan while another renders it sees one whole plan."""
        path = self.plan_path(plan.gateway)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(plan.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
        os.replace(temporary, path)
        return path

    def remove_stale(self, keep: set[str]) -> None:
        """Remove the plan of a gateway that left the inventory (its records stay for the audit)."""
        for gateway in self.gateways():
            if gateway not in keep:
                self.plan_path(gateway).unlink()
