"""A local GitHub for the e2e harness: the REST endpoints the workflows call, and git over HTTP.

One repository, served on 127.0.0.1 (an ephemeral port) from a thread of the test process:

- REST under /api/v3 (as GitHub Enterprise Server lays it out): pull requests, their reviews and
  files, issues and their comments, file contents at a ref, the pull requests of a commit. Every
  request is recorded (`calls`), with whether it carried the token; one that needs no token, or an
  endpoint this server does not know, is answered 401 or 404 and recorded in `unanswered`, so a
  test fails when a workflow calls something that the real GitHub would have had to answer.
- git's smart HTTP through `git http-backend` (CGI) over a bare repository, with the token as
  GitHub takes it (basic, user x-access-token); pushes are recorded with the refs they moved, and a
  push to the branch of an open pull request moves the pull request as on GitHub.
- What a person does on GitHub is a method: open an issue or a pull request, review, merge. The
  webhook payloads of those events (`*_event`) are what act is given as the event.

Identities: the token is the workflow's GITHUB_TOKEN, so what it writes is by github-actions[bot].
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import fakegithub_settings
from githubcontract import contract

BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}
GIT_ENV = {"GIT_AUTHOR_NAME": "GitHub", "GIT_AUTHOR_EMAIL": "noreply@github.invalid", "GIT_COMMITTER_NAME": "GitHub", "GIT_COMMITTER_EMAIL": "noreply@github.invalid"}


@dataclass
class Call:
    method: str
    path: str  # without /api/v3 for REST; the git path for git
    query: dict
    body: object  # parsed JSON for REST writes, None otherwise
    authorized: bool
    kind: str  # "api" or "git"
    status: int = 0
    at: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic): the lead-time benchmark's clock


@dataclass
class Push:
    ref: str
    old: str | None
    new: str | None


def user(login: str) -> dict:
    """A person or bot as GitHub names them; the fields GitHub adds (avatar, URLs) are filled in when answered."""
    return {"login": login, "id": abs(hash(login)) % 10**7, "type": "Bot" if login.endswith("[bot]") else "User"}


def error(status: int, message: str, documentation_url: str = "https://docs.github.com/rest", **extra) -> dict:
    """GitHub's error body (basic-error, validation-error): a message, where the documentation is, and the status as text."""
    return {"message": message, "documentation_url": documentation_url, "status": str(status), **extra}


