"""The fake GitHub holds to GitHub's published contract (tests/githubcontract.py): calls, answers, webhooks, semantics.

The e2e scenarios hold every call and payload of a real workflow run to it (e2eworld.World.run); these tests
say what the contract is, that it can fail, and that the project calls nothing GitHub does not document.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import githubcontract
from conftest import ROOT
from fakegithub import FakeGitHub, user

WORKFLOW_FILES = sorted((ROOT / ".github").glob("workflows/*.yml")) + sorted((ROOT / ".github/scripts").glob("*.sh"))
PYTHON_FILES = sorted((ROOT / "scripts/bandwidth").rglob("*.py"))
SHELL_CALL = re.compile(r"github_api(?P<list>_list)?\s+(?:(?P<method>GET|POST|PATCH|PUT|DELETE)\s+)?\"(?P<path>/?(?:repos|orgs)/[^\"]+)\"")
# Called by the project and not served by the fake, each with why.
NOT_SERVED = {"/orgs/{org}/rulesets/{ruleset_id} GET": "settings-check reads an organisation's ruleset; no scenario has one"}
# Python's clients (approvals.GitHub, settings.Reader) read: a path literal is a GET, unless a write names its method
# first, as alert_issues.GitHub.send("POST", f"/repos/{repo}/issues", ...) does.
PYTHON_CALL = re.compile(r"(?:\"(?P<method>POST|PATCH|PUT|DELETE)\",\s*)?f?\"(?P<path>/(?:repos|orgs)/[^\"\s:]+)")


@pytest.fixture(scope="module")
def contract() -> githubcontract.Contract:
    return githubcontract.contract()


def project_calls() -> set[tuple[str, str, str]]:
    """(method, the path as written, where) of every REST call in the workflows, .github/scripts and scripts/bandwidth."""
    calls = set()
    for path in WORKFLOW_FILES:
        for match in SHELL_CALL.finditer(path.read_text(encoding="utf-8")):
            calls.add(("GET" if match["list"] else match["method"] or "GET", match["path"], path.name))
    for path in PYTHON_FILES:
        for match in PYTHON_CALL.finditer(path.read_text(encoding="utf-8")):
            calls.add((match["method"] or "GET", match["path"], str(path.relative_to(ROOT))))
    return calls


def concrete(written: str) -> str:
    """A path as written in shell or Python, made concrete: '$GITHUB_REPOSITORY' and '{repo}' are owner/name, each other
    variable one segment, the query dropped."""
    path = "/" + written.lstrip("/").split("?", 1)[0]
    path = path.replace("$GITHUB_REPOSITORY", "o/r").replace("{repo}", "o/r")
    path = re.sub(r"\$\{?[A-Za-z_]+\}?|\{[^}]+\}", "x1", path)
    return path


def test_the_descriptions_are_the_pinned_releases(contract):
    pinned = githubcontract.pinned()
    assert contract.version == pinned["@octokit/openapi"]
    assert contract.rest["openapi"].startswith("3.0") and contract.webhooks["openapi"].startswith("3.1")
    lock = json.loads(githubcontract.LOCK.read_text(encoding="utf-8"))["packages"]
    assert all(meta["integrity"].startswith("sha512-") for name, meta in lock.items() if name), lock  # npm ci checks each tarball against it
    assert "registry" not in githubcontract.LOCK.read_text(encoding="utf-8")  # no registry host written anywhere


def test_every_rest_call_the_project_makes_is_documented_and_the_fake_serves_exactly_those(contract, tmp_path: Path):
    calls = project_calls()
    assert len(calls) >= 20, calls  # the scan finds the calls (a scan that finds none would pass anything)
    undocumented = [(m, p, where) for m, p, where in calls if contract.operation(m, concrete(p)) is None]
    assert not undocumented, undocumented
    called = {contract.operation(m, concrete(p)).template + " " + m for m, p, _ in calls}

    github = FakeGitHub(tmp_path / "github")
    try:
        repo = github.repository
        served = {f"{method} {pattern}" for method, pattern in github.route_templates()} | {f"GET {path}" for path in github.settings}
        served_operations = set()
        for entry in served:
            method, path = entry.split(" ", 1)
            sample = re.sub(r"\([^)]*\)|\{[^}]+\}", "x1", path.replace(re.escape(repo), repo).replace("\\", ""))
            operation = contract.operation(method, sample)
            assert operation is not None, f"the fake serves {entry}, which GitHub does not document"
            served_operations.add(f"{operation.template} {method}")
    finally:
        github.close()
    assert served_operations <= called, served_operations - called  # nothing served that the project never calls
    assert called - served_operations == set(NOT_SERVED), called - served_operations


def test_a_documented_shape_is_held_and_a_wrong_one_is_named(contract):
    issue = contract.example("issue")
    assert contract.response_errors("GET", "/repos/o/r/issues/1", 200, issue) == []
    issue["url"] = ""  # the fake once sent pull_request.url = ""
    assert contract.response_errors("GET", "/repos/o/r/issues/1", 200, issue) == ["url: '' is not a 'uri'"]
    assert contract.response_errors("GET", "/repos/o/r/issues/1", 201, issue) == ["GET /repos/{owner}/{repo}/issues/{issue_number}: GitHub does not answer 201 (it answers 200, 301, 304, 404, 410)"]
    # An error the description does not list (403 to a token without the permission) is GitHub's generic error body.
    assert contract.response_errors("GET", "/orgs/o/actions/runner-groups", 403, {"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest"}) == []
    assert contract.response_errors("GET", "/orgs/o/actions/runner-groups", 403, {"message": 5}) == ["message: 5 is not of type 'string'"]
    assert contract.request_errors("POST", "/repos/o/r/issues/1/comments", {"body": 5}) == ["body: 5 is not of type 'string'"]
    assert contract.request_errors("GET", "/repos/o/r/branches/main/protection/x", None)[0].endswith("not an operation of GitHub's REST API " + contract.version)
    assert contract.webhook_errors("push", {"ref": "refs/heads/main"})[0] == "(top level): 'before' is a required property"


@pytest.fixture
def github(tmp_path: Path):
    fake = FakeGitHub(tmp_path / "github", members={"kasi-1"})
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "f.txt").write_text("x\n")
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.go.id", "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.go.id", "PATH": "/usr/bin:/bin"}
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-qm", "m"), ("push", "-q", str(fake.bare), "HEAD:refs/heads/main")):
        subprocess.run(["git", *args], cwd=seed, env=env, check=True, capture_output=True, timeout=60)
    (seed / "f.txt").write_text("y\n")
    for args in (("commit", "-qam", "ubah"), ("push", "-q", str(fake.bare), "HEAD:refs/heads/topic")):
        subprocess.run(["git", *args], cwd=seed, env=env, check=True, capture_output=True, timeout=60)
    try:
        yield fake
    finally:
        fake.close()


def call(github: FakeGitHub, method: str, path: str, body=None, token: str | None = "default"):
    request = urllib.request.Request(f"{github.api_url}{path}", method=method, data=json.dumps(body).encode() if body is not None else None)
    if token:
        request.add_header("Authorization", f"Bearer {github.token if token == 'default' else token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers)


def test_the_fake_answers_as_github_does(github: FakeGitHub, contract):
    repo = f"/repos/{github.repository}"
    status, pull, _ = call(github, "POST", f"{repo}/pulls", {"title": "T", "head": "topic", "base": "main", "body": "b"})
    assert status == 201 and pull["author_association"] == "NONE" and pull["merged"] is False and pull["head"]["repo"]["full_name"] == github.repository
    # 422 for a second pull request of the same branch, in GitHub's words.
    status, refused, _ = call(github, "POST", f"{repo}/pulls", {"title": "T", "head": "topic", "base": "main"})
    assert status == 422 and refused["errors"] == [{"resource": "PullRequest", "code": "custom", "message": f"A pull request already exists for {github.owner}:topic."}]
    # Reviews: upper case in REST, lower case in the webhook.
    review = github.review(pull["number"], "kasi-1")
    status, listed, _ = call(github, "GET", f"{repo}/pulls/{pull['number']}/reviews")
    assert [(r["state"], r["author_association"]) for r in listed] == [("APPROVED", "MEMBER")]
    assert github.as_sent("pull_request_review", github.review_event(pull["number"], review))["review"]["state"] == "approved"
    # Pages by Link: the next and the last.
    for i in range(5):
        assert call(github, "POST", f"{repo}/issues/{pull['number']}/comments", {"body": f"c{i}"})[0] == 201
    status, page, headers = call(github, "GET", f"{repo}/issues/{pull['number']}/comments?per_page=2")
    assert [c["body"] for c in page] == ["c0", "c1"] and re.fullmatch(r'<[^>]+page=2>; rel="next", <[^>]+page=3>; rel="last"', headers["Link"]), headers
    # A private repository is not there for whoever has no token: 404, not 401 or 403.
    assert call(github, "GET", f"{repo}/pulls/{pull['number']}", token=None)[0] == 404
    # After the merge: merged, the merge commit, who merged; the issue side says so too.
    _before, after = github.merge(pull["number"], "kasi-1")
    status, merged, _ = call(github, "GET", f"{repo}/pulls/{pull['number']}")
    assert (merged["merged"], merged["merge_commit_sha"], merged["merged_by"]["login"], merged["state"]) == (True, after, "kasi-1", "closed")
    status, issue, _ = call(github, "GET", f"{repo}/issues/{pull['number']}")
    assert issue["pull_request"]["merged_at"] == merged["merged_at"] and issue["closed_at"]
    # A body GitHub's description does not allow: 422 "Invalid request", and the test that caused it fails (a violation).
    assert not github.violations, github.violations
    status, refused, _ = call(github, "POST", f"{repo}/issues", {"title": ["not", "text"]})
    assert status == 422 and refused["message"].startswith("Invalid request.\n\ntitle: ") and refused["documentation_url"].startswith("https://docs.github.com/")
    assert github.violations == [f"POST {repo}/issues: request body: title: ['not', 'text'] is not valid under any of the given schemas"]


def test_the_webhook_payloads_are_what_github_sends(github: FakeGitHub):
    before = github.ref("refs/heads/main")
    after = github.ref("refs/heads/topic")
    push = github.as_sent("push", github.push_event(before, after))
    assert [c["id"] for c in push["commits"]] == [after] and push["head_commit"]["id"] == after and push["commits"][0]["modified"] == ["f.txt"]
    assert push["forced"] is False and push["pusher"]["name"] == "github-actions[bot]" and push["compare"].endswith(f"{before[:12]}...{after[:12]}")
    number = github.open_pull("topic", "lina-marlina", "T")
    edited = github.as_sent("pull_request", github.retarget(number, "main"))
    assert edited["changes"]["base"]["ref"]["from"] == "main"
    subprocess.run(["git", "update-ref", "refs/heads/topic", before], cwd=github.bare, check=True)
    github.sync_pulls()
    synchronize = github.as_sent("pull_request", github.pull_request_event(number, "synchronize"))
    assert (synchronize["before"], synchronize["after"]) == (after, before)
    issue = github.open_issue("Permohonan", "isi", "lina-marlina", ["permohonan-bandwidth"])
    label = github.as_sent("issues", github.issues_event(issue))["issue"]["labels"][0]
    assert label["name"] == "permohonan-bandwidth" and label["id"] and label["url"].startswith(github.api_url)
    github.edit_issue(issue, body="isi baru")
    assert github.as_sent("issues", github.issues_event(issue, "edited"))["changes"] == {"body": {"from": "isi"}}
    broken = github.pull_request_event(number, "opened")
    broken["pull_request"]["user"] = {**user("x"), "id": "seven"}  # an id that is not a number: not a user GitHub would send
    with pytest.raises(AssertionError, match="pull_request/user/id: 'seven' is not of type 'integer'"):
        github.as_sent("pull_request", broken)
