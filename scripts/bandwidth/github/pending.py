"""The changes waiting in open pull requests, for the availability list (`bandwidth ledger --pending OWNER/NAME`).

An agency (or the Kasi) reading the list wants to know what is already asked for: per open pull request into
main, each request file it adds, changes or removes, with the rates before and after, read from GitHub
(the files of the pull request and each version of them) with the same hostile-input reader as the check. A
file that does not read is listed as unreadable, never guessed.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

from bandwidth.allocations.loader import parse_allocation
from bandwidth.escape import printable
from bandwidth.github import approvals

MAX_PULLS = 200  # the list is for people: more than this is said, not shown


def _version(github: approvals.GitHub, repo: str, path: str, ref: str) -> dict | None:
    """One version of a request file as the list shows it; None when it does not read."""
    try:
        content = github.get(f"/repos/{repo}/contents/{quote(path)}?ref={ref}")
        data = base64.b64decode(content["content"])
    except (approvals.ApiError, KeyError, TypeError, ValueError):
        return None
    allocation, _problems = parse_allocation(path, data)
    if allocation is None:
        return None
    return {
        "id": allocation.id, "agency": allocation.agency, "gateway": allocation.gateway, "uplink": allocation.uplink,
        "download": {"guaranteed_kbit": allocation.download.guaranteed_kbit, "max_kbit": allocation.download.max_kbit},
        "upload": {"guaranteed_kbit": allocation.upload.guaranteed_kbit, "max_kbit": allocation.upload.max_kbit},
        "start": allocation.start.isoformat(), "end": allocation.end.isoformat() if allocation.end else None,
    }  # fmt: skip


def pending(repo: str, github: approvals.GitHub, base: str = "main") -> dict:
    """{"pulls": [{"number", "title", "changes": [{"action", "path", "before", "after"}]}], "more": N}: raises approvals.ApiError."""
    pulls = [p for p in github.get_all(f"/repos/{repo}/pulls?state=open&base={quote(base)}") if isinstance(p, dict) and isinstance(p.get("number"), int)]
    shown = []
    for pull in sorted(pulls, key=lambda p: p["number"])[:MAX_PULLS]:
        head, base_sha = pull["head"]["sha"], pull["base"]["sha"]
        changes = []
        for changed in github.get_all(f"/repos/{repo}/pulls/{pull['number']}/files"):
            name, old = changed.get("filename", ""), changed.get("previous_filename") or changed.get("filename", "")
            status = changed.get("status")
            now_request, was_request = bool(approvals.REQUEST_FILE.fullmatch(name)), bool(approvals.REQUEST_FILE.fullmatch(old))
            if not (now_request or was_request):
                continue
            after = _version(github, repo, name, head) if now_request and status != "removed" else None
            before = _version(github, repo, old, base_sha) if was_request and status != "added" else None
            action = "added" if status == "added" or not was_request else "removed" if status == "removed" or not now_request else "changed"
            changes.append({"action": action, "path": printable(name if now_request else old), "before": before, "after": after})
        if changes:
            shown.append({"number": pull["number"], "title": printable(str(pull.get("title") or ""))[:200], "changes": changes})
    return {"pulls": shown, "more": max(len(pulls) - MAX_PULLS, 0)}
