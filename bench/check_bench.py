"""Benchmark: `bandwidth check` against merely loading the same files with PyYAML's C loader.

Target (issue "Bandwidth requests as YAML files"): check <= 1.0x the plain load, measured in
the same run, and a capacity sum that grows linearly (n log n), not quadratically.
Prints both times and the ratios. Not a test: timings belong here, not in pytest.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

HERE = Path(__file__).resolve().parent
BANDWIDTH = str(Path(sys.executable).with_name("bandwidth"))
BASELINE = """
import os, sys, yaml
for folder, _dirs, files in os.walk(sys.argv[1]):
    for name in files:
        with open(os.path.join(folder, name), "rb") as handle:
            yaml.load(handle.read(), Loader=yaml.CSafeLoader)
"""


def best_of(runs: int, commands: list[list[str]], cwd: Path) -> list[float]:
    """The fastest of `runs` wall-clock runs of each command, taken in turns so that
    a noisy moment on the machine hits both alike."""
    best = [float("inf")] * len(commands)
    for _ in range(runs):
        for index, argv in enumerate(commands):
            start = time.perf_counter()
            subprocess.run(argv, cwd=cwd, check=False, stdout=subprocess.DEVNULL)
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def capacity_scaling() -> tuple[float, float, float]:
    """Seconds for the capacity sum over n and 4n allocations on one uplink, and their ratio."""
    from bandwidth.allocations import capacity
    from bandwidth.model import Allocation, Rate

    def build(n):
        day = dt.date(2026, 11, 28)
        return [
            Allocation(f"BW-2026-{i:04d}", "a", "n", day, "c", "e", None, "gw", "up", (), Rate(1, 2), Rate(1, 2), 0,
                       day + dt.timedelta(days=i % 400), day + dt.timedelta(days=i % 400 + i % 90) if i % 3 else None, "p", "x")
            for i in range(n)
        ]  # fmt: skip

    def timed(items):
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            capacity.overflows(items, "download", 10**9, dt.date(2026, 11, 28))
            best = min(best, time.perf_counter() - start)
        return best

    small, large = timed(build(20_000)), timed(build(80_000))
    return small, large, large / small


def main() -> int:
    out = HERE / "out" / "check-10k"
    generate(out, 10_000, 50)
    argv_check = [BANDWIDTH, "check", "--today=2026-11-28"]
    argv_load = [sys.executable, "-c", BASELINE, "allocations"]
    subprocess.run(argv_check, cwd=out, check=True, stdout=subprocess.DEVNULL)  # valid data, warm page cache
    load, check = best_of(5, [argv_load, argv_check], out)
    print("bandwidth check on 10,000 allocations over 50 gateways (best of 5, process start included)")
    print(f"  yaml.load(CSafeLoader) only : {load:6.2f} s")
    print(f"  bandwidth check             : {check:6.2f} s")
    print(f"  ratio check / load          : {check / load:6.2f}x   (target <= 1.00x)")
    small, large, ratio = capacity_scaling()
    print("capacity sum on one uplink")
    print(f"  20,000 allocations          : {small * 1000:6.1f} ms")
    print(f"  80,000 allocations          : {large * 1000:6.1f} ms")
    print(f"  ratio for 4x the input      : {ratio:6.2f}x   (linear ~4x, quadratic ~16x)")
    return 0 if check <= load and ratio < 8 else 1


if __name__ == "__main__":
    raise SystemExit(main())
