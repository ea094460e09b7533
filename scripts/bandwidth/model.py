"""The plain data model every part of the tool shares. Rates are integer kbit/s."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import NamedTuple

from bandwidth.subnet import Subnet

DIRECTIONS = ("download", "upload")


class Rate(NamedTuple):
    """One direction of an allocation."""

    guaranteed_kbit: int
    max_kbit: int


@dataclass
class Allocation:
    id: str
    agency: str
    letter_number: str
    letter_date: dt.date
    contact_name: str
    contact_email: str
    contact_github: str | None
    gateway: str
    uplink: str
    subnets: tuple[Subnet, ...]
    download: Rate
    upload: Rate
    priority: int
    start: dt.date
    end: dt.date | None
    purpose: str
    path: str  # relative to the repository root, with forward slashes
    lines: dict = field(default_factory=dict, repr=False, compare=False)  # key path tuple -> line
    change: str | None = None  # "added" or "changed" against --base; None when unchanged or no base

    def __reduce__(self):
        # Positional re-creation: several times faster to unpickle than the default, and the
        # parallel loader sends thousands of these between processes.
        return (Allocation, tuple(getattr(self, name) for name in _ALLOCATION_FIELDS))

    def rate(self, direction: str) -> Rate:
        return self.download if direction == "download" else self.upload

    def line(self, key: str) -> int:
        """The line of a dotted key such as 'download.max_mbps' or 'subnets.0', else of its nearest parent."""
        path = tuple(int(part) if part.isdigit() else part for part in key.split("."))
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


_ALLOCATION_FIELDS = tuple(f.name for f in fields(Allocation))


@dataclass
class Uplink:
    name: str
    download_kbit: int
    upload_kbit: int
    reserve_percent: int
    lan_interface: str
    ifb_interface: str | None = None
    line: int = 1

    def capacity(self, direction: str) -> int:
        return self.download_kbit if direction == "download" else self.upload_kbit

    def reserve(self, direction: str) -> int:
        """The share kept back from guarantees, rounded up so the reserve is never less than asked."""
        return -(-self.capacity(direction) * self.reserve_percent // 100)

    def guaranteeable(self, direction: str) -> int:
        return self.capacity(direction) - self.reserve(direction)


@dataclass
class Gateway:
    name: str
    lan_networks: tuple[Subnet, ...]
    uplinks: dict[str, Uplink]
    path: str  # its host_vars file
    vars: dict = field(default_factory=dict, repr=False)  # the host's other inventory variables


@dataclass
class Inventory:
    path: str
    gateways: dict[str, Gateway]


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    severity: str = "error"  # or "warning"
    rule: str = "schema"

    def sort_key(self):
        return (self.path, self.line, self.severity != "error", self.message)


@dataclass
class CheckResult:
    """Everything one `bandwidth check` run found; reporters only read it."""

    inventory: Inventory | None
    allocations: list[Allocation]
    problems: list[Problem]
    today: dt.date
    base: str | None = None
    removed: list[str] = field(default_factory=list)  # paths removed since base
    files_checked: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]
