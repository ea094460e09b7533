"""`bandwidth lab up|down|status|reboot|fault`: the network-namespace replica of the inventory."""

from __future__ import annotations

from bandwidth import options

HELP = "the network-namespace replica of the inventory: up, down, status, reboot, fault"


def add_arguments(parser) -> None:
    parser.add_argument(
        "action",
        choices=("up", "down", "status", "reboot", "fault", "monitoring"),
        help=(
            "up: (re)build the lab; down: remove it; status: is it up (exit 0) or not (1); reboot GATEWAY: clear its tc state as a "
            "reboot would, then run its boot restore; fault ID: break that allocation's shaping by hand (the next apply repairs it); "
            "monitoring: start the collectors, Prometheus and Alertmanager on the lab (after apply)"
        ),
    )
    parser.add_argument("gateway", nargs="?", metavar="GATEWAY|ID", help="reboot: the gateway; fault: the allocation")
    options.inventory(parser, "the inventory to replicate")
    options.lab_dir(parser, "the lab's files: inventory, keys, pids, lab.json")
    options.today(parser, "build the allocations in force on this date")
    parser.add_argument("--rebuild", action="store_true", help="up: build anew even when the lab is already up as planned")
    parser.add_argument("--no-clients", dest="clients", action="store_false", help="gateways and uplinks only, no client per allocation (for benchmarks with thousands)")
    faults = parser.add_argument_group("fault ID: one of")
    faults.add_argument("--ceil-percent", type=int, metavar="N", help="lower its class's ceil to N%% of the plan's")
    faults.add_argument("--without-filter", choices=("ipv4", "ipv6"), help="delete its u32 filters of this address family")
    faults.add_argument("--direction", choices=("download", "upload"), help="only this direction (default: both)")
    options.plans(parser, "fault: the plans of the last apply")
    watch = parser.add_argument_group("monitoring")
    watch.add_argument("--webhook-url", metavar="URL", help="where Alertmanager posts alerts (default: http://<lab address>:9095/, for `bandwidth alert-webhook`)")
    watch.add_argument("--smtp-smarthost", metavar="HOST:PORT", help="the mail server Alertmanager sends e-mail to (default: the settings' default)")


def run(args) -> int:
    from bandwidth.lab import commands

    return commands.run(args)
