"""Benchmark: `bandwidth audit` and `bandwidth ledger --at` on a long history.

Builds (with git fast-import) a main of N merges over a few hundred allocations: creations,
rate changes, renames between gateways and removals, each merge with a recorded disposition note.
Compares `bandwidth audit --format=json` with the patch history it stands for, `git log
--first-parent --diff-merges=first-parent -p -M -- allocations/` (what an auditor would otherwise
read), and the time for 2N merges against N (it should grow linearly). Not a test: timings belong here.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

BANDWIDTH = str(Path(sys.executable).with_name("bandwidth"))
ROOT = Path(__file__).resolve().parent.parent
GATEWAYS = ("gw-samarinda", "gw-balikpapan")
BRANCH_MARKS = 1_000_000  # fast-import marks of the pull requests' branch commits
BASE_THIRD_OCTET = {"gw-samarinda": 10, "gw-balikpapan": 130}


def request(number: int, gateway: str, max_mbps: int) -> bytes:
    # a /28 of its own inside the gateway's LAN: 16 per /24, from the gateway's first agency /24 on
    third, fourth = BASE_THIRD_OCTET[gateway] + number // 16, (number % 16) * 16
    return (
        f"id: BW-2026-{number:04d}\nagency: Dinas Uji {number}\nletter: {{number: {number}/UJI/2026, date: 2026-01-02}}\n"
        f"contact: {{name: Penguji, email: uji@example.go.id}}\ngateway: {gateway}\nuplink: isp-a\nsubnets: [198.18.{third}.{fourth}/28]\n"
        f"download: {{guaranteed_mbps: 0.1, max_mbps: {max_mbps}}}\nupload: {{guaranteed_mbps: 0.1, max_mbps: 2}}\npriority: 3\nstart: 2026-01-05\npurpose: Uji\n"
    ).encode()


def fast_import_stream(merges: int, merge_commits: bool = True) -> bytes:  # noqa: PLR0915 - writes a git fast-import stream in order; splitting it hides the stream's shape
    """Main as N pull requests: merge commits of a one-commit branch by its requester (GitHub's default),
    or squash merges; one note per merge; every 7th a move to the other gateway, every 11th a removal."""
    out = bytearray()
    live: dict[int, tuple[str, int]] = {}
    next_id = 1
    when = 1_780_000_000
    for mark in range(1, merges + 1):
        when += 3600
        ops = []
        if mark % 11 == 0 and live:
            number = sorted(live)[mark % len(live)]
            gateway, _ = live.pop(number)
            ops.append(f"D allocations/{gateway}/BW-2026-{number:04d}.yaml\n".encode())
        elif mark % 7 == 0 and live:
            number = sorted(live)[mark % len(live)]
            gateway, rate = live[number]
            other = GATEWAYS[1 - GATEWAYS.index(gateway)]
            ops.append(f"D allocations/{gateway}/BW-2026-{number:04d}.yaml\n".encode())
            data = request(number, other, rate)
            ops.append(f"M 100644 inline allocations/{other}/BW-2026-{number:04d}.yaml\ndata {len(data)}\n".encode() + data + b"\n")
            live[number] = (other, rate)
        elif mark % 3 == 0 and live:
            number = sorted(live)[mark % len(live)]
            gateway, rate = live[number]
            live[number] = (gateway, rate + 1)
            data = request(number, gateway, rate + 1)
            ops.append(f"M 100644 inline allocations/{gateway}/BW-2026-{number:04d}.yaml\ndata {len(data)}\n".encode() + data + b"\n")
        else:
            number, next_id = next_id, next_id + 1
            gateway = GATEWAYS[number % 2]
            live[number] = (gateway, 10)
            data = request(number, gateway, 10)
            ops.append(f"M 100644 inline allocations/{gateway}/BW-2026-{number:04d}.yaml\ndata {len(data)}\n".encode() + data + b"\n")
        message = f"Permohonan {mark} (#{mark})\n".encode()
        merged = merge_commits and mark > 1
        if merged:  # the pull request's branch: one commit by the requester, from main's tip
            out += f"commit refs/heads/pr\nmark :{BRANCH_MARKS + mark}\nauthor Pemohon {mark} <p{mark}@example.go.id> {when - 60} +0800\n".encode()
            out += f"committer Pemohon {mark} <p{mark}@example.go.id> {when - 60} +0800\ndata {len(message)}\n".encode() + message
            out += f"from :{mark - 1}\n".encode() + b"".join(ops) + b"\n"
            message = f"Merge pull request #{mark} from opd/pr-{mark}\n".encode()
        author = "GitHub <noreply@github.com>" if merged else f"Pemohon {mark} <p{mark}@example.go.id>"
        out += f"commit refs/heads/main\nmark :{mark}\nauthor {author} {when} +0800\n".encode()
        out += f"committer GitHub <noreply@github.com> {when} +0800\ndata {len(message)}\n".encode() + message
        if mark > 1:
            out += f"from :{mark - 1}\n".encode() + (f"merge :{BRANCH_MARKS + mark}\n".encode() if merged else b"")
        if mark == 1:  # the inventory, as the repository ships it
            for path in sorted((ROOT / "inventory").rglob("*")):
                if path.is_file():
                    data = path.read_bytes()
                    ops.append(f"M 100644 inline {path.relative_to(ROOT).as_posix()}\ndata {len(data)}\n".encode() + data + b"\n")
        out += b"".join(ops) + b"\n"
    out += f"commit refs/notes/bandwidth\ncommitter bot <bot@example.invalid> {when} +0800\ndata 5\nnotes\n".encode()
    for mark in range(1, merges + 1):
        note = (
            f"Bandwidth-Pull-Request: {mark}\nBandwidth-Requested-By: pemohon-{mark}\n"
            "Bandwidth-Disposition: kasubag_tu tu-1 2026-06-01T01:00:00Z\nBandwidth-Disposition: administrator_tik admin-1 2026-06-01T02:00:00Z\n"
            "Bandwidth-Disposition: kasi_infrastruktur kasi-1 2026-06-01T03:00:00Z\n"
        ).encode()
        out += f"N inline :{mark}\ndata {len(note)}\n".encode() + note + b"\n"
    out += b"\n"
    return bytes(out)


def build(folder: Path, merges: int, merge_commits: bool = True) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=folder, input=fast_import_stream(merges, merge_commits), check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=folder, check=True)


def best(argv: list[str], cwd: Path, runs: int = 3) -> float:
    fastest = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def main() -> None:
    merges = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory(prefix="bandwidth-audit-bench-") as tmp:
        small, large = Path(tmp) / "n", Path(tmp) / "2n"
        build(small, merges)
        build(large, 2 * merges)
        events = subprocess.run([BANDWIDTH, "audit", "--format=json"], cwd=large, capture_output=True, text=True, check=True).stdout.count('"action"')
        patch = best(["git", "log", "--first-parent", "--diff-merges=first-parent", "-p", "-M", "HEAD", "--", "allocations/"], large)
        audit_small = best([BANDWIDTH, "audit", "--format=json"], small)
        audit_large = best([BANDWIDTH, "audit", "--format=json"], large)
        ledger_old = best([BANDWIDTH, "ledger", "--format=json", f"--at=HEAD~{merges}"], large)
        ledger_now = best([BANDWIDTH, "ledger", "--format=json"], large)
    print(f"history: {2 * merges} merges, {events} events")
    print(f"git log -p (the patch history)       {patch:6.2f} s")
    print(f"bandwidth audit --format=json         {audit_large:6.2f} s   = {audit_large / patch:.2f}x git log -p")
    print(f"audit, {merges} -> {2 * merges} merges           {audit_small:6.2f} s -> {audit_large:.2f} s = {audit_large / audit_small:.2f}x (linear: 2x)")
    print(f"ledger --at HEAD~{merges} vs this checkout  {ledger_old:6.2f} s vs {ledger_now:.2f} s = {ledger_old / ledger_now:.2f}x")


if __name__ == "__main__":
    main()
