"""`bandwidth measure`: iperf3 throughput of lab allocations, alone and all at once (JSON)."""

from __future__ import annotations

import sys

from bandwidth import options
from bandwidth.commands import EXIT_OK
from bandwidth.errors import UsageError

HELP = "iperf3 throughput of lab allocations, alone and all at once (JSON)"


def add_arguments(parser) -> None:
    parser.add_argument("ids", nargs="*", help="allocation ids (default: every client of the lab)")
    options.lab_dir(parser, "the lab")
    options.measure_seconds(parser)
    parser.add_argument("--no-contention", action="store_true", help="only each allocation alone")
    options.plans(parser, "plans of `bandwidth render --output-dir`: where each class counts its bytes, for the wire rate")


def run(args) -> int:
    import json

    from bandwidth.reports import measure
    from bandwidth.shaping.plan import PlanFolder

    lab_dir = args.repo / args.lab_dir
    plans = PlanFolder(args.repo / args.plans).read_all()
    try:
        lab = json.loads((lab_dir / "lab.json").read_text()) if (lab_dir / "lab.json").exists() else {}
        wire = measure.wire_targets(plans, lab) or None
        result = measure.measure(measure.Options(lab_dir=lab_dir, ids=args.ids or None, duration=args.seconds, contention=not args.no_contention, wire=wire))
    except measure.MeasureError as exc:
        raise UsageError(str(exc)) from None
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return EXIT_OK
