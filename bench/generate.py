"""Generate a repository of N allocations over G gateways, for benchmarks.

Usage: python bench/generate.py OUT_DIR [--allocations 10000] [--gateways 50]
Every file is valid and the whole set passes `bandwidth check`; addresses stay in 198.18.0.0/15.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import shutil
from pathlib import Path

AGENCIES = [
    "Dinas Kesehatan", "Dinas Pendidikan dan Kebudayaan", "Badan Pendapatan Daerah", "Dinas Perhubungan",
    "Badan Kepegawaian Daerah", "Dinas Sosial", "Dinas Pekerjaan Umum", "Badan Penanggulangan Bencana Daerah",
]  # fmt: skip
LAN_BLOCK = 21  # each gateway gets a /21 of 198.18.0.0/15; each allocation a /29 of it


def generate(out: Path, allocations: int, gateways: int, seed: int = 7) -> Path:
    if out.exists():
        shutil.rmtree(out)
    rng = random.Random(seed)
    space = ipaddress.ip_network("198.18.0.0/15")
    lans = list(space.subnets(new_prefix=LAN_BLOCK))[:gateways]
    per_gateway = -(-allocations // gateways)
    if per_gateway > 2 ** (29 - LAN_BLOCK):
        raise SystemExit(f"at most {2 ** (29 - LAN_BLOCK)} allocations per gateway fit in a /{LAN_BLOCK}")
    host_vars = out / "inventory/production/host_vars"
    host_vars.mkdir(parents=True)
    hosts = ["all:", "  children:", "    gateways:", "      hosts:"]
    written = 0
    for g in range(gateways):
        name = f"gw-{g:02d}"
        hosts.append(f"        {name}: {{}}")
        (host_vars / f"{name}.yml").write_text(
            f"bandwidth_lan_networks: [{lans[g]}]\nbandwidth_uplinks:\n"
            "  - {name: isp-a, download_mbps: 1000, upload_mbps: 1000, reserve_percent: 10, lan_interface: eth1}\n"
            "  - {name: isp-b, download_mbps: 1000, upload_mbps: 1000, reserve_percent: 10, lan_interface: eth2}\n"
        )
        folder = out / "allocations" / name
        folder.mkdir(parents=True)
        subnets = lans[g].subnets(new_prefix=29)
        for _ in range(min(per_gateway, allocations - written)):
            written += 1
            request_id = f"BW-{2020 + written // 10000}-{written % 10000:04d}"
            guaranteed = rng.choice([1, 2, 2.5, 3, 4.125, 5, 6])
            start_day = rng.randint(1, 28)
            end = f"end: 2027-{rng.randint(1, 12):02d}-{start_day:02d}\n" if rng.random() < 0.3 else ""
            (folder / f"{request_id}.yaml").write_text(
                "# yaml-language-server: $schema=../../schemas/allocation.schema.json\n"
                f"id: {request_id}\n"
                f"agency: {rng.choice(AGENCIES)} Provinsi Kalimantan Timur\n"
                f"letter: {{number: 555/{written:04d}/DISKOMINFO/2026, date: 2026-10-{start_day:02d}}}\n"
                f"contact: {{name: Petugas {written}, email: petugas{written}@example.go.id}}\n"
                f"gateway: {name}\n"
                f"uplink: {rng.choice(['isp-a', 'isp-b'])}\n"
                f"subnets: [{next(subnets)}]\n"
                f"download: {{guaranteed_mbps: {guaranteed}, max_mbps: {guaranteed * 4}}}\n"
                f"upload: {{guaranteed_mbps: {guaranteed}, max_mbps: {guaranteed * 2}}}\n"
                f"priority: {rng.randint(0, 7)}\n"
                f"start: 2026-11-{start_day:02d}\n"
                f"{end}"
                "purpose: Layanan publik daring\n"
            )
    (out / "inventory/production/hosts.yml").write_text("\n".join(hosts) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--allocations", type=int, default=10_000)
    parser.add_argument("--gateways", type=int, default=50)
    args = parser.parse_args()
    generate(args.out, args.allocations, args.gateways)
    print(f"{args.allocations} allocations over {args.gateways} gateways in {args.out}")


if __name__ == "__main__":
    main()
