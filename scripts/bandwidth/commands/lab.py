"""`bandwidth lab up|down|status|reboot`: the network-namespace replica of the inventory."""

from __future__ import annotations

from bandwidth import options

HELP = "the network-namespace replica of the inventory: up, down, status, reboot"


def add_arguments(parser) -> None:
    parser.add_argument(
        "action",
        choices=("up", "down", "status", "reboot"),
        help="up: (re)build the lab; down: remove it; status: is it up (exit 0) or not (1); reboot GATEWAY: clear its tc state as a reboot would, then run its boot restore",
    )
    parser.add_argument("gateway", nargs="?", help="reboot: the gateway")
    options.inventory(parser, "the inventory to replicate")
    options.lab_dir(parser, "the lab's files: inventory, keys, pids, lab.json")
    options.today(parser, "build the allocations in force on this date")
    parser.add_argument("--rebuild", action="store_true", help="up: build anew even when the lab is already up as planned")
    parser.add_argument("--no-clients", dest="clients", action="store_false", help="gateways and uplinks only, no client per allocation (for benchmarks with thousands)")


def run(args) -> int:
    from bandwidth.lab import commands

    return commands.run(args)
