"""`bandwidth render`: what each gateway must look like today (the plan; refuses if the check fails)."""

from __future__ import annotations

import sys
from pathlib import Path

from bandwidth import options
from bandwidth.commands import EXIT_OK, EXIT_PROBLEMS
from bandwidth.errors import UsageError

HELP = "what each gateway must look like today (refuses if the check fails)"


def add_arguments(parser) -> None:
    options.inventory(parser)
    options.today(parser, "render as of this date")
    parser.add_argument("--gateway", help="only this gateway")
    options.output_format(parser, ("json", "tc"), what="json: device specs for the Ansible module; tc: the full tc batch (dry run)")
    parser.add_argument("--leaf-qdisc", default="fq_codel", help="leaf qdisc for --format tc (default: %(default)s)")
    options.output(parser)
    parser.add_argument("--output-dir", type=Path, metavar="DIR", help="json: write one DIR/<gateway>.json per gateway (what playbooks/apply.yml reads)")


def run(args) -> int:
    import json

    from bandwidth.allocations import check_output
    from bandwidth.allocations.checker import CheckOptions, run_check
    from bandwidth.shaping.render import batch_text, render

    result = run_check(CheckOptions(root=args.repo, inventory=args.inventory, today=args.today))
    if result.errors:  # the second guard: nothing is rendered, so nothing can be applied
        check_output.text(result, out=sys.stderr)
        if args.output_dir and args.output_dir.is_dir():
            from bandwidth.shaping.plan import PlanFolder

            PlanFolder(args.output_dir).remove_stale(keep=set())  # no plan of an earlier run is left to apply
        print("bandwidth: error: refusing to render: bandwidth check fails", file=sys.stderr)
        return EXIT_PROBLEMS
    plans = render(result.inventory, result.allocations, result.today)
    if args.gateway:
        if args.gateway not in plans:
            raise UsageError(f"--gateway {args.gateway}: not in {args.inventory}")
        plans = {args.gateway: plans[args.gateway]}
    if args.output_dir:
        import dataclasses

        from bandwidth.shaping.plan import PlanFolder
        from bandwidth.shaping.render import controller

        args.output_dir.mkdir(parents=True, exist_ok=True)
        folder = PlanFolder(args.output_dir)
        folder.remove_stale(keep=set(plans))  # the plan of a gateway that left the inventory
        who, commit = controller(), rendered_commit(args.repo)
        for spec in plans.values():
            folder.write(dataclasses.replace(spec, today=result.today.isoformat(), controller=who, commit=commit))
        return EXIT_OK
    if args.format == "tc":
        text = "".join(f"# {name}\n" + batch_text(spec, args.leaf_qdisc) for name, spec in plans.items())
    else:
        doc = {"today": result.today.isoformat(), "gateways": {name: spec.to_json() for name, spec in plans.items()}}
        text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def rendered_commit(root: Path):
    """HEAD of the repository (its sha and committer time), or None outside a git repository."""
    from bandwidth import gitread
    from bandwidth.shaping.plan import RenderedCommit

    fields = gitread.text(gitread.git(root, "log", "-1", "--format=%H %ct", check=False)).split()
    return RenderedCommit(sha=fields[0], time=int(fields[1])) if len(fields) == 2 else None
