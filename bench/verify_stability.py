"""Benchmark: does the verdict of playbooks/verify.yml mean what it says? (issue "A verdict an agency can trust")

On the lab of a copy of the repository, the real playbook, one run after the other:
  shipped data   RUNS runs of verify.yml measuring every allocation: the first FRESH each on a lab built
                 anew, then BUSY with one core kept busy by another process, then the rest as they come.
                 A run that fails is a false failure: nothing is wrong with these classes.
  ceil 5% low    FAULTS runs, each with one class's ceil lowered by hand to 95% (`bandwidth lab fault`),
                 a different allocation and direction each time; measured: that allocation.
  IPv6 filter    FAULTS runs, each with the dual-stack allocation's IPv6 filters deleted by hand, on the
                 download, the upload or both in turn; measured: that allocation.
A fault is detected when the allocation's verdict, which comes from the figures alone, is "fail" (the
read-back's drift fails the run as well; it is not counted here). Each fault is repaired by an apply.

Printed: false failures and detections, and the spread of each figure over the shipped runs (wire rate as %
of max alone, % of guaranteed together; goodput as % of the wire rate), its distance to the nearest bound in
standard deviations, and the chance that a correct class fails under the rule (out of the band twice) under
a normal model of that spread.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

from verify_bench import copy_repo

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
BANDWIDTH = str(VENV_BIN / "bandwidth")
PLAYBOOK = str(VENV_BIN / "ansible-playbook")
DUAL_STACK = "BW-2026-0006"
BAND = (97.0, 103.0)  # wire rate alone, % of max
GUARANTEE = 97.0  # wire rate together, % of guaranteed


def run(argv: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"{argv} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def verify(repo: Path, measure: list[str] | None = None) -> tuple[int, dict, float]:
    extra = ["-e", json.dumps({"bandwidth_verify_measure": measure})] if measure else []
    started = time.monotonic()
    done = run([PLAYBOOK, "-i", "lab/inventory", "playbooks/verify.yml", *extra], repo, check=False)
    report = json.loads((repo / "reports/latest/report.json").read_text())
    return done.returncode, report, time.monotonic() - started


def figures(report: dict) -> dict[tuple, tuple[float, float]]:
    """(id, direction, what) -> (wire rate as % of max or guaranteed, goodput as % of wire rate), the figures that decided."""
    found = {}
    for allocation in report["allocations"]:
        for direction in ("download", "upload"):
            rates = allocation[direction]
            entries = [("alone", rates, rates["max_mbps"])] + [(family, f, rates["max_mbps"]) for family, f in rates["by_family"].items() if len(allocation["families"]) > 1]
            entries.append(("together", {"wire_mbps": rates["contention_wire_mbps"], "measured_mbps": rates["contention_mbps"]}, rates["guaranteed_mbps"]))
            for what, figure, base in entries:
                if figure.get("wire_mbps"):
                    found[(allocation["id"], direction, what)] = (100 * figure["wire_mbps"] / base, 100 * figure["measured_mbps"] / figure["wire_mbps"])
    return found


def repeats(report: dict) -> int:
    count = 0
    for allocation in report["allocations"]:
        for direction in ("download", "upload"):
            rates = allocation[direction]
            count += bool(rates.get("first")) + bool(rates.get("contention_first")) + sum(bool(f.get("first")) for f in rates["by_family"].values())
    return count


def out_of_band_chance(mean: float, sd: float, together: bool) -> float:
    """One figure out of the band, under a normal model of its spread (sd floored at 0.05 %, the counters' resolution)."""
    sd = max(sd, 0.05)
    low = 0.5 * math.erfc((mean - (GUARANTEE if together else BAND[0])) / sd / math.sqrt(2))
    high = 0.0 if together else 0.5 * math.erfc((BAND[1] - mean) / sd / math.sqrt(2))
    return low + high


class BusyCore:
    """Another process keeping one core busy while it lives; stopped by its pid."""

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        return self

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()


def shipped_runs(repo: Path, runs: int, fresh: int, busy: int) -> list[dict]:
    results = []
    for index in range(runs):
        kind = "fresh lab" if index < fresh else "one core busy" if index < fresh + busy else "as it comes"
        if kind == "fresh lab":
            run([BANDWIDTH, "lab", "up", "--rebuild"], repo)
            run([PLAYBOOK, "-i", "lab/inventory", "playbooks/apply.yml"], repo)
        if kind == "one core busy":
            with BusyCore():
                code, report, seconds = verify(repo)
        else:
            code, report, seconds = verify(repo)
        failed = sorted(a["id"] for a in report["allocations"] if a["verdict"] != "pass")
        results.append({"kind": kind, "code": code, "failed": failed, "repeats": repeats(report), "seconds": seconds, "figures": figures(report)})
        print(f"  shipped {index + 1:2d}/{runs} ({kind}): exit {code}, {len(failed)} not passed {failed}, {results[-1]['repeats']} figure(s) measured again, {seconds:.0f} s", flush=True)
    return results


def fault_runs(repo: Path, runs: int, kind: str, ids: list[str]) -> list[dict]:
    results = []
    for index in range(runs):
        if kind == "ceil":
            target, direction = ids[index % len(ids)], ("download", "upload")[(index // len(ids)) % 2]
            fault = ["--ceil-percent", "95", "--direction", direction]
        else:
            target, direction = DUAL_STACK, ("download", "upload", None)[index % 3]
            fault = ["--without-filter", "ipv6"] + (["--direction", direction] if direction else [])
        run([BANDWIDTH, "lab", "fault", target, *fault], repo)
        try:
            code, report, seconds = verify(repo, [target])
        finally:
            run([PLAYBOOK, "-i", "lab/inventory", "playbooks/apply.yml"], repo)
        verdict = next(a["verdict"] for a in report["allocations"] if a["id"] == target)
        results.append({"target": target, "direction": direction or "both", "code": code, "verdict": verdict, "repeats": repeats(report), "seconds": seconds})
        print(f"  {kind} {index + 1:2d}/{runs}: {target} {direction or 'both'}: {verdict}, exit {code}, {seconds:.0f} s", flush=True)
    return results


def spread(results: list[dict]) -> list[dict]:
    keys = sorted({key for r in results for key in r["figures"]})
    rows = []
    for key in keys:
        wire = [r["figures"][key][0] for r in results if key in r["figures"]]
        goodput = [r["figures"][key][1] for r in results if key in r["figures"]]
        mean, sd = statistics.mean(wire), statistics.pstdev(wire)
        together = key[2] == "together"
        chance = out_of_band_chance(mean, sd, together)
        margin = (mean - GUARANTEE if together else min(mean - BAND[0], BAND[1] - mean)) / max(sd, 0.05)
        row = {"figure": "/".join(key), "n": len(wire), "mean": mean, "sd": sd, "min": min(wire), "max": max(wire), "margin_sd": margin}
        rows.append(row | {"goodput_min": min(goodput), "goodput_max": max(goodput), "fail_chance": chance**2})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="verify runs on the shipped data (default: %(default)s)")
    parser.add_argument("--fresh", type=int, default=5, help="of them on a lab built anew (default: %(default)s)")
    parser.add_argument("--busy", type=int, default=10, help="of them with one core busy (default: %(default)s)")
    parser.add_argument("--faults", type=int, default=30, help="runs of each fault (default: %(default)s)")
    args = parser.parse_args()
    repo = copy_repo(HERE / "out" / "stability")
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.go.id", "commit", "-qm", "bench"]):
        run(command, repo)
    started = time.monotonic()
    try:
        run([BANDWIDTH, "lab", "up"], repo)
        run([PLAYBOOK, "-i", "lab/inventory", "playbooks/apply.yml"], repo)
        print(f"verify.yml on the lab of {repo}", flush=True)
        shipped = shipped_runs(repo, args.runs, args.fresh, args.busy)
        ids = sorted({key[0] for r in shipped for key in r["figures"]})
        ceil = fault_runs(repo, args.faults, "ceil", ids)
        ipv6 = fault_runs(repo, args.faults, "ipv6", ids)
    finally:
        run([BANDWIDTH, "lab", "down"], repo, check=False)

    rows = spread(shipped)
    false_failures = [r for r in shipped if r["code"] != 0 or r["failed"]]
    print(f"\nspread of each figure over {len(shipped)} shipped runs (wire: % of max alone, % of guaranteed together; goodput: % of wire)")
    print(f"  {'figure':32s} {'n':>3s} {'mean':>7s} {'sd':>6s} {'min':>7s} {'max':>7s} {'goodput':>13s} {'margin':>7s} {'P(fail)':>9s}")
    for row in rows:
        goodput = f"{row['goodput_min']:.1f}-{row['goodput_max']:.1f}"
        print(f"  {row['figure']:32s} {row['n']:3d} {row['mean']:7.2f} {row['sd']:6.3f} {row['min']:7.2f} {row['max']:7.2f} {goodput:>13s} {row['margin_sd']:5.0f}sd {row['fail_chance']:9.1e}")
    alone = [r for r in rows if not r["figure"].endswith("/together")]
    worst = max(rows, key=lambda r: r["fail_chance"])
    print(f"\nalone, every figure: {min(r['min'] for r in alone):.2f}-{max(r['max'] for r in alone):.2f} % of max; largest sd {max(r['sd'] for r in alone):.3f} %")
    nearest = min(rows, key=lambda r: r["margin_sd"])
    print(f"nearest to its bound: {nearest['figure']}, {nearest['margin_sd']:.0f} standard deviations (sd floored at 0.05 %)")
    print(f"most likely to fail under the rule: {worst['figure']} ({worst['fail_chance']:.1e} per run, out of the band twice)")
    repeated = sum(r["repeats"] for r in shipped)
    print(f"shipped data: {len(false_failures)} false failure(s) in {len(shipped)} runs ({repeated} figure(s) measured again)")
    for name, results in (("ceil 5% low", ceil), ("IPv6 filter removed", ipv6)):
        detected = sum(r["verdict"] == "fail" for r in results)
        print(f"{name}: {detected} of {len(results)} detected on what was measured")
    minutes = (time.monotonic() - started) / 60
    print(f"{minutes:.0f} min in all; a verify of every allocation took {statistics.median(r['seconds'] for r in shipped):.0f} s (median)")
    summary = {"shipped": [{k: v for k, v in r.items() if k != "figures"} for r in shipped], "spread": rows, "ceil": ceil, "ipv6": ipv6}
    (HERE / "out" / "stability.json").write_text(json.dumps(summary, indent=1))
    return 1 if false_failures or any(r["verdict"] != "fail" for r in ceil + ipv6) else 0


if __name__ == "__main__":
    raise SystemExit(main())
