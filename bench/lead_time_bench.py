"""Lead time from the push to main to the report comment on the merged pull request, on the lab.

The same path as the e2e scenario "merge to report" (tests/e2eworld.py): an issue from the form,
the intake workflow's pull request, its check and availability comment, three approvals, the
merge; then the timed part: the push run of .github/workflows/apply.yml under act against the local
fake GitHub and the lab (check and disposition note side by side, then apply, verify with the
changed allocation measured, the report commented). The clock starts when act is started for the
push and stops when the fake GitHub receives the report comment. Needs root (the lab); takes about
two minutes. Goal (issue #11): under 90 s.

    .venv/bin/python bench/lead_time_bench.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import BANDWIDTH  # noqa: E402
from e2eworld import merge_to_report, new_world  # noqa: E402

GOAL_SECONDS = 90.0


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="lead-time-") as tmp:
        folder = Path(tmp)
        lab = folder / "lab-checkout"
        with new_world(folder) as world:
            try:
                merged = merge_to_report(world, lab)
            finally:
                subprocess.run([BANDWIDTH, "lab", "down"], cwd=lab, capture_output=True, timeout=300, check=False)
            run = merged.run
            if run.returncode != 0:
                for job, result in run.jobs().items():
                    if result == "failure":  # what the failed job's steps printed, not act's own log lines
                        print(f"--- job {job} failed; the end of what its steps printed:\n{run.output(job)[-6000:]}")
                print("lead time: the push run failed", file=sys.stderr)
                return 1
            comments = [
                c for c in world.github.calls
                if c.method == "POST" and c.path.endswith(f"/issues/{merged.pull}/comments") and str((c.body or {}).get("body", "")).startswith("<!-- bandwidth-report -->")
            ]  # fmt: skip
            if not comments:
                print("lead time: no report comment on the merged pull request", file=sys.stderr)
                return 1
            lead = comments[0].at - merged.pushed

    print(f"push to report comment on #{merged.pull}: {lead:.1f} s (goal {GOAL_SECONDS:.0f} s: {lead / GOAL_SECONDS:.2f}x the goal)")
    print(f"act run in all (the jobs after the comment included): {run.seconds:.1f} s")
    print("jobs (seconds since the run's first log line):")
    for job, (start, end) in sorted(run.job_seconds().items(), key=lambda item: item[1]):
        print(f"  {job:<14} {start:6.1f} -> {end:6.1f}  ({end - start:5.1f} s)")
    for job in ("check", "apply"):
        print(f"steps of {job}:")
        for step, seconds in run.step_seconds(job).items():
            print(f"  {seconds:6.1f} s  {step}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
