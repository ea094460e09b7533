"""`bandwidth report`: after apply, re-check (read-back + measured) and write the completion report.

SOP step 8 (the Kasi re-checks), 9-10 (the report, copied to the requester). Inputs are what the
playbooks leave in .plans/: <gateway>.json (the plan), <gateway>.applied.json (what the last
apply did on the gateway: what it changed, or that it failed and why) and readback.json (the drift
found by verify.yml's read-back).

An apply record: {"gateway", "applied": bool, "reason": str | null, "changed", "time", "differences"}.
Records written before `applied` existed were written only for gateways the apply configured: applied.
No record: the report cannot say (applied null). A gateway not applied gets the verdict not_applied
for each of its allocations, whatever was measured (the classes of an earlier apply may still shape).

Each allocation's timeline (the times of the ten SOP steps, schemas/report.schema.json) comes from
git: the request file's own first commit, and what `bandwidth record` wrote for the merge that last
changed the allocation (history.last_events): when the request came (the intake issue), the pull
request was opened, each role of the disposition chain approved, `bandwidth check` ran on the
approved head and its form was posted, and the merge. `copied` stays null here: `bandwidth report
--from DIR --copied-at TIME --pull-request N` sets it once the report is on the pull request.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bandwidth import gitread
from bandwidth.errors import UsageError
from bandwidth.escape import printable
from bandwidth.github import approvals
from bandwidth.history import disposition, history
from bandwidth.model import DIRECTIONS, CheckResult
from bandwidth.outputs import utc_now
from bandwidth.reports import measure, report_data, report_files
from bandwidth.reports.report_data import TOLERANCE
from bandwidth.shaping.plan import PlanFolder

MAX_REASON = 2000  # the schema's text
# The fields of a request file a change is reported by, in this order (history.flatten's names).
CHANGE_FIELDS = (
    "gateway", "uplink", "subnets", "download.guaranteed_mbps", "download.max_mbps", "upload.guaranteed_mbps", "upload.max_mbps", "priority", "start", "end",
)  # fmt: skip


@dataclass
class ReportOptions:
    repo: Path
    inventory: str
    plans: Path
    readback: Path | None
    reports: Path
    lab_dir: Path | None
    measure: str = "all"  # all | changed | none | comma-separated ids
    seconds: int = 3


def _git(repo: Path, *args: str) -> str:
    """git's answer, or '' when there is none (a copy of the repository without .git, say)."""
    return gitread.text(gitread.git(repo, *args, check=False)).strip()


def _first_commit(repo: Path, path: str) -> str | None:
    """The author date of the newest commit that added `path` itself: never --follow, whose rename and copy detection would date
    a request file created as a copy of another (or of an older request) by that file's history. A file moved to another
    gateway is added at its new path by the move."""
    return _git(repo, "log", "--no-follow", "--no-renames", "--diff-filter=A", "--format=%aI", "-1", "--", path) or None


