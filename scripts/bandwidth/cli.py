"""The `bandwidth` command: parse arguments into a plain object, then run one subcommand."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import re
import sys
from pathlib import Path

from bandwidth import __version__
from bandwidth.loader import UsageError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - one add_argument per option of every command: a table, not logic
    parser = argparse.ArgumentParser(prog="bandwidth", description="Bandwidth provisioning for Pemprov Kaltim, as code.")
    parser.add_argument("--version", action="version", version=f"bandwidth {__version__}")
    parser.add_argument("-C", "--repo", type=Path, default=Path("."), help="repository root (default: the current folder)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser("check", help="validate every request file and the capacity of every uplink (SOP steps 5-6)")
    check.add_argument("--inventory", default="inventory/production", help="inventory folder (default: %(default)s)")
    check.add_argument("--format", choices=("text", "json", "github"), default="text", help="output format (default: %(default)s)")
    check.add_argument("--summary", type=Path, metavar="FILE", help="write the availability form (Markdown, Bahasa Indonesia) to FILE")
    check.add_argument("--base", metavar="REF", help="mark the allocations added or changed since this git ref")
    check.add_argument("--today", type=_date, metavar="DATE", help="check as of this date (default: today in WITA)")

    render = sub.add_parser("render", help="what each gateway must look like today (refuses if the check fails)")
    render.add_argument("--inventory", default="inventory/production", help="inventory folder (default: %(default)s)")
    render.add_argument("--today", type=_date, metavar="DATE", help="render as of this date (default: today in WITA)")
    render.add_argument("--gateway", help="only this gateway")
    render.add_argument("--format", choices=("json", "tc"), default="json", help="json: device specs for the Ansible module; tc: the full tc batch (dry run)")
    render.add_argument("--leaf-qdisc", default="fq_codel", help="leaf qdisc for --format tc (default: %(default)s)")
    render.add_argument("--output", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    render.add_argument("--output-dir", type=Path, metavar="DIR", help="json: write one DIR/<gateway>.json per gateway (what playbooks/apply.yml reads)")

    report = sub.add_parser("report", help="re-check (read-back + measured) and write the completion report (SOP steps 8-10)")
    report.add_argument("--inventory", default="inventory/production", help="inventory folder (default: %(default)s)")
    report.add_argument("--plans", type=Path, default=Path(".plans"), help="the plans and apply records of the playbooks (default: %(default)s)")
    report.add_argument("--readback", type=Path, help="read-back differences from playbooks/verify.yml (JSON)")
    report.add_argument("--reports", type=Path, default=Path("reports"), help="where reports/<time>/ and reports/latest go (default: %(default)s)")
    report.add_argument("--lab-dir", type=Path, help="measure with the clients of this lab")
    report.add_argument("--measure", default="all", help="all, changed, none, or comma-separated ids (default: %(default)s)")
    report.add_argument("--seconds", type=int, default=3, help="iperf3 seconds per measurement (default: %(default)s)")
    copy = report.add_argument_group("after the report was commented on the pull request (SOP step 10): render it again, no measuring, no git")
    copy.add_argument("--from", dest="from_dir", type=Path, metavar="DIR", help="the folder of the report (e.g. reports/latest): DIR/report.json is read and every file written again in DIR")
    copy.add_argument("--copied-at", metavar="TIME", help="when the report was commented (ISO 8601, e.g. 2026-11-28T02:00:00Z): timeline.copied")
    copy.add_argument("--pull-request", type=int, metavar="N", help="the pull request commented on: only its allocations (timeline.pull_request) get the time")

    approvals = sub.add_parser("approvals", help="is the disposition chain of a pull request complete? (SOP steps 2-4)")
    approvals.add_argument("--repo", dest="github_repo", required=True, metavar="OWNER/NAME", help="the GitHub repository")
    approvals.add_argument("--pr", type=int, required=True, metavar="N", help="the pull request number")
    approvals.add_argument("--summary", type=Path, metavar="FILE", help="also append the table to FILE (e.g. $GITHUB_STEP_SUMMARY)")

    intake = sub.add_parser("from-issue", help="turn a submitted issue form into a request file (SOP step 1)")
    intake.add_argument("--body-file", required=True, metavar="FILE", help="the issue body (- for standard input)")
    intake.add_argument("--github", metavar="LOGIN", help="the requester's GitHub account (the issue author)")
    intake.add_argument("--today", type=_date, metavar="DATE", help=argparse.SUPPRESS)

    measure = sub.add_parser("measure", help="iperf3 throughput of lab allocations, alone and all at once (JSON)")
    measure.add_argument("ids", nargs="*", help="allocation ids (default: every client of the lab)")
    measure.add_argument("--lab-dir", type=Path, default=Path("lab"), help="the lab (default: %(default)s)")
    measure.add_argument("--seconds", type=int, default=3, help="iperf3 seconds per measurement (default: %(default)s)")
    measure.add_argument("--no-contention", action="store_true", help="only each allocation alone")
    measure.add_argument("--plans", type=Path, default=Path(".plans"), help="plans of `bandwidth render --output-dir`: where each class counts its bytes, for the wire rate (default: %(default)s)")

    lab = sub.add_parser("lab", help="the network-namespace replica of the inventory: up, down, status, reboot")
    from bandwidth import lab as lab_module

    lab_module.add_arguments(lab)

    for name, module_name, help_text in (
        ("audit", "audit", "each allocation's life from git history: created, changed, removed, with approvers"),
        ("ledger", "ledger", "the availability list (daftar kesediaan bandwidth) at a date or commit"),
        ("record", "record", "write the disposition chain of a merged pull request into git (a note on its commit)"),
        ("monitor", "monitoring", "turn tc counter samples into the Laporan Monitoring Bandwidth"),
        ("overcapacity", "overcapacity", "the issue body when main fails its re-check: overflowing uplinks, their pull requests, who must act"),
    ):
        command = sub.add_parser(name, help=help_text)
        command.set_defaults(module=module_name)
        importlib.import_module(f"bandwidth.{module_name}").add_arguments(command)

    new = sub.add_parser("new", help="write a new request file with the next free id")
    from bandwidth import scaffold

    scaffold.add_arguments(new)
    new.add_argument("--inventory", default="inventory/production", help="inventory folder (default: %(default)s)")
    new.add_argument("--today", type=_date, metavar="DATE", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "render":
            return cmd_render(args)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "approvals":
            return cmd_approvals(args)
        if args.command == "from-issue":
            from bandwidth import intake

            return intake.run(args)
        if args.command == "measure":
            return cmd_measure(args)
        if args.command == "lab":
            from bandwidth import lab

            return lab.run(args)
        if getattr(args, "module", None):
            return importlib.import_module(f"bandwidth.{args.module}").run(args)
        if args.command == "new":
            from bandwidth import scaffold

            return scaffold.run(args)
    except UsageError as exc:
        print(f"bandwidth: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into head: stop quietly, as other tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PROBLEMS
    return EXIT_USAGE


def cmd_check(args) -> int:
    from bandwidth import form, reporting
    from bandwidth.checker import CheckOptions, run_check

    result = run_check(CheckOptions(root=args.repo, inventory=args.inventory, base=args.base, today=args.today))
    reporting.FORMATS[args.format](result)
    if args.summary:
        try:
            args.summary.write_text(form.render(result), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--summary {args.summary}: {exc.strerror}") from None
    return EXIT_PROBLEMS if result.errors else EXIT_OK


def cmd_render(args) -> int:
    import json

    from bandwidth import reporting
    from bandwidth.checker import CheckOptions, run_check
    from bandwidth.render import batch_text, render

    result = run_check(CheckOptions(root=args.repo, inventory=args.inventory, today=args.today))
    if result.errors:  # the second guard: nothing is rendered, so nothing can be applied
        reporting.text(result, out=sys.stderr)
        print("bandwidth: error: refusing to render: bandwidth check fails", file=sys.stderr)
        return EXIT_PROBLEMS
    plan = render(result.inventory, result.allocations, result.today)
    if args.gateway:
        if args.gateway not in plan["gateways"]:
            raise UsageError(f"--gateway {args.gateway}: not in {args.inventory}")
        plan["gateways"] = {args.gateway: plan["gateways"][args.gateway]}
    if args.output_dir:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        for stale in args.output_dir.glob("*.json"):  # the plan of a gateway that left the inventory
            if stale.name.count(".") == 1 and stale.stem not in plan["gateways"] and stale.stem != "readback":
                stale.unlink()
        from bandwidth.render import controller, write_plan

        who = controller()
        for name, spec in plan["gateways"].items():
            write_plan(args.output_dir / f"{name}.json", {"today": plan["today"], "controller": who, **spec})
        return EXIT_OK
    if args.format == "tc":
        text = "".join(f"# {name}\n" + batch_text(spec, args.leaf_qdisc) for name, spec in plan["gateways"].items())
    else:
        text = json.dumps(plan, indent=1, sort_keys=True) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_measure(args) -> int:
    import json

    from bandwidth import measure

    lab_dir = args.repo / args.lab_dir
    plans = {}
    for path in sorted((args.repo / args.plans).glob("*.json")):  # <gateway>.json of `bandwidth render`
        if path.name.count(".") == 1 and path.stem != "readback":
            plans[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    try:
        lab = json.loads((lab_dir / "lab.json").read_text()) if (lab_dir / "lab.json").exists() else {}
        wire = measure.wire_targets(plans, lab) or None
        result = measure.measure(measure.Options(lab_dir=lab_dir, ids=args.ids or None, duration=args.seconds, contention=not args.no_contention, wire=wire))
    except measure.MeasureError as exc:
        raise UsageError(str(exc)) from None
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return EXIT_OK


def cmd_report(args) -> int:
    from bandwidth import completion, measure
    from bandwidth.checker import CheckOptions, run_check

    if args.from_dir is not None or args.copied_at is not None or args.pull_request is not None:
        return cmd_report_copied(args)

    options = completion.ReportOptions(
        repo=args.repo, inventory=args.inventory, plans=args.repo / args.plans, readback=args.readback, reports=args.repo / args.reports,
        lab_dir=(args.repo / args.lab_dir) if args.lab_dir else None, measure=args.measure, seconds=args.seconds,
    )  # fmt: skip
    result = run_check(CheckOptions(root=options.repo, inventory=options.inventory))
    try:
        report = completion.build(options, result)
    except measure.MeasureError as exc:
        raise UsageError(str(exc)) from None
    folder = completion.write(report, options.reports)
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


def cmd_report_copied(args) -> int:
    from bandwidth import completion, disposition

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


def cmd_approvals(args) -> int:
    from bandwidth import approvals

    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", args.github_repo):
        raise UsageError(f"--repo {args.github_repo!r}: expected OWNER/NAME")
    try:
        result = approvals.evaluate(args.github_repo, args.pr, approvals.GitHub())  # GitHub() checks GITHUB_API_URL
    except approvals.ApiError as exc:
        raise UsageError(str(exc)) from None
    text = approvals.table(result)
    sys.stdout.write(text)
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as handle:
            handle.write(text)
    return EXIT_OK if result.complete else EXIT_PROBLEMS
