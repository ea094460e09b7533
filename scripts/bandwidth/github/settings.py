"""`bandwidth settings-check`: are the GitHub settings the disposition chain relies on as strong as
.github/required-settings.yml says? (issue "The disposition chain holds by itself", item 5)

Read through GitHub's documented REST endpoints with a read-only token: branch protection and the rules
that apply to the branch (either satisfies a rule; the rulesets of those rules for who may bypass them),
the environment and its deployment branch policies, the secrets lists of the environment, the repository
and the organisation, the organisation's runner groups and the repository's own runners, and the
Actions settings (default token, fork pull requests). Every setting weaker than declared is a Finding;
an endpoint the token may not read is an Unreadable naming the permission it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bandwidth.github.approvals import ApiError, GitHub

ACTIONS_APP_ID = 15368  # GitHub Actions: the app a required check must come from
MAIN = "refs/heads/main"


@dataclass(frozen=True)
class Finding:
    key: str  # the declaration's key, e.g. branch_rules.require_code_owner_review
    message: str  # what is weaker, in English (the CLI)
    pesan: str  # the same in Bahasa Indonesia (the issue)


@dataclass(frozen=True)
class Unreadable:
    endpoint: str
    permission: str
    status: int | None


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


# What each weaker setting is called: name -> (English for the log, Bahasa Indonesia for the issue), with format() fields.
MESSAGES = {
    "runners": (
        "self-hosted runners are registered on the repository itself: {names}",
        "runner self-hosted terdaftar langsung pada repositori, di luar runner group: {names}",
    ),
    "status_check": (
        "'{name}' is not a required check from GitHub Actions (a commit status of that name from anyone with write access would pass it)",
        "pemeriksaan '{name}' tidak diwajibkan dari GitHub Actions (status commit bernama sama dari siapa pun yang punya akses tulis akan meloloskannya)",
    ),
    "workflow": (
        "no ruleset requires the workflow {path} at {ref} to pass (a pull request's own copy of it decides)",
        'tidak ada ruleset "Require workflows to pass" untuk {path} di {ref} (salinan workflow milik pull request sendiri yang menentukan)',
    ),
    "require_code_owner_review": ("review by the code owners is not required", "review oleh Code Owners tidak diwajibkan"),
    "dismiss_stale_reviews": ("approvals are not dismissed by a new push", "persetujuan tidak dibatalkan oleh push baru"),
    "require_last_push_approval": ("the last push need not be approved by someone else", "push terakhir tidak wajib disetujui orang lain"),
    "no_force_push": ("force pushes are allowed", "force push diizinkan"),
    "no_deletion": ("the branch may be deleted", "cabang boleh dihapus"),
    "no_bypass": ("{names}: can be bypassed by {who}", "aturan {names} dapat dilewati oleh {who}"),
    "no_environment": ("the environment {name} does not exist: any branch's workflow can use its jobs", "environment {name} tidak ada"),
    "deployment_any": ("environment {name} may be deployed from {what}, not {branches} only", "environment {name} boleh dipakai dari {apa}, bukan hanya {branches}"),
    "deployment_listed": ("environment {name} deployment branches are {shown}, not {branches} only", "environment {name} boleh dipakai dari {shown}, bukan hanya {branches}"),
    "admins_bypass": ("administrators can bypass the protection of environment {name}", "administrator dapat melewati perlindungan environment {name}"),
    "secret_missing": ("{secret} is not a secret of environment {environment}", "{secret} bukan secret environment {environment}"),
    "secret_elsewhere": (
        "{secret} is also a {where} secret: every workflow of every branch can read it",
        "{secret} juga secret {tempat}: setiap workflow di cabang mana pun dapat membacanya",
    ),
    "user_owned": (
        "{repo} belongs to a user: runner groups (which limit a runner to some workflows) need an organisation",
        "{repo} milik akun pengguna: runner group hanya ada pada organisasi",
    ),
    "no_group": ("no runner group {name} in the organisation", "runner group {name} tidak ada di organisasi"),
    "public_repositories": ("runner group {name} allows public repositories", "runner group {name} mengizinkan repositori publik"),
    "group_workflows": ("runner group {name} runs {shown}, not only {expected}", "runner group {name} menjalankan {ditampilkan}, bukan hanya {expected}"),
    "token": ("the default GITHUB_TOKEN of workflows is {found}, not {wanted}", "GITHUB_TOKEN bawaan workflow berizin {found}, bukan {wanted}"),
    "approve": ("workflows may approve pull requests", "workflow boleh menyetujui pull request"),
    "fork": ("fork pull requests need approval for {found}, not {wanted}", "workflow pull request dari fork perlu persetujuan untuk {found}, bukan {wanted}"),
}


def finding(key: str, message: str, prefix: str = "", **values) -> Finding:
    """The Finding of declaration key `key`, worded by MESSAGES[message] with `values`."""
    english, bahasa = MESSAGES[message]
    return Finding(key, prefix + english.format(**values), prefix + bahasa.format(**values))


class Reader:
    """GET with the status an absent thing answers (None), and 401/403 recorded with the permission it needs."""

    def __init__(self, github: GitHub, result: Result):
        self.github, self.result = github, result

    def get(self, path: str, permission: str, absent=None):
        return self._read(self.github.get, path, permission, absent)

    def get_all(self, path: str, permission: str):
        return self._read(self.github.get_all, path, permission, [])

    def _read(self, method, path: str, permission: str, absent):
        try:
            return method(path)
        except ApiError as exc:
            if exc.status is None:  # no answer at all: the API cannot be reached, which no permission explains
                raise
            if exc.status == 404:
                return absent
            self.result.unreadable.append(Unreadable(f"GET {path}", permission, exc.status))
            return UNREAD


UNREAD = object()  # what a Reader gives for an endpoint it could not read: no finding is made from it


def check(repo: str, wanted: dict, github: GitHub) -> Result:
    result = Result()
    reader = Reader(github, result)
    repository = reader.get(f"/repos/{repo}", "Metadata: read")
    if repository is None:
        result.unreadable.append(Unreadable(f"GET /repos/{repo}", "Metadata: read (or the repository does not exist)", 404))
    if repository in (None, UNREAD):
        return result
    _branch(reader, repo, repository, wanted["branch"], wanted.get("branch_rules") or {}, result)
    for environment in wanted.get("environments") or []:
        _environment(reader, repo, environment, result)
    if wanted.get("runner_group"):
        _runner_group(reader, repo, repository, wanted["runner_group"], result)
    if wanted.get("repository_self_hosted_runners") is False:
        runners = reader.get(f"/repos/{repo}/actions/runners", "Administration: read", {"total_count": 0})
        if runners is not UNREAD and runners.get("total_count", 0):
            names = ", ".join(r.get("name", "?") for r in runners.get("runners", [])[:5])
            result.findings.append(finding("repository_self_hosted_runners", "runners", names=names))
    if wanted.get("actions"):
        _actions(reader, repo, wanted["actions"], result)
    return result


# --- the branch: protection or rulesets ------------------------------------------------------------------------

# declaration key -> (the key of required_pull_request_reviews in branch protection, the parameter of a pull_request rule)
REVIEW_KEYS = {
    "require_code_owner_review": ("require_code_owner_reviews", "require_code_owner_review"),
    "dismiss_stale_reviews": ("dismiss_stale_reviews", "dismiss_stale_reviews_on_push"),
    "require_last_push_approval": ("require_last_push_approval", "require_last_push_approval"),
}


def _branch(reader: Reader, repo: str, repository: dict, branch: str, wanted: dict, result: Result) -> None:
    protection = reader.get(f"/repos/{repo}/branches/{branch}/protection", "Administration: read")
    rules = reader.get_all(f"/repos/{repo}/rules/branches/{branch}", "Metadata: read")
    if protection is UNREAD or rules is UNREAD:
        return
    protection = protection or {}
    rulesets = _rulesets(reader, repo, {(r.get("ruleset_source_type"), r.get("ruleset_source"), r.get("ruleset_id")) for r in rules})
    sources: dict[str, list] = {}  # requirement -> what satisfies it: "protection" and/or ruleset ids

    def need(key: str, by_protection: bool, by_rules: list, message: str, **values) -> None:
        found = (["protection"] if by_protection else []) + [r.get("ruleset_id") for r in by_rules]
        if found:
            sources[key] = found
        else:
            result.findings.append(finding(f"branch_rules.{key}", message, f"{branch}: ", **values))

    def rules_of(kind: str) -> list:
        return [r for r in rules if r.get("type") == kind]

    def parameters(rule: dict, name: str) -> list:
        return (rule.get("parameters") or {}).get(name) or []

    checks = (protection.get("required_status_checks") or {}).get("checks") or []
    for name in wanted.get("required_status_checks") or []:
        by_protection = any(c.get("context") == name and c.get("app_id") == ACTIONS_APP_ID for c in checks)
        by_rules = [r for r in rules_of("required_status_checks") if any(c.get("context") == name and c.get("integration_id") == ACTIONS_APP_ID for c in parameters(r, "required_status_checks"))]
        need(f"required_status_checks.{name}", by_protection, by_rules, "status_check", name=name)
    for path in wanted.get("required_workflows") or []:
        by_rules = [r for r in rules_of("workflows") if any(w.get("path") == path and w.get("ref") == MAIN and w.get("repository_id") == repository.get("id") for w in parameters(r, "workflows"))]
        need(f"required_workflows.{path}", False, by_rules, "workflow", path=path, ref=MAIN)
    reviews = protection.get("required_pull_request_reviews") or {}
    for key, (classic, ruled) in REVIEW_KEYS.items():
        if wanted.get(key):
            need(key, bool(reviews.get(classic)), [r for r in rules_of("pull_request") if (r.get("parameters") or {}).get(ruled)], key)
    if wanted.get("no_force_push"):
        need("no_force_push", bool(protection) and not (protection.get("allow_force_pushes") or {}).get("enabled"), rules_of("non_fast_forward"), "no_force_push")
    if wanted.get("no_deletion"):
        need("no_deletion", bool(protection) and not (protection.get("allow_deletions") or {}).get("enabled"), rules_of("deletion"), "no_deletion")
    if wanted.get("no_bypass"):
        _bypass(branch, protection, rulesets, sources, result)


def _rulesets(reader: Reader, repo: str, found: set) -> dict:
    """ruleset id -> its detail (bypass_actors, enforcement), from the repository or its organisation."""
    details = {}
    for source_type, source, ruleset_id in sorted(found, key=str):
        path = f"/orgs/{source}/rulesets/{ruleset_id}" if source_type == "Organization" else f"/repos/{repo}/rulesets/{ruleset_id}"
        detail = reader.get(path, "Administration: read")
        if detail not in (None, UNREAD):
            details[ruleset_id] = detail
    return details


def _bypass(branch: str, protection: dict, rulesets: dict, sources: dict, result: Result) -> None:
    """Each rule kept by at least one source nobody may bypass: branch protection enforced for administrators with no
    bypass allowance, or an active ruleset without bypass actors."""

    def bypassers(source) -> list[str]:
        if source == "protection":
            who = [] if (protection.get("enforce_admins") or {}).get("enabled") else ["administrators"]
            allowances = (protection.get("required_pull_request_reviews") or {}).get("bypass_pull_request_allowances") or {}
            return who + [f"{kind[:-1]} {item.get('login') or item.get('slug') or item.get('name')}" for kind in ("users", "teams", "apps") for item in allowances.get(kind) or []]
        detail = rulesets.get(source)
        if detail is None:
            return [f"ruleset {source} (unreadable)"]
        who = [f"{a.get('actor_type')} {a.get('actor_id')} ({a.get('bypass_mode')})" for a in detail.get("bypass_actors") or []]
        return who + ([f"ruleset {source} in enforcement {detail.get('enforcement')}"] if detail.get("enforcement") != "active" else [])

    weak = {key: sorted({who for source in found for who in bypassers(source)}) for key, found in sources.items() if all(bypassers(source) for source in found)}
    if weak:
        who = ", ".join(sorted({w for ws in weak.values() for w in ws}))
        result.findings.append(finding("branch_rules.no_bypass", "no_bypass", f"{branch}: ", names=", ".join(sorted(weak)), who=who))


# --- the environment, its secrets ------------------------------------------------------------------------------

ENVIRONMENTS = "Environments: read (Actions: read)"


def _environment(reader: Reader, repo: str, wanted: dict, result: Result) -> None:
    name = wanted["name"]
    environment = reader.get(f"/repos/{repo}/environments/{name}", ENVIRONMENTS)
    if environment is UNREAD:
        return
    if environment is None:
        result.findings.append(finding(f"environments.{name}", "no_environment", name=name))
        return
    branches = wanted.get("deployment_branches")
    if branches:
        policy = environment.get("deployment_branch_policy")
        listed = ", ".join(branches)
        if not policy or not policy.get("custom_branch_policies"):
            what, apa = ("protected branches", "cabang terlindungi mana pun") if policy and policy.get("protected_branches") else ("every branch", "cabang mana pun")
            result.findings.append(finding(f"environments.{name}.deployment_branches", "deployment_any", name=name, what=what, apa=apa, branches=listed))
        else:
            found = reader.get(f"/repos/{repo}/environments/{name}/deployment-branch-policies", ENVIRONMENTS, {"branch_policies": []})
            if found is not UNREAD:
                policies = sorted((p.get("name"), p.get("type", "branch")) for p in found.get("branch_policies") or [])
                if policies != sorted((b, "branch") for b in branches):
                    shown = ", ".join(f"{n} ({t})" for n, t in policies) or "-"
                    result.findings.append(finding(f"environments.{name}.deployment_branches", "deployment_listed", name=name, shown=shown, branches=listed))
    if wanted.get("admins_can_bypass") is False and environment.get("can_admins_bypass", True):
        result.findings.append(finding(f"environments.{name}.admins_can_bypass", "admins_bypass", name=name))
    for secret in wanted.get("secrets") or []:
        _secret(reader, repo, name, secret, result)


def _secret(reader: Reader, repo: str, environment: str, secret: str, result: Result) -> None:
    here = reader.get(f"/repos/{repo}/environments/{environment}/secrets", "Secrets: read", {"secrets": []})
    if here is not UNREAD and secret not in {s.get("name") for s in here.get("secrets") or []}:
        result.findings.append(finding(f"environments.{environment}.secrets.{secret}", "secret_missing", secret=secret, environment=environment))
    for path, where, tempat in ((f"/repos/{repo}/actions/secrets", "repository", "repositori"), (f"/repos/{repo}/actions/organization-secrets", "organisation", "organisasi")):
        found = reader.get(path, "Secrets: read", {"secrets": []})
        if found is not UNREAD and secret in {s.get("name") for s in found.get("secrets") or []}:
            result.findings.append(finding(f"environments.{environment}.secrets.{secret}", "secret_elsewhere", secret=secret, where=where, tempat=tempat))


# --- runners and Actions ---------------------------------------------------------------------------------------


def _runner_group(reader: Reader, repo: str, repository: dict, wanted: dict, result: Result) -> None:
    name = wanted["name"]
    owner = repository.get("owner") or {}
    if owner.get("type") != "Organization":
        result.findings.append(finding("runner_group.name", "user_owned", repo=repo))
        return
    groups = reader.get(f"/orgs/{owner.get('login')}/actions/runner-groups", "Self-hosted runners: read (organisation)", {"runner_groups": []})
    if groups is UNREAD:
        return
    group = next((g for g in groups.get("runner_groups") or [] if g.get("name") == name), None)
    if group is None:
        result.findings.append(finding("runner_group.name", "no_group", name=name))
        return
    if wanted.get("public_repositories") is False and group.get("allows_public_repositories"):
        result.findings.append(finding("runner_group.public_repositories", "public_repositories", name=name))
    expected = sorted(f"{repo}/{path}@{MAIN}" for path in wanted.get("workflows") or [])
    restricted = bool(group.get("restricted_to_workflows"))
    if expected and (not restricted or sorted(group.get("selected_workflows") or []) != expected):
        shown = ", ".join(group.get("selected_workflows") or []) or "-"
        result.findings.append(
            finding(
                "runner_group.workflows",
                "group_workflows",
                name=name,
                shown=shown if restricted else "any workflow",
                ditampilkan=shown if restricted else "workflow apa pun",
                expected=", ".join(expected),
            )
        )


def _actions(reader: Reader, repo: str, wanted: dict, result: Result) -> None:
    workflow = reader.get(f"/repos/{repo}/actions/permissions/workflow", "Administration: read")
    if workflow not in (None, UNREAD):
        permission = workflow.get("default_workflow_permissions")
        if wanted.get("default_workflow_permissions") and permission != wanted["default_workflow_permissions"]:
            result.findings.append(finding("actions.default_workflow_permissions", "token", found=permission, wanted=wanted["default_workflow_permissions"]))
        if wanted.get("can_approve_pull_request_reviews") is False and workflow.get("can_approve_pull_request_reviews"):
            result.findings.append(finding("actions.can_approve_pull_request_reviews", "approve"))
    policy = wanted.get("fork_pull_request_approval")
    if policy:
        found = reader.get(f"/repos/{repo}/actions/permissions/fork-pr-contributor-approval", "Administration: read")
        if found not in (None, UNREAD) and found.get("approval_policy") != policy:
            result.findings.append(finding("actions.fork_pull_request_approval", "fork", found=found.get("approval_policy"), wanted=policy))
