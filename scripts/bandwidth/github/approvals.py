"""`bandwidth approvals`: is the disposition chain of a pull request complete? (SOP steps 2-4)

The chain and who may act in each role are read from `.github/disposition.yml` at the pull
request's BASE commit, never its head, so a pull request cannot appoint its own approvers.
An approval counts when it is the reviewer's latest review that is not a plain comment, is
APPROVED on the current head commit, and comes from a member of the role who is neither the
author nor a requester (the `contact.github` of a request file the pull request adds, changes or
removes: the requester is not the author when a workflow opened the pull request from an issue)
and fills no other role on this pull request; with `ordered: true` each role's approval comes
after the previous role's. A latest CHANGES_REQUESTED from any member blocks.
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import yaml

from bandwidth.escape import markdown as md

DEFAULT_API = "https://api.github.com"
DISPOSITION_PATH = ".github/disposition.yml"
REQUEST_FILE = re.compile(r"allocations/[^/]+/[^/]+\.yaml")


class ApiError(Exception):
    """The GitHub API could not be read (exit 2); `status` is the HTTP status, when there was one."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class Role:
    role: str
    title: str
    members: list[str]


@dataclass
class Outcome:
    role: Role
    login: str | None = None
    at: str | None = None
    missing: str = ""


@dataclass
class Result:
    pull: int
    head: str
    author: str
    ordered: bool
    requesters: list[str] = field(default_factory=list)  # contact.github of the request files in the pull request
    outcomes: list[Outcome] = field(default_factory=list)
    blocked_by: list[tuple[str, str]] = field(default_factory=list)  # (login, time) of CHANGES_REQUESTED
    merged_by: str | None = None  # once merged: who merged, and when (for `bandwidth record`)
    merged_at: str | None = None
    opened_at: str | None = None  # the pull request's created_at
    head_ref: str | None = None  # its head branch

    @property
    def complete(self) -> bool:
        return not self.blocked_by and all(o.login for o in self.outcomes)


class GitHub:
    def __init__(self, api: str | None = None, token: str | None = None):
        self.api = (api or os.environ.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")
        if not self.api.startswith(("https://", "http://")):
            raise ApiError(f"GITHUB_API_URL {self.api!r}: not an http(s) URL")
        self.token = token if token is not None else os.environ.get("GITHUB_TOKEN")

    def _get(self, url: str):
        request = urllib.request.Request(url, headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})  # noqa: S310 - http(s) only, checked above
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the API URL is configuration
                return json.loads(response.read().decode("utf-8")), response.headers.get("Link", "")
        except urllib.error.HTTPError as exc:
            raise ApiError(f"GET {url}: HTTP {exc.code} {exc.reason}", exc.code) from None
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise ApiError(f"GET {url}: {exc}") from None

    def get(self, path: str):
        return self._get(f"{self.api}{path}")[0]

    def get_all(self, path: str) -> list:
        """Every page of a list endpoint, following the Link rel="next" header."""
        url = f"{self.api}{path}{'&' if '?' in path else '?'}per_page=100"
        items: list = []
        for _page in range(1000):
            data, link = self._get(url)
            if not isinstance(data, list):
                raise ApiError(f"GET {url}: expected a list")
            items += data
            match = re.search(r'<([^>]+)>;\s*rel="next"', link)
            if not match:
                return items
            url = match.group(1)
        raise ApiError(f"{path}: more than 1000 pages")


def load_chain(text: str) -> tuple[bool, list[Role]]:
    try:
        doc = yaml.safe_load(text)
        chain = [Role(str(r["role"]), str(r.get("title", r["role"])), [str(m) for m in r.get("members") or []]) for r in doc["chain"]]
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise ApiError(f"{DISPOSITION_PATH} at the base commit is not a valid disposition chain: {exc}") from None
    if not chain:
        raise ApiError(f"{DISPOSITION_PATH}: the chain is empty")
    return bool(doc.get("ordered", True)), chain


def requesters(repo: str, pull: dict, github: GitHub) -> list[str]:
    """The contact.github of every request file the pull request adds, changes or removes (both versions)."""
    head, base = pull["head"]["sha"], pull["base"]["sha"]
    found: set[str] = set()
    for changed in github.get_all(f"/repos/{repo}/pulls/{pull['number']}/files"):
        versions = []
        if REQUEST_FILE.fullmatch(changed.get("filename", "")) and changed.get("status") != "removed":
            versions.append((changed["filename"], head))
        old = changed.get("previous_filename") or changed.get("filename", "")
        if REQUEST_FILE.fullmatch(old) and changed.get("status") != "added":
            versions.append((old, base))
        for path, ref in versions:
            login = _contact_github(github, repo, path, ref)
            if login:
                found.add(login)
    return sorted(found)