@dataclass
class FakeGitHub:
    root: Path
    repository: str = "pemprov-kaltim/bandwidth"
    token: str = "ghs_e2eHarnessToken0123456789"
    calls: list[Call] = field(default_factory=list)
    unanswered: list[Call] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    issues: dict = field(default_factory=dict)  # number -> issue (pull requests too: they share the numbers)
    pulls: dict = field(default_factory=dict)  # number -> pull request
    comments: dict = field(default_factory=dict)  # id -> comment (with "issue_number")
    reviews: dict = field(default_factory=dict)  # number -> [review]
    members: set = field(default_factory=set)  # logins of the organisation's members: their author_association is MEMBER
    violations: list = field(default_factory=list)  # what did not hold to GitHub's descriptions (githubcontract): a test fails on any
    latency: float = 0.0  # seconds each REST call waits before it is answered: a slow GitHub, so that races show

    def __post_init__(self):
        self.git_root = self.root / "git"
        self.bare = self.git_root / f"{self.repository}.git"
        self.bare.parent.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--bare", "-b", "main", str(self.bare), cwd=self.root)
        for key, value in (("http.receivepack", "true"), ("uploadpack.allowAnySHA1InWant", "true"), ("gc.auto", "0"), ("receive.autogc", "false")):
            self.git("config", key, value)
        self._lock = threading.RLock()
        self._number = 0
        self._id = 1000
        self._clock = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self._before_head: dict[int, str] = {}  # pull request -> its head before the last push (synchronize's `before`)
        self._issue_changes: dict[int, dict] = {}  # issue -> the last edit's `changes` (the edited event's)
        self.settings = fakegithub_settings.compliant(self.repository)  # the repository's settings, as REST answers them
        fake = self

        class Handler(_Handler):
            github = fake

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fakegithub", daemon=True)
        self.thread.start()

    # ---- the server ----

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v3"

    @property
    def owner(self) -> str:
        return self.repository.split("/", 1)[0]

    def dump(self, path: Path) -> None:
        """What the fake holds and every call it answered, as JSON (kept beside a failed test's logs)."""
        state = {
            "issues": self.issues, "pulls": self.pulls, "comments": self.comments, "reviews": self.reviews, "refs": self.refs(),
            "pushes": [vars(p) for p in self.pushes], "calls": [vars(c) for c in self.calls], "unanswered": [vars(c) for c in self.unanswered],
        }  # fmt: skip
        path.write_text(json.dumps(state, indent=1, default=str), encoding="utf-8")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    # ---- git ----

    def git(self, *args: str, cwd: Path | None = None, env: dict | None = None, stdin: bytes | None = None) -> str:
        done = subprocess.run(
            ["git", *args], cwd=cwd or self.bare, input=stdin, capture_output=True, check=False, timeout=60,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, **GIT_ENV, **(env or {})},
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace')}")
        return done.stdout.decode()

    def sha(self, ref: str) -> str:
        return self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()

    def refs(self) -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)")
        return dict(line.split(" ", 1) for line in out.splitlines() if line)

    def ref(self, name: str) -> str | None:
        return self.refs().get(name)

    def file_at(self, ref: str, path: str) -> bytes | None:
        done = subprocess.run(["git", "cat-file", "blob", f"{ref}:{path}"], cwd=self.bare, capture_output=True, check=False, timeout=60)
        return done.stdout if done.returncode == 0 else None

    def now(self) -> str:
        """The real time, but at least a second after the last event, so that the order of reviews is
        never a tie; never far ahead of the clock the workflows read (their times follow GitHub's)."""
        with self._lock:
            self._clock = max(dt.datetime.now(dt.UTC).replace(microsecond=0), self._clock + dt.timedelta(seconds=1))
            return self._clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _next_number(self) -> int:
        with self._lock:
            self._number += 1
            return self._number

    def _next_id(self) -> int:
        with self._lock:
            self._id += 1
            return self._id

    # ---- what people do on GitHub ----

    def repository_json(self) -> dict:
        return {
            "id": fakegithub_settings.REPO_ID, "node_id": "R_kgDONbandwidth", "full_name": self.repository, "name": self.repository.split("/", 1)[1],
            "owner": {**user(self.owner), "type": "Organization"}, "default_branch": "main", "visibility": "private",
            "private": True, "html_url": f"{self.url}/{self.repository}", "clone_url": f"{self.url}/{self.repository}.git",
            "url": f"{self.api_url}/repos/{self.repository}", "git_url": f"git://127.0.0.1/{self.repository}.git",
            "ssh_url": f"git@127.0.0.1:{self.repository}.git", "svn_url": f"{self.url}/{self.repository}",
            "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z", "pushed_at": "2026-11-01T00:00:00Z",
        }  # fmt: skip

    def association(self, login: str) -> str:
        """author_association, as GitHub gives it on issues, pull requests, comments and reviews."""
        return "MEMBER" if login in self.members else "NONE"

    def _label(self, name: str) -> dict:
        return {
            "id": self._next_id(), "node_id": f"LA_{abs(hash(name)) % 10**9}", "url": f"{self.api_url}/repos/{self.repository}/labels/{quote(name)}",
            "name": name, "color": "ededed", "default": False, "description": None,
        }  # fmt: skip

    def open_issue(self, title: str, body: str, login: str, labels=()) -> int:
        number = self._next_number()
        at = self.now()
        self.issues[number] = {
            **self._issue_fields(number, login, at), "title": title, "body": body, "labels": [self._label(name) for name in labels],
        }  # fmt: skip
        return number

    def _issue_fields(self, number: int, login: str, at: str) -> dict:
        return {
            "id": self._next_id(), "node_id": f"I_{number}", "number": number, "state": "open", "user": user(login), "created_at": at, "updated_at": at,
            "closed_at": None, "author_association": self.association(login), "url": f"{self.api_url}/repos/{self.repository}/issues/{number}",
            "html_url": f"{self.url}/{self.repository}/issues/{number}", "repository_url": f"{self.api_url}/repos/{self.repository}",
        }  # fmt: skip

    def edit_issue(self, number: int, **fields: str) -> None:
        """Edit an issue's title or body as its author would; the next `edited` event says what it was (`changes`)."""
        with self._lock:
            issue = self.issues[number]
            self._issue_changes[number] = {key: {"from": issue[key]} for key, value in fields.items() if value != issue[key]}
            issue.update(fields, updated_at=self.now())

    def open_pull(self, branch: str, login: str, title: str, body: str = "", base: str = "main") -> int:
        head = self.ref(f"refs/heads/{branch}")
        assert head, f"no branch {branch} in the origin"
        with self._lock:
            for pull in self.pulls.values():
                if pull["state"] == "open" and pull["head"]["ref"] == branch:
                    raise ValueError(f"a pull request for {branch} is already open")
            number = self._next_number()
            at = self.now()
            owner = {**user(self.owner), "type": "Organization"}
            api = f"{self.api_url}/repos/{self.repository}"
            self.pulls[number] = {
                "id": self._next_id(), "node_id": f"PR_{number}", "number": number, "title": title, "body": body, "state": "open", "user": user(login),
                "created_at": at, "updated_at": at, "closed_at": None, "author_association": self.association(login), "draft": False, "labels": [],
                "head": {"ref": branch, "sha": head, "repo": self.repository_json(), "label": f"{self.owner}:{branch}", "user": owner},
                "base": {"ref": base, "sha": None, "repo": self.repository_json(), "label": f"{self.owner}:{base}", "user": owner},
                "merged": False, "merged_at": None, "merge_commit_sha": None, "merged_by": None,
                "url": f"{api}/pulls/{number}", "html_url": f"{self.url}/{self.repository}/pull/{number}", "issue_url": f"{api}/issues/{number}",
            }  # fmt: skip
            self.issues[number] = {
                **self._issue_fields(number, login, at), "title": title, "body": body, "labels": [],
                "pull_request": {"url": f"{api}/pulls/{number}", "html_url": f"{self.url}/{self.repository}/pull/{number}", "merged_at": None},
            }  # fmt: skip
            self.reviews[number] = []
            self._update_pull_refs(number)
        return number

    def retarget(self, number: int, base: str) -> dict:
        """Move an open pull request to another base branch, as the "Edit" button does; the `edited` event's payload."""
        with self._lock:
            pull = self.pulls[number]
            before = pull["base"]["ref"]
            pull["base"].update(ref=base, label=f"{self.owner}:{base}")
            self._update_pull_refs(number)
        return {**self.pull_request_event(number, "edited"), "changes": {"base": {"ref": {"from": before}, "sha": {"from": self.ref(f"refs/heads/{before}")}}}}

    def pull_json(self, number: int) -> dict:
        with self._lock:
            pull = json.loads(json.dumps(self.pulls[number]))
        pull["base"]["sha"] = self.ref(f"refs/heads/{pull['base']['ref']}")  # GitHub shows the base branch's tip
        return pull

    def _update_pull_refs(self, number: int) -> None:
        """refs/pull/N/head and, when it merges cleanly, refs/pull/N/merge (the commit pull_request runs on)."""
        pull = self.pulls[number]
        head, base = pull["head"]["sha"], self.ref(f"refs/heads/{pull['base']['ref']}")
        self.git("update-ref", f"refs/pull/{number}/head", head)
        done = subprocess.run(["git", "merge-tree", "--write-tree", base, head], cwd=self.bare, capture_output=True, text=True, check=False, timeout=60)
        if done.returncode != 0:
            self.git("update-ref", "-d", f"refs/pull/{number}/merge")
            return
        tree = done.stdout.split()[0]
        merge = self.git("commit-tree", tree, "-p", base, "-p", head, "-m", f"Merge {head} into {base}").strip()
        self.git("update-ref", f"refs/pull/{number}/merge", merge)

    def review(self, number: int, login: str, state: str = "APPROVED", commit_id: str | None = None) -> dict:
        review = {
            "id": self._next_id(), "node_id": f"PRR_{number}_{login}", "user": user(login), "state": state, "submitted_at": self.now(),
            "commit_id": commit_id or self.pulls[number]["head"]["sha"], "body": "", "author_association": self.association(login),
            "html_url": f"{self.url}/{self.repository}/pull/{number}#pullrequestreview", "pull_request_url": f"{self.api_url}/repos/{self.repository}/pulls/{number}",
        }  # fmt: skip
        self.reviews[number].append(review)
        return review

    def merge(self, number: int, login: str) -> tuple[str, str]:
        """Create a merge commit on the base branch, as the merge button does; (before, after)."""
        with self._lock:
            pull = self.pulls[number]
            assert pull["state"] == "open", f"#{number} is {pull['state']}"
            ref = f"refs/heads/{pull['base']['ref']}"
            before = self.ref(ref)
            done = subprocess.run(["git", "merge-tree", "--write-tree", before, pull["head"]["sha"]], cwd=self.bare, capture_output=True, text=True, check=False, timeout=60)
            assert done.returncode == 0, f"#{number} does not merge cleanly"
            message = f"Merge pull request #{number} from {self.owner}/{pull['head']['ref']}\n\n{pull['title']}\n"
            at = self.now()  # the merge commit's date is merged_at, as on GitHub
            dated = {**GIT_ENV, "GIT_AUTHOR_DATE": at, "GIT_COMMITTER_DATE": at}
            after = self.git("commit-tree", done.stdout.split()[0], "-p", before, "-p", pull["head"]["sha"], stdin=message.encode(), env=dated).strip()
            self.git("update-ref", ref, after, before)
            pull.update(state="closed", merged=True, merged_at=at, closed_at=at, updated_at=at, merge_commit_sha=after, merged_by=user(login))
            self.issues[number].update(state="closed", closed_at=at, updated_at=at)
            self.issues[number]["pull_request"]["merged_at"] = at
            for other in self.pulls:
                if self.pulls[other]["state"] == "open":
                    self._update_pull_refs(other)
        return before, after

    def comments_on(self, number: int) -> list[dict]:
        return [c for c in self.comments.values() if c["issue_number"] == number]

    def _after_push(self, before: dict, after: dict) -> None:
        for ref in sorted(set(before) | set(after)):
            if before.get(ref) != after.get(ref):
                self.pushes.append(Push(ref, before.get(ref), after.get(ref)))
        self.sync_pulls()

    def sync_pulls(self) -> None:
        """Open pull requests follow their branch, and their merge ref follows the base (as on GitHub)."""
        refs = self.refs()
        with self._lock:
            for number, pull in self.pulls.items():
                tip = refs.get(f"refs/heads/{pull['head']['ref']}")
                if pull["state"] == "open" and tip:
                    if tip != pull["head"]["sha"]:
                        self._before_head[number] = pull["head"]["sha"]
                    pull["head"]["sha"] = tip
                    self._update_pull_refs(number)

    # ---- webhook payloads (the event act is given) ----

    def pull_request_event(self, number: int, action: str = "opened") -> dict:
        pull = self.pull_json(number)
        event = {"action": action, "number": number, "pull_request": pull, "repository": self.repository_json(), "sender": pull["user"]}
        if action == "synchronize":  # the head before and after the push
            event.update(before=self._before_head.get(number, pull["head"]["sha"]), after=pull["head"]["sha"])
        if action == "edited":
            event["changes"] = {}
        return event

    def review_event(self, number: int, review: dict) -> dict:
        # A review's state is upper case in REST (APPROVED) and lower case in the webhook (approved), as on GitHub.
        sent = {**review, "state": review["state"].lower(), "_links": {"html": {"href": review["html_url"]}, "pull_request": {"href": review["pull_request_url"]}}}
        return {"action": "submitted", "review": sent, "pull_request": self.pull_json(number), "repository": self.repository_json(), "sender": review["user"]}

    def issues_event(self, number: int, action: str = "opened") -> dict:
        issue = self.issues[number]
        event = {"action": action, "issue": issue, "repository": self.repository_json(), "sender": issue["user"]}
        if action == "edited":
            event["changes"] = self._issue_changes.pop(number, {})
        return event

    def push_event(self, before: str, after: str, ref: str = "refs/heads/main", login: str = "github-actions[bot]") -> dict:
        """A push as GitHub sends it: the commits it brought (oldest first, at most 20), the head commit, who pushed, the compare URL."""
        forced = before != "0" * 40 and subprocess.run(["git", "merge-base", "--is-ancestor", before, after], cwd=self.bare, check=False, timeout=60).returncode != 0
        listed = self.git("rev-list", "--reverse", after, *([f"^{before}"] if before != "0" * 40 else [])).split()
        commits = [self._push_commit(sha) for sha in listed[-20:]]
        return {
            "ref": ref, "before": before, "after": after, "created": before == "0" * 40, "deleted": after == "0" * 40, "forced": forced,
            "base_ref": None, "compare": f"{self.url}/{self.repository}/compare/{before[:12]}...{after[:12]}", "commits": commits,
            "head_commit": self._push_commit(after), "pusher": {"name": login, "email": None}, "repository": self.repository_json(), "sender": user(login),
        }  # fmt: skip

    def _push_commit(self, sha: str) -> dict:
        fields = self.git("show", "-s", "--format=%T%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%B", sha).split("\0")
        tree, author, author_email, date, committer, committer_email, message = fields
        changed = self.git("diff-tree", "--no-commit-id", "--name-status", "-r", "--root", "-m", "--first-parent", sha).splitlines()
        by_status = {"A": [], "R": [], "M": []}
        for line in changed:
            status, _, path = line.partition("\t")
            by_status["R" if status.startswith("D") else "A" if status.startswith("A") else "M"].append(path.split("\t")[-1])
        return {
            "id": sha, "tree_id": tree, "distinct": True, "message": message.rstrip("\n"), "timestamp": date,
            "url": f"{self.url}/{self.repository}/commit/{sha}", "author": {"name": author, "email": author_email, "date": date},
            "committer": {"name": committer, "email": committer_email, "date": date},
            "added": by_status["A"], "removed": by_status["R"], "modified": by_status["M"],
        }  # fmt: skip

    def as_sent(self, event: str, payload: dict) -> dict:
        """The payload as GitHub would send it: completed to the event's schema (fields the fake does not model filled in), then
        validated against GitHub's webhook descriptions; AssertionError naming what does not hold. A schedule has no webhook."""
        if event == "schedule":
            return payload
        sent = contract().complete_webhook(event, json.loads(json.dumps(payload)), self.url, self._clock.strftime("%Y-%m-%dT%H:%M:%SZ"))
        problems = contract().webhook_errors(event, sent)
        assert not problems, f"the {event} payload does not hold to GitHub's webhook description: {problems}"
        return sent

    def schedule_event(self, cron: str) -> dict:
        return {"schedule": cron, "repository": self.repository_json()}

    # ---- REST ----

    def api(self, method: str, path: str, query: dict, body) -> tuple[int, object, dict]:
        """(status, JSON, headers) for one REST call; (404, ...) for what is not served."""
        with self._lock:
            self._current_path = path
            return self._route(method, path, query, body)

    def _route(self, method: str, path: str, query: dict, body) -> tuple[int, object, dict]:
        if method == "GET" and path in self.settings:  # the settings: JSON, or the status they answer with
            answer = self.settings[path]
            if isinstance(answer, int):
                return answer, error(answer, {403: "Resource not accessible by integration", 404: "Not Found"}.get(answer, "Error")), {}
            return self._page(answer, query) if isinstance(answer, list) else (200, answer, {})
        routes = self._routes()
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                try:
                    return handler(query, body, *match.groups())
                except KeyError:
                    return 404, error(404, "Not Found"), {}
        return 404, error(404, "Not Found (not served by the fake)"), {}

    def _routes(self) -> list:
        """(method, path pattern, handler): the REST endpoints the project calls (tests/test_github_contract.py holds the two equal)."""
        repo = re.escape(self.repository)
        return [
            ("GET", rf"/repos/{repo}", lambda q, b: (200, self.repository_json(), {})),
            ("GET", rf"/repos/{repo}/pulls/(\d+)", self._get_pull),
            ("PATCH", rf"/repos/{repo}/pulls/(\d+)", self._patch_pull),
            ("GET", rf"/repos/{repo}/pulls", self._list_pulls),
            ("POST", rf"/repos/{repo}/pulls", self._create_pull),
            ("GET", rf"/repos/{repo}/pulls/(\d+)/reviews", lambda q, b, n: self._page(self.reviews[int(n)], q)),
            ("GET", rf"/repos/{repo}/pulls/(\d+)/files", self._pull_files),
            ("GET", rf"/repos/{repo}/contents/(.+)", self._contents),
            ("GET", rf"/repos/{repo}/commits/([0-9a-f]{{40}})/pulls", self._commit_pulls),
            ("GET", rf"/repos/{repo}/issues", self._list_issues),
            ("POST", rf"/repos/{repo}/issues", self._create_issue),
            ("GET", rf"/repos/{repo}/issues/(\d+)", lambda q, b, n: (200, self.issues[int(n)], {})),
            ("PATCH", rf"/repos/{repo}/issues/(\d+)", self._patch_issue),
            ("GET", rf"/repos/{repo}/issues/(\d+)/comments", lambda q, b, n: self._page(sorted(self.comments_on(int(n)), key=lambda c: c["id"]), q)),
            ("POST", rf"/repos/{repo}/issues/(\d+)/comments", self._create_comment),
            ("PATCH", rf"/repos/{repo}/issues/comments/(\d+)", self._patch_comment),
        ]

    def route_templates(self) -> list[tuple[str, str]]:
        return [(method, pattern) for method, pattern, _handler in self._routes()]

    def _page(self, items: list, query: dict) -> tuple[int, list, dict]:
        per_page, page = min(int(query.get("per_page", 30)), 100), int(query.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}

        def link(number: int) -> str:
            return f"<{self.api_url}{self._current_path}?{'&'.join(f'{k}={quote(str(v))}' for k, v in {**query, 'per_page': per_page, 'page': number}.items())}>"

        last = max(1, -(-len(items) // per_page))
        if page < last:  # as GitHub: the next page and the last one
            headers["Link"] = f'{link(page + 1)}; rel="next", {link(last)}; rel="last"'
        return 200, chunk, headers

    def _get_pull(self, query, body, number):
        return 200, self.pull_json(int(number)), {}

    def _patch_pull(self, query, body, number):
        pull, issue = self.pulls[int(number)], self.issues[int(number)]
        for key in ("title", "body", "state"):
            if key in body:
                pull[key] = issue[key] = body[key]
        return 200, self.pull_json(int(number)), {}

    def _list_pulls(self, query, body):
        state, head, base = query.get("state", "open"), query.get("head"), query.get("base")
        found = [self.pull_json(n) for n, p in sorted(self.pulls.items(), reverse=True) if state in ("all", p["state"])]
        if head:
            found = [p for p in found if p["head"]["label"] == head]
        if base:
            found = [p for p in found if p["base"]["ref"] == base]
        return self._page(found, query)

    def _create_pull(self, query, body):
        head = body.get("head", "").split(":", 1)[-1]
        docs = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
        if not self.ref(f"refs/heads/{head}"):
            return 422, error(422, "Validation Failed", docs, errors=[{"resource": "PullRequest", "field": "head", "code": "invalid"}]), {}
        try:
            number = self.open_pull(head, BOT["login"], body.get("title", ""), body.get("body") or "", body.get("base", "main"))
        except ValueError:
            duplicate = {"resource": "PullRequest", "code": "custom", "message": f"A pull request already exists for {self.owner}:{head}."}
            return 422, error(422, "Validation Failed", docs, errors=[duplicate]), {}
        return 201, self.pull_json(number), {}

    def _pull_files(self, query, body, number):
        pull = self.pull_json(int(number))
        base = self.git("merge-base", pull["base"]["sha"], pull["head"]["sha"]).strip()
        out = self.git("diff", "--name-status", "-z", "-M", base, pull["head"]["sha"]).split("\0")
        files, i = [], 0
        statuses = {"A": "added", "M": "modified", "D": "removed", "T": "changed"}
        while i < len(out) - 1:
            code = out[i]
            if code.startswith("R"):
                files.append({"filename": out[i + 2], "previous_filename": out[i + 1], "status": "renamed"})
                i += 3
            else:
                files.append({"filename": out[i + 1], "status": statuses.get(code[0], "modified")})
                i += 2
        return self._page(files, query)

    def _contents(self, query, body, path):
        ref, path = query.get("ref") or "refs/heads/main", unquote(path)
        data = self.file_at(ref, path)
        if data is None:
            return 404, error(404, "Not Found", "https://docs.github.com/rest/repos/contents#get-repository-content"), {}
        sha = self.git("rev-parse", f"{ref}:{path}").strip()
        api = f"{self.api_url}/repos/{self.repository}"
        return 200, {
            "type": "file", "path": path, "name": path.rsplit("/", 1)[-1], "sha": sha, "size": len(data), "encoding": "base64",
            "content": base64.b64encode(data).decode(), "url": f"{api}/contents/{quote(path)}?ref={quote(ref)}", "git_url": f"{api}/git/blobs/{sha}",
            "html_url": f"{self.url}/{self.repository}/blob/{quote(ref)}/{quote(path)}", "download_url": None,  # private: no raw link without a token
        }, {}  # fmt: skip

    def _commit_pulls(self, query, body, sha):
        found = [self.pull_json(n) for n, p in sorted(self.pulls.items()) if sha in (p["merge_commit_sha"], p["head"]["sha"])]
        return 200, found, {}

    def _list_issues(self, query, body):
        state = query.get("state", "open")
        wanted = {name for name in query.get("labels", "").split(",") if name}  # as GitHub: every label named, comma-separated
        found = [dict(i) for n, i in sorted(self.issues.items(), reverse=True) if state in ("all", i["state"]) and wanted <= {label["name"] for label in i["labels"]}]
        return self._page(found, query)

    def _create_issue(self, query, body):
        number = self.open_issue(body["title"], body.get("body") or "", BOT["login"], [label if isinstance(label, str) else label["name"] for label in body.get("labels", [])])
        return 201, self.issues[number], {}

    def _patch_issue(self, query, body, number):
        issue = self.issues[int(number)]
        if body.get("state") and body["state"] != issue["state"]:  # as GitHub: when and why it was closed, or that it was reopened
            at, closing = self.now(), body["state"] == "closed"
            issue.update(closed_at=at if closing else None, updated_at=at, state_reason=body.get("state_reason") or ("completed" if closing else "reopened"))
        for key in ("title", "body", "state"):
            if key in body:
                issue[key] = body[key]
        return 200, issue, {}

    def _create_comment(self, query, body, number):
        if int(number) not in self.issues:
            return 404, error(404, "Not Found"), {}
        at = self.now()
        identifier = self._next_id()
        comment = {
            "id": identifier, "node_id": f"IC_{identifier}", "issue_number": int(number), "body": body["body"], "user": dict(BOT), "created_at": at, "updated_at": at,
            "edits": 0, "author_association": "NONE", "url": f"{self.api_url}/repos/{self.repository}/issues/comments/{identifier}",
            "html_url": f"{self.url}/{self.repository}/issues/{number}#issuecomment-{identifier}", "issue_url": f"{self.api_url}/repos/{self.repository}/issues/{number}",
        }  # fmt: skip
        self.comments[comment["id"]] = comment
        return 201, comment, {}

    def _patch_comment(self, query, body, comment_id):
        comment = self.comments[int(comment_id)]
        comment.update(body=body["body"], updated_at=self.now(), edits=comment["edits"] + 1)
        return 200, comment, {}

    # ---- the token ----

    def authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("bearer", "token"):
            return value.strip() == self.token
        if scheme.lower() == "basic":
            try:
                return base64.b64decode(value.strip()).decode() == f"x-access-token:{self.token}"
            except ValueError:
                return False
        return False


class _Handler(BaseHTTPRequestHandler):
    github: FakeGitHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet: the calls are recorded instead
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: bytes, headers: dict) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, method: str) -> None:
        github = self.github
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        data = self._body()
        authorized = github.authorized(self.headers.get("Authorization"))
        if url.path.startswith("/api/v3/"):
            time.sleep(github.latency)
            path = url.path[len("/api/v3") :]
            body = json.loads(data) if data else None
            call = Call(method, path, query, body, authorized, "api")
            operation = contract().operation(method, path)
            invalid = contract().request_errors(method, path, body) if operation else []
            if not authorized:  # a private repository: not there for whoever may not see it (404, not 401 or 403)
                status, payload, headers = 404, error(404, "Not Found"), {}
            elif invalid:  # GitHub refuses a body its description does not allow, naming what is wrong
                status, payload, headers = 422, error(422, "Invalid request.\n\n" + "\n".join(invalid), operation.documentation_url), {}
            else:
                status, payload, headers = github.api(method, path, query, body or {})
            payload = json.loads(json.dumps(payload))  # a copy: what the fake holds keeps only what it models
            payload = contract().complete_response(method, path, status, payload, github.url, github._clock.strftime("%Y-%m-%dT%H:%M:%SZ"))
            wrong = contract().response_errors(method, path, status, payload)
            call.status = status
            with github._lock:
                github.calls.append(call)
                if status in (401, 404) or (status >= 400 and "not served" in json.dumps(payload)):
                    github.unanswered.append(call)
                github.violations += [f"{method} {path}: request body: {p}" for p in invalid] + [f"{method} {path} -> {status}: {p}" for p in wrong]
            self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json; charset=utf-8", **headers})
            return
        match = re.fullmatch(rf"/{re.escape(github.repository)}(?:\.git)?(/.*)", url.path)
        call = Call(method, url.path, query, None, authorized, "git")
        with github._lock:
            github.calls.append(call)
        if not match:
            call.status = 404
            github.unanswered.append(call)
            self._send(404, b"not found\n", {"Content-Type": "text/plain"})
            return
        if not authorized:  # a private repository: GitHub wants the token for fetches too
            call.status = 403
            github.unanswered.append(call)
            self._send(403, b"token required\n", {"Content-Type": "text/plain"})
            return
        self._git(method, f"/{github.repository}.git{match.group(1)}", url.query, data, call)

    def _git(self, method: str, path_info: str, query: str, data: bytes, call: Call) -> None:
        github = self.github
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
            "GIT_PROJECT_ROOT": str(github.git_root), "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path_info, "QUERY_STRING": query,
            "REQUEST_METHOD": method, "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(data)),
            "REMOTE_USER": "x-access-token", "REMOTE_ADDR": "127.0.0.1", "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
        }  # fmt: skip
        pushing = path_info.endswith("/git-receive-pack")
        with github._lock if pushing else _nothing():
            before = github.refs() if pushing else {}
            done = subprocess.run(["git", "http-backend"], input=data, env=env, capture_output=True, check=False, timeout=120)
            if pushing:
                github._after_push(before, github.refs())
        head, _, body = done.stdout.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key:
                headers[key] = value.strip()
        call.status = status
        self._send(status, body, headers)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
