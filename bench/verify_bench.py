"""Benchmark: verification time per allocation and per family, on the shipped lab (dual-stack).

Measured in the same run, on the lab of a copy of the repository (real namespaces, iperf3, tc
counters), `bandwidth measure --seconds 2` for:
  one IPv4 allocation, one IPv6-only allocation, the dual-stack allocation (IPv4, IPv6, both),
  five IPv4 allocations of one uplink (alone rounds are one allocation of an uplink at a time),
  and every shipped allocation with the contention round.
Target (issue "Dual-stack lab and verification..."): time grows linearly with the allocations and
families measured; `make lab` stays under 2 minutes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV_BIN = Path(sys.executable).parent


def copy_repo(out: Path) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("allocations", "inventory", "playbooks", "roles", "schemas", "scripts"):
        shutil.copytree(ROOT / name, out / name, symlinks=True)
    shutil.copy(ROOT / "ansible.cfg", out / "ansible.cfg")
    (out / ".venv").symlink_to(ROOT / ".venv")
    return out


def timed(argv: list[str], cwd: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed, json.loads(done.stdout) if done.stdout.startswith("{") else {}


def main() -> int:
    repo = copy_repo(HERE / "out" / "verify")
    bandwidth = str(VENV_BIN / "bandwidth")
    measure = [bandwidth, "measure", "--seconds", "2"]
    cases = [
        ("one IPv4 allocation (BW-2026-0007)", ["BW-2026-0007", "--no-contention"], 1),
        ("one IPv6-only allocation (BW-2026-0012)", ["BW-2026-0012", "--no-contention"], 1),
        ("the dual-stack allocation (BW-2026-0006)", ["BW-2026-0006", "--no-contention"], 3),
        ("five IPv4 allocations of one uplink", ["BW-2026-0001", "BW-2026-0002", "BW-2026-0003", "BW-2026-0004", "BW-2026-0005", "--no-contention"], 5),
    ]
    results = []
    try:
        subprocess.run([bandwidth, "lab", "up"], cwd=repo, check=True, capture_output=True)
        subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "lab/inventory", "playbooks/apply.yml"], cwd=repo, check=True, capture_output=True)
        for label, args, tests in cases:
            seconds, _ = timed([*measure, *args], repo)
            results.append((label, seconds, tests))
        everything, doc = timed(measure, repo)
    finally:
        subprocess.run([bandwidth, "lab", "down"], cwd=repo, check=False, capture_output=True)

    print("verification (bandwidth measure --seconds 2) on the shipped dual-stack lab")
    base = results[0][1]
    for label, seconds, tests in results:
        print(f"  {label:44s}: {seconds:6.2f} s  ({tests} test(s) of download+upload; {seconds / tests:5.2f} s per test; {seconds / base:5.2f}x one IPv4)")
    allocations = len(doc.get("alone", {}))
    label = f"every allocation ({allocations}), with contention"
    print(f"  {label:44s}: {everything:6.2f} s  ({everything / allocations:5.2f} s per allocation; alone rounds run one allocation per uplink at a time)")
    print(json.dumps({label: seconds for label, seconds, _ in results} | {"all": everything}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
