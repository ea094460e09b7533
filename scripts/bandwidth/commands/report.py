"""`bandwidth report`: re-check (read-back + measured) and write the completion report (SOP steps 8-10)."""

from __future__ import annotations

import sys
from pathlib import Path

from bandwidth import options
from bandwidth.commands import EXIT_OK, EXIT_PROBLEMS
from bandwidth.errors import UsageError

HELP = "re-check (read-back + measured) and write the completion report (SOP steps 8-10)"


def add_arguments(parser) -> None:
    options.inventory(parser)
    options.plans(parser, "the plans and apply records of the playbooks")
    parser.add_argument("--readback", type=Path, help="read-back differences from playbooks/verify.yml (JSON)")
    parser.add_argument("--reports", type=Path, default=Path("reports"), help="where reports/<time>/ and reports/latest go (default: %(default)s)")
    options.lab_dir(parser, "measure with the clients of this lab", default=None)
    parser.add_argument("--measure", default="all", help="all, changed, none, or comma-separated ids (default: %(default)s)")
    options.measure_seconds(parser)
    copy = parser.add_argument_group("after the report was commented on the pull request (SOP step 10): render it again, no measuring, no git")
    copy.add_argument("--from", dest="from_dir", type=Path, metavar="DIR", help="the folder of the report (e.g. reports/latest): DIR/report.json is read and every file written again in DIR")
    copy.add_argument("--copied-at", metavar="TIME", help="when the report was commented (ISO 8601, e.g. 2026-11-28T02:00:00Z): timeline.copied")
    copy.add_argument("--pull-request", type=int, metavar="N", help="the pull request commented on: only its allocations (timeline.pull_request) get the time")


def run(args) -> int:
    from bandwidth.allocations.checker import CheckOptions, run_check
    from bandwidth.reports import completion, measure

    if args.from_dir is not None or args.copied_at is not None or args.pull_request is not None:
        return run_copied(args)

    report_options = completion.ReportOptions(
        repo=args.repo, inventory=args.inventory, plans=args.repo / args.plans, readback=args.readback, reports=args.repo / args.reports,
        lab_dir=(args.repo / args.lab_dir) if args.lab_dir else None, measure=args.measure, seconds=args.seconds,
    )  # fmt: skip
    result = run_check(CheckOptions(root=report_options.repo, inventory=report_options.inventory))
    try:
        report = completion.build(report_options, result)
    except measure.MeasureError as exc:
        raise UsageError(str(exc)) from None
    folder = completion.write(report, report_options.reports)
    completion.write_ledger(report, result, folder)
    print("\n".join(completion.summary(report, folder)))
    failed = [a["id"] for a in report["allocations"] if a["verdict"] == "fail"]
    unapplied = [g["name"] for g in report["gateways"] if g.get("applied") is False]  # named with their reason in the summary
    if report["drift"] or failed or unapplied:
        problems = f"{len(report['drift'])} drift(s), {len(failed)} failed measurement(s) {' '.join(failed)}".rstrip()
        if unapplied:
            problems = f"{len(unapplied)} gateway(s) not applied ({' '.join(unapplied)}), {problems}"
        print(f"bandwidth: verification failed: {problems}", file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK


def run_copied(args) -> int:
    """--from DIR --copied-at TIME --pull-request N: the report dated with its copy to the requester."""
    from bandwidth.history import disposition
    from bandwidth.reports import completion

    if args.from_dir is None or args.copied_at is None or args.pull_request is None:
        raise UsageError("--from, --copied-at and --pull-request go together")
    if not disposition.is_time(args.copied_at):
        raise UsageError(f"--copied-at {args.copied_at!r}: expected an ISO 8601 time such as 2026-11-28T02:00:00Z")
    if args.pull_request < 1:
        raise UsageError(f"--pull-request {args.pull_request}: expected a pull request number")
    folder = args.repo / args.from_dir
    ids = completion.copied(folder, args.copied_at, args.pull_request)
    if not ids:
        print(f"report {folder}: no allocation of PR #{args.pull_request}: nothing updated")
    else:
        named = " ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        print(f"report {folder}: copied {args.copied_at} set on {len(ids)} allocation(s) of PR #{args.pull_request} ({named}); files written again")
    return EXIT_OK