def _read_json(path: Path, default):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _apply_record(path: Path) -> tuple[dict, bool | None, str | None]:
    """A gateway's apply record ({} when there is none or it is unusable), whether the apply configured the gateway, and why not."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, None, None
    except (OSError, ValueError) as exc:  # a record is written whole (write-then-rename): this is no apply's record
        return {}, False, _reason(f"apply record {path.name} unreadable: {exc}")
    if not isinstance(record, dict):
        return {}, False, _reason(f"apply record {path.name} is not a JSON object")
    applied = record.get("applied", True)
    if applied is True:
        return record, True, None
    if applied is not False:  # not what the apply writes: never taken for applied
        return record, False, _reason(f"apply record {path.name}: applied is {json.dumps(applied)}, not true or false")
    return record, False, _reason(record.get("reason"))


def _reason(value) -> str | None:
    """An apply's error as report text: any text (it may contain anything; the renderers escape it), valid Unicode, at most MAX_REASON characters."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate from a \ud800 escape, as text
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _measurement_plan(options: ReportOptions, changed_ids: set, shaped: set) -> tuple[list[str], dict[str, tuple[str, bool]]]:
    """(ids to measure, id -> (why not measured, whether that fails the run)) for the allocations shaped."""
    if options.measure == "none":
        return [], {i: ("tidak diminta (bandwidth_verify_measure=none)", False) for i in shaped}
    if not options.lab_dir:
        return [], {i: ("produksi: hanya pembacaan ulang, tanpa pengukuran", False) for i in shaped}
    if options.measure == "all":
        asked = set(shaped)
    elif options.measure == "changed":
        asked = shaped & changed_ids
    else:
        asked = shaped & {i for i in options.measure.split(",") if i}
    lab = _read_json(options.lab_dir / "lab.json", {})
    lab_ids = {c["id"] for c in lab.get("clients", [])}
    skipped = {s["id"]: s["reason"] for s in lab.get("skipped", [])}
    why = {i: (f"tidak diminta (bandwidth_verify_measure={options.measure})", False) for i in shaped - asked}
    # Asked for and not measurable: the run fails, it never passes quietly.
    why |= {i: (f"tidak ada klien lab: {skipped.get(i, 'tidak ada di lab')}", True) for i in asked - lab_ids}
    return sorted(asked & lab_ids), why


def _approved(event) -> str | None:
    """When the disposition chain was complete: the last approval, if `bandwidth record` wrote a complete chain."""
    if event is None or event.record is None or not event.record.complete:
        return None
    return max(a.time for a in event.record.approvals)


def _emergency(repo: Path, commit: str) -> dict | None:
    from bandwidth.errors import UsageError
    from bandwidth.history import gate

    try:
        return gate.emergency_of(repo, commit) if commit != "0" * 40 else None
    except UsageError:  # not a git repository
        return None


def _chain(repo: Path) -> list[str]:
    """The roles of the disposition chain in order, from .github/disposition.yml ([] when it cannot be read)."""
    try:
        return [role.role for role in approvals.load_chain((repo / approvals.DISPOSITION_PATH).read_text(encoding="utf-8"))[1]]
    except (OSError, UnicodeDecodeError, approvals.ApiError):
        return []


def _dispositions(record: disposition.Disposition | None, chain: list[str]) -> list[dict]:
    """Each role the record names, {"role", "login", "time"} (login and time null: no valid approval), in the order of the chain
    (SOP steps 2, 3 and 4 are its first three roles); roles the chain no longer has follow in the order recorded."""
    if record is None:
        return []
    found = {a.role: {"role": a.role, "login": a.login, "time": a.time} for a in record.approvals}
    for role, _why in record.missing:
        if role not in (disposition.NO_PULL_REQUEST, disposition.CHANGES_REQUESTED):
            found.setdefault(role, {"role": role, "login": None, "time": None})
    return [found[role] for role in chain if role in found] + [entry for role, entry in found.items() if role not in chain]


def _clipped(value) -> str:
    """A value as the schema's text: itself if a string, else printable; at most MAX_REASON characters."""
    return (value if isinstance(value, str) else printable(str(value)))[:MAX_REASON]


def _value(value):
    """A field's value as the report holds it: a number, a list of strings, or null as it is; anything else as text."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    if isinstance(value, list) and len(value) <= 64 and all(isinstance(v, str) and len(v) <= 200 for v in value):
        return value
    return _clipped(value)


def _request(event) -> dict:
    """What the merge that last changed the allocation did: a new one, or a change of an existing one (each field before and after)."""
    if event is None or event.action != "changed":
        return {"kind": "new", "changes": []}
    by_field = {c["field"]: c for c in event.changes}
    return {"kind": "change", "changes": [{"field": f, "old": _value(by_field[f]["old"]), "new": _value(by_field[f]["new"])} for f in CHANGE_FIELDS if f in by_field]}


def _text(value) -> str | None:
    """A field of an old version as the schema's text, or None."""
    return None if value is None else _clipped(value)