def _contact_github(github: GitHub, repo: str, path: str, ref: str) -> str | None:
    from urllib.parse import quote

    from bandwidth.allocations import yamlsafe

    content = github.get(f"/repos/{repo}/contents/{quote(path)}?ref={ref}")  # a file we cannot read is an API error (exit 2)
    try:
        doc = yamlsafe.load(base64.b64decode(content["content"]))
    except (yamlsafe.YamlError, KeyError, TypeError, ValueError):
        return None  # a broken file: `bandwidth check` fails the pull request anyway
    contact = doc.value.get("contact") if isinstance(doc.value, dict) else None
    login = contact.get("github") if isinstance(contact, dict) else None
    return login if isinstance(login, str) and login else None


def evaluate(repo: str, number: int, github: GitHub) -> Result:  # noqa: PLR0912 - the disposition rules, one branch per rule, in the order docs/pull-request-flow.md states them
    pull = github.get(f"/repos/{repo}/pulls/{number}")
    head, base, author = pull["head"]["sha"], pull["base"]["sha"], pull["user"]["login"]
    content = github.get(f"/repos/{repo}/contents/{DISPOSITION_PATH}?ref={base}")
    ordered, chain = load_chain(base64.b64decode(content["content"]).decode("utf-8"))
    reviews = github.get_all(f"/repos/{repo}/pulls/{number}/reviews")

    latest: dict[str, dict] = {}  # login -> latest review that is not a plain comment
    for review in sorted(reviews, key=lambda r: (r.get("submitted_at") or "", r.get("id", 0))):
        login = (review.get("user") or {}).get("login")
        if login and review.get("state") in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[login] = review
    members = {m for role in chain for m in role.members}
    result = Result(number, head, author, ordered, requesters(repo, {**pull, "number": number}, github))
    result.opened_at, result.head_ref = pull.get("created_at"), pull["head"].get("ref")
    if isinstance(pull.get("merged_by"), dict):
        result.merged_by, result.merged_at = pull["merged_by"].get("login"), pull.get("merged_at")
    result.blocked_by = sorted((login, r.get("submitted_at") or "") for login, r in latest.items() if r["state"] == "CHANGES_REQUESTED" and login in members)

    used: set[str] = set()
    after = ""
    for role in chain:
        outcome = Outcome(role)
        candidates = []
        for login in role.members:
            review = latest.get(login)
            if review is None or review["state"] != "APPROVED":
                continue
            if login == author:
                outcome.missing = f"{login} is the author"
                continue
            if login in result.requesters:
                outcome.missing = f"{login} is the requester"
                continue
            if login in used:
                outcome.missing = f"{login} already acts as another role"
                continue
            if review.get("commit_id") != head:
                outcome.missing = f"{login} approved an older commit"
                continue
            if ordered and (review.get("submitted_at") or "") < after:
                outcome.missing = f"{login} approved before the previous role"
                continue
            candidates.append((review.get("submitted_at") or "", login))
        if candidates:
            outcome.at, outcome.login = min(candidates)
            used.add(outcome.login)
            after = outcome.at
        elif not outcome.missing:
            outcome.missing = "no approval yet"
        result.outcomes.append(outcome)
    return result


def table(result: Result) -> str:
    """The status for people, in Bahasa Indonesia (job summary, PR comment)."""
    lines = [f"### Disposisi permohonan (PR #{result.pull})", ""]
    lines.append("Status: **lengkap**" if result.complete else "Status: **belum lengkap**")
    lines += ["", "| No | Peran | Disetujui oleh | Waktu | Keterangan |", "|---:|---|---|---|---|"]
    notes = {
        "no approval yet": "menunggu persetujuan",
        "is the author": "pemohon tidak boleh menyetujui sendiri",
        "is the requester": "pemohon (contact.github) tidak boleh menyetujui sendiri",
        "already acts as another role": "sudah bertindak dalam peran lain",
        "approved an older commit": "persetujuan untuk versi lama; perlu disetujui ulang",
        "approved before the previous role": "disetujui sebelum peran sebelumnya (urutan disposisi)",
    }
    for index, outcome in enumerate(result.outcomes, 1):
        note = next((text for key, text in notes.items() if outcome.missing.endswith(key)), outcome.missing)
        who = f"`{md(outcome.login)}`" if outcome.login else "-"
        lines.append(f"| {index} | {md(outcome.role.title)} | {who} | {md(outcome.at or '-')} | {'disetujui' if outcome.login else md(note)} |")
    for login, at in result.blocked_by:
        lines.append(f"\nDiminta perubahan oleh `{md(login)}` ({md(at)}): disposisi tertahan sampai ditanggapi.")
    return "\n".join(lines) + "\n"
