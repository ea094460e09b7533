"""`bandwidth monitoring-config`: Prometheus' and Alertmanager's files from the inventory and the settings."""

from __future__ import annotations

from pathlib import Path

from bandwidth import options
from bandwidth.commands import EXIT_OK

HELP = "write prometheus.yml, the file_sd targets, the rules and alertmanager.yml from the inventory"


def add_arguments(parser) -> None:
    options.inventory(parser, "the inventory whose gateways Prometheus scrapes")
    parser.add_argument("--settings", type=Path, metavar="FILE", help="YAML with the sections prometheus, rules, alertmanager (monitoring/settings.example.yml)")
    parser.add_argument("--output-dir", type=Path, required=True, metavar="DIR", help="write the files here (e.g. /etc/prometheus/bandwidth)")


def run(args) -> int:
    from bandwidth.monitoring.config_files import read_settings, render_all, write_all

    inventory = Path(args.inventory) if Path(args.inventory).is_absolute() else Path(args.repo) / args.inventory
    files = render_all(inventory, read_settings(args.settings), args.settings)
    for path in write_all(args.output_dir, files):
        print(path)
    return EXIT_OK