def _mbps(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _applied_before(event) -> bool:
    """The merge was applied with success by an earlier run (its signed record says so): a re-run does not report it again."""
    record = event.record
    return bool(record and record.applied_at and (record.applied or "success") == "success" and event.verified)


def _removed(landed: dict, present: set, commit: str, records: dict, unapplied: set) -> list[dict]:
    """The allocations the commit applied removed (Pengembalian / Pencabutan), from the file's last version."""
    removed = []
    for request_id, event in sorted(landed.items()):
        if request_id in present or event.action != "removed" or event.commit != commit or _applied_before(event) or not re.fullmatch(r"BW-[0-9]{4}-[0-9]{4}", request_id):
            continue
        old = event.fields  # the file as it was before its removal
        gateway = _text(old.get("gateway")) or event.path.split("/")[-2]
        applied = records.get(gateway, {}).get("time") if gateway in records and gateway not in unapplied else None
        removed.append({
            "id": request_id, "gateway": gateway, "uplink": _text(old.get("uplink")), "agency": _text(old.get("agency")),
            "letter": {"number": _text(event.letter["number"]), "date": _text(event.letter["date"])},
            "contact": {"name": _text(old.get("contact.name")), "email": _text(old.get("contact.email")), "github": _text(old.get("contact.github"))},
            "download": {"guaranteed_mbps": _mbps(old.get("download.guaranteed_mbps")), "max_mbps": _mbps(old.get("download.max_mbps"))},
            "upload": {"guaranteed_mbps": _mbps(old.get("upload.guaranteed_mbps")), "max_mbps": _mbps(old.get("upload.max_mbps"))},
            "applied": applied, "pull_request": event.pull_request,
        })  # fmt: skip
    return removed


def _commit_time(repo: Path, sha: str | None) -> str | None:
    """The committer date of a commit, when the repository has it (the approved head of a squash merge it may not)."""
    if not sha:
        return None
    return _git(repo, "show", "-s", "--format=%cI", f"{sha}^{{commit}}") or None


def build(options: ReportOptions, result: CheckResult) -> dict:
    """The report of one apply-and-verify run; `result` is `bandwidth check` on the repository now."""
    started = utc_now()
    folder = PlanFolder(options.plans)
    plans = folder.read_all(lenient=True)  # an unusable plan: the gateway is still listed, with nothing shaped
    records = {name: _apply_record(folder.applied_path(name)) for name in plans}
    applied = {name: record for name, (record, _, _) in records.items()}
    unapplied = {name for name, (_, state, _) in records.items() if state is False}
    changed_ids = {d["allocation"] for a in applied.values() for d in a.get("differences", []) if d.get("allocation")}
    shaped = {label for plan in plans.values() for label in plan.labels()}

    drift = []
    for differences, gateway in _read_json(options.readback, []) if options.readback else []:
        drift += [{"gateway": gateway, "device": d["device"], "allocation": d.get("allocation"), "difference": d["difference"]} for d in differences or []]

    measured: dict = {}
    ids, unmeasured = _measurement_plan(options, changed_ids, shaped)
    if ids:
        wire = measure.wire_targets(plans, _read_json(options.lab_dir / "lab.json", {}))
        measured = measure.measure(measure.Options(lab_dir=options.lab_dir, ids=ids, duration=options.seconds, wire=wire, tolerance=TOLERANCE))

    verified = utc_now()
    landed = history.last_events(options.repo)  # the merge that last changed each allocation, and its recorded disposition
    chain = _chain(options.repo)
    commit = _git(options.repo, "rev-parse", "HEAD") or "0" * 40
    # Changed by this run: its class changed on a gateway, or the commit applied is the merge that changed its file and was
    # not applied before (an extension changes no class; its requester still gets the report's mention and a letter).
    changed_ids |= {i for i, e in landed.items() if e.commit == commit and e.action == "changed" and not _applied_before(e)}
    allocations = []
    for a in sorted(result.allocations, key=lambda a: a.id):
        if a.id not in shaped:
            continue
        entry = {
            "id": a.id, "gateway": a.gateway, "uplink": a.uplink, "agency": a.agency,
            "letter": {"number": a.letter_number, "date": a.letter_date.isoformat()},
            "contact": {"name": a.contact_name, "email": a.contact_email, "github": a.contact_github},
            "subnets": [str(s) for s in a.subnets], "priority": a.priority,
            "start": a.start.isoformat(), "end": a.end.isoformat() if a.end else None, "purpose": a.purpose,
            "changed": a.id in changed_ids,
            "families": report_data.families(a.subnets),
            # Not applied says why by itself (the gateway's reason); measuring it would prove nothing.
            "not_measured_reason": None if a.gateway in unapplied else unmeasured.get(a.id, (None, False))[0],
            "rtt_ms": measured.get("rtt", {}).get(a.id),
        }  # fmt: skip
        for direction in DIRECTIONS:
            rate = a.rate(direction)
            entry[direction] = {
                "guaranteed_mbps": rate.guaranteed_kbit / 1000,
                "max_mbps": rate.max_kbit / 1000,
                "measured_mbps": measured.get("alone", {}).get(a.id, {}).get(direction),
                "contention_mbps": measured.get("contention", {}).get(a.id, {}).get(direction),
                "wire_mbps": measured.get("wire_alone", {}).get(a.id, {}).get(direction),
                "contention_wire_mbps": measured.get("wire_contention", {}).get(a.id, {}).get(direction),
                "by_family": measured.get("by_family", {}).get(a.id, {}).get(direction, {}),
            }
            # Out of the band the first time and measured again (the figures above are the repeat): the first, kept.
            for key, source in (("first", "first_alone"), ("contention_first", "first_contention")):
                first = measured.get(source, {}).get(a.id, {}).get(direction)
                if first:
                    entry[direction][key] = first
        if a.gateway in unapplied:
            entry["verdict"] = "not_applied"
        elif unmeasured.get(a.id, (None, False))[1]:
            entry["verdict"] = "fail"  # asked to be measured and not measurable: never a quiet pass
        else:
            entry["verdict"] = report_data.verdict(entry, TOLERANCE)
        event = landed.get(a.id)
        entry["request"] = _request(event)
        record = event.record if event else None
        committed = _first_commit(options.repo, a.path)
        entry["timeline"] = {
            "requested": (record.requested_at if record else None) or committed,
            "committed": committed,
            "opened": record.opened_at if record else None,
            "dispositions": _dispositions(record, chain),
            "approved": _approved(event),
            "head_committed": _commit_time(options.repo, record.approved_commit if record else None),
            "checked": record.checked_at if record else None,
            "availability_reported": record.availability_at if record else None,
            "merged": event.date.isoformat() if record else None,
            "applied": applied.get(a.gateway, {}).get("time") if a.id in changed_ids and a.gateway not in unapplied else None,
            "verified": verified,
            "pull_request": event.pull_request if event else None,
            "copied": None,  # `bandwidth report --from DIR --copied-at TIME --pull-request N`, once the report is on the pull request
        }
        allocations.append(entry)

    gateways = []
    for name in plans:
        gateway = result.inventory.gateways.get(name) if result.inventory else None
        uplinks = []
        for uplink in gateway.uplinks.values() if gateway else []:
            in_force = [x for x in allocations if x["gateway"] == name and x["uplink"] == uplink.name]
            uplinks.append({
                "name": uplink.name,
                "download_mbps": uplink.download_kbit / 1000,
                "upload_mbps": uplink.upload_kbit / 1000,
                "reserve_percent": uplink.reserve_percent,
                "allocated": {f"{d}_mbps": sum(x[d]["guaranteed_mbps"] for x in in_force) for d in DIRECTIONS},
            })  # fmt: skip
        record = applied.get(name, {})
        _, state, reason = records[name]
        gateways.append({
            "name": name, "applied": state, "reason": reason,
            "changed": bool(record.get("changed")), "commands": [d["difference"] for d in record.get("differences", [])], "uplinks": uplinks,
        })  # fmt: skip

    return {
        "commit": commit,
        # Applied without the chain's record, by its last role, and why (a verified Bandwidth-Emergency note): said in every format.
        "emergency": _emergency(options.repo, commit),
        "started": started,
        "finished": utc_now(),
        "mode": "lab" if options.lab_dir else "production",
        "tolerance": TOLERANCE,
        "gateways": gateways,
        "drift": drift,
        "allocations": allocations,
        # Given back and removed now (Pengembalian / Pencabutan): each gets its letter too.
        "removed": _removed(landed, {a.id for a in result.allocations}, commit, applied, unapplied),
    }


def write(report: dict, reports: Path) -> Path:
    """reports/<UTC time>/ with every file, and reports/latest pointing at it."""
    from bandwidth.outputs import point_latest, stamped_folder
    from bandwidth.reports.report_files import write_all

    folder = stamped_folder(reports, report["finished"])
    write_all(report, folder)
    point_latest(reports, folder)
    return folder


def copied(folder: Path, copied_at: str, pull_request: int) -> list[str]:
    """SOP step 10 done: set timeline.copied on the allocations of `pull_request` in folder/report.json, and write every file
    of the report again in folder (report_files.write_all). The ids set, in the report's order; nothing is written when there are none.

    A report.json that cannot be read or does not validate is a usage error naming it; the folder is left as it was.
    """
    path = folder / "report.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, nested beyond reason
        raise UsageError(f"{path}: not a JSON report: {exc}") from None
    try:
        data = report_data.validate(data)
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from None
    ids = []
    for allocation in data["allocations"]:
        timeline = allocation.get("timeline")
        if timeline and timeline.get("pull_request") == pull_request:
            timeline["copied"] = copied_at
            ids.append(allocation["id"])
    if ids:
        try:
            report_files.write_all(data, folder)
        except OSError as exc:
            raise UsageError(f"{folder}: {exc.strerror or exc}") from None
    return ids


def write_ledger(report: dict, result: CheckResult, folder: Path) -> None:
    """The availability list after this change (SOP step 7's "data kesediaan bandwidth diperbarui"), beside the report."""
    from bandwidth.history import ledger, ledger_render

    commit = report["commit"] if report["commit"] != "0" * 40 else None
    doc = ledger.build(result, source={"kind": "checkout", "commit": commit, "commit_date": None})
    for suffix, render in (("json", ledger_render.as_json), ("md", ledger_render.markdown), ("html", ledger_render.html)):
        (folder / f"daftar-kesediaan.{suffix}").write_text(render(doc), encoding="utf-8")


def summary(report: dict, folder: Path) -> list[str]:
    lines = [f"report: {folder}"]
    for item in report["allocations"]:
        down, up = item["download"], item["upload"]
        line = (
            f"{item['id']} {item['gateway']}/{item['uplink']} ({'+'.join(item.get('families', []))}): "
            f"download max {down['max_mbps']:g} wire {down.get('wire_mbps')} goodput {down['measured_mbps']}, "
            f"upload max {up['max_mbps']:g} wire {up.get('wire_mbps')} goodput {up['measured_mbps']}"
        )
        rtt = item.get("rtt_ms") or {}
        if rtt.get("idle") is not None:
            line += f", rtt {rtt['idle']} ms idle, {rtt.get('loaded')} ms loaded"
        reason = f" ({item['not_measured_reason']})" if item.get("not_measured_reason") else ""
        lines.append(f"{line}: {item['verdict']}{reason}")
    for gateway in report["gateways"]:
        if gateway.get("applied") is False:
            lines.append(f"NOT APPLIED {gateway['name']}: {printable(' '.join((gateway['reason'] or '(no reason recorded)').split()))}")
    for item in report["drift"]:
        lines.append(f"DRIFT {item['gateway']} {item['device']} {item['allocation'] or '(no allocation of main)'}: {item['difference']}")
    return lines
