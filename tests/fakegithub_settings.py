"""The settings of the fake GitHub's repository, as GitHub's REST API answers them, for `bandwidth settings-check`.

`compliant()` is a repository set up as docs/repository-setup.md says, each answer in the shape of
GitHub's REST documentation for its endpoint (branch protection, the rules of a branch and their rulesets, the
environment and its deployment branch policies, the secrets lists, the organisation's runner groups, the
repository's runners, the Actions settings). FakeGitHub.settings maps an endpoint's path to its answer: a JSON
document (200), or an HTTP status for an endpoint that answers with an error (404: not there; 403: not allowed).
`WEAKENED` changes one setting each, as an administrator's slip or an attacker with admin rights would.
"""

from __future__ import annotations

import copy

ACTIONS = 15368  # GitHub Actions' app id
REPO_ID = 901234567
ORG = "pemprov-kaltim"
CHECKS = ("Disposisi lengkap", "Cek ketersediaan bandwidth")
RULESET = 4201  # the repository ruleset that holds main's rules
ENVIRONMENTS = {"production": "GATEWAY_SSH_KEY", "disposition-record": "DISPOSITION_SIGNING_KEY", "settings-audit": "SETTINGS_READ_TOKEN"}  # and the secret of each


def compliant(repository: str) -> dict[str, object]:
    repo = f"/repos/{repository}"
    protection = {
        "url": f"https://api.github.invalid{repo}/branches/main/protection",
        "required_status_checks": {"strict": True, "contexts": list(CHECKS), "checks": [{"context": name, "app_id": ACTIONS} for name in CHECKS]},
        "enforce_admins": {"enabled": True},
        "required_pull_request_reviews": {
            "dismiss_stale_reviews": True, "require_code_owner_reviews": True, "require_last_push_approval": True,
            "required_approving_review_count": 1, "bypass_pull_request_allowances": {"users": [], "teams": [], "apps": []},
        },
        "required_linear_history": {"enabled": False}, "allow_force_pushes": {"enabled": False}, "allow_deletions": {"enabled": False},
        "block_creations": {"enabled": False}, "required_conversation_resolution": {"enabled": False}, "lock_branch": {"enabled": False},
        "allow_fork_syncing": {"enabled": False},
    }  # fmt: skip
    source = {"ruleset_source_type": "Repository", "ruleset_source": repository, "ruleset_id": RULESET}
    rules = [
        {
            "type": "workflows",
            "parameters": {"do_not_enforce_on_create": False, "workflows": [{"path": ".github/workflows/disposition.yml", "repository_id": REPO_ID, "ref": "refs/heads/main"}]},
            **source,
        },
        {"type": "non_fast_forward", **source},
        {"type": "deletion", **source},
    ]
    ruleset = {
        "id": RULESET, "name": "main: disposisi", "target": "branch", "source_type": "Repository", "source": repository, "enforcement": "active",
        "bypass_actors": [], "conditions": {"ref_name": {"include": ["refs/heads/main"], "exclude": []}}, "rules": [{k: v for k, v in r.items() if not k.startswith("ruleset_")} for r in rules],
        "current_user_can_bypass": "never", "node_id": "RRS_lACqUmVwb3NpdG9yec4", "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z",
    }  # fmt: skip
    secret = {"created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z"}
    environments = {}
    for number, (name, key) in enumerate(ENVIRONMENTS.items()):
        environments[f"{repo}/environments/{name}"] = {
            "id": 161088068 + number, "node_id": f"EN_kwDOA{number}", "name": name, "url": f"https://api.github.invalid{repo}/environments/{name}",
            "html_url": f"https://github.invalid/{repository}/deployments/activity_log?environments_filter={name}",
            "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z", "can_admins_bypass": False,
            "protection_rules": [{"id": 3736 + number, "node_id": "GA_kwLOA", "type": "branch_policy"}],
            "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
        }  # fmt: skip
        environments[f"{repo}/environments/{name}/deployment-branch-policies"] = {
            "total_count": 1, "branch_policies": [{"id": 361471 + number, "node_id": "MDE2OkdhdGVCcmFuY2hQb2xpY3kzNjE0NzE=", "name": "main", "type": "branch"}],
        }  # fmt: skip
        environments[f"{repo}/environments/{name}/secrets"] = {"total_count": 1, "secrets": [{"name": key, **secret}]}
    group = {
        "id": 7, "name": "produksi", "visibility": "selected", "default": False, "allows_public_repositories": False,
        "restricted_to_workflows": True, "workflow_restrictions_read_only": False,
        "selected_workflows": [f"{repository}/.github/workflows/apply.yml@refs/heads/main", f"{repository}/.github/workflows/scheduled.yml@refs/heads/main"],
        "runners_url": f"https://api.github.invalid/orgs/{ORG}/actions/runner-groups/7/runners", "inherited": False,
    }  # fmt: skip
    return {
        f"{repo}/branches/main/protection": protection,
        f"{repo}/rules/branches/main": rules,
        f"{repo}/rulesets/{RULESET}": ruleset,
        **environments,
        f"{repo}/actions/secrets": {"total_count": 0, "secrets": []},
        f"{repo}/actions/organization-secrets": {"total_count": 1, "secrets": [{"name": "NOTIFY_WEBHOOK", **secret}]},
        f"/orgs/{ORG}/actions/runner-groups": {
            "total_count": 2,
            "runner_groups": [{**group, "id": 1, "name": "Default", "default": True, "visibility": "all", "restricted_to_workflows": False, "selected_workflows": []}, group],
        },
        f"{repo}/actions/runners": {"total_count": 0, "runners": []},
        f"{repo}/actions/permissions/workflow": {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": False},
        f"{repo}/actions/permissions/fork-pr-contributor-approval": {"approval_policy": "all_external_contributors"},
    }


def _set(path: str, change):
    """A weakening: `change(answer)` on a copy of the answer at `path` (a path under /repos/<repository> unless absolute)."""

    def weaken(settings: dict, repository: str) -> None:
        key = path if path.startswith("/orgs/") else f"/repos/{repository}{path}"
        settings[key] = change(copy.deepcopy(settings[key]))

    return weaken


def _edit(function):
    def change(answer):
        function(answer)
        return answer

    return change


# name: (the weakening, the declaration key `bandwidth settings-check` must name)
WEAKENED = {
    "required check from any source": (
        _set("/branches/main/protection", _edit(lambda p: p["required_status_checks"].update(checks=[{"context": "Disposisi lengkap", "app_id": None}, {"context": CHECKS[1], "app_id": ACTIONS}]))),
        "branch_rules.required_status_checks.Disposisi lengkap",
    ),
    "availability check not required": (
        _set("/branches/main/protection", _edit(lambda p: p["required_status_checks"].update(checks=[{"context": CHECKS[0], "app_id": ACTIONS}], contexts=[CHECKS[0]]))),
        "branch_rules.required_status_checks.Cek ketersediaan bandwidth",
    ),
    "required workflow pinned to a branch of the pull request": (
        _set(
            "/rules/branches/main", lambda rules: [r if r["type"] != "workflows" else {**r, "parameters": {"workflows": [{**r["parameters"]["workflows"][0], "ref": "refs/heads/dev"}]}} for r in rules]
        ),
        "branch_rules.required_workflows..github/workflows/disposition.yml",
    ),
    "no code-owner review": (_set("/branches/main/protection", _edit(lambda p: p["required_pull_request_reviews"].update(require_code_owner_reviews=False))), "branch_rules.require_code_owner_review"),
    "stale approvals kept": (_set("/branches/main/protection", _edit(lambda p: p["required_pull_request_reviews"].update(dismiss_stale_reviews=False))), "branch_rules.dismiss_stale_reviews"),
    "last push unapproved": (
        _set("/branches/main/protection", _edit(lambda p: p["required_pull_request_reviews"].update(require_last_push_approval=False))),
        "branch_rules.require_last_push_approval",
    ),
    "admins bypass": (_set("/branches/main/protection", _edit(lambda p: p["enforce_admins"].update(enabled=False))), "branch_rules.no_bypass"),
    "a user may bypass pull request rules": (
        _set("/branches/main/protection", _edit(lambda p: p["required_pull_request_reviews"]["bypass_pull_request_allowances"]["users"].append({"login": "operator-malam", "id": 9, "type": "User"}))),
        "branch_rules.no_bypass",
    ),
    "ruleset bypass for a role": (
        _set(f"/rulesets/{RULESET}", _edit(lambda r: r["bypass_actors"].append({"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}))),
        "branch_rules.no_bypass",
    ),
    "force push allowed": (
        _set("/rules/branches/main", lambda rules: [r for r in rules if r["type"] != "non_fast_forward"]),
        None,  # branch protection still forbids it: either one satisfies the rule, so this one holds
    ),
    "force push allowed everywhere": (
        lambda settings, repository: [
            _set("/rules/branches/main", lambda rules: [r for r in rules if r["type"] != "non_fast_forward"])(settings, repository),
            _set("/branches/main/protection", _edit(lambda p: p["allow_force_pushes"].update(enabled=True)))(settings, repository),
        ],
        "branch_rules.no_force_push",
    ),
    "branch may be deleted": (
        lambda settings, repository: [
            _set("/rules/branches/main", lambda rules: [r for r in rules if r["type"] != "deletion"])(settings, repository),
            _set("/branches/main/protection", _edit(lambda p: p["allow_deletions"].update(enabled=True)))(settings, repository),
        ],
        "branch_rules.no_deletion",
    ),
    "environment from any branch": (_set("/environments/production", _edit(lambda e: e.update(deployment_branch_policy=None))), "environments.production.deployment_branches"),
    "environment from another branch too": (
        _set("/environments/production/deployment-branch-policies", _edit(lambda d: d["branch_policies"].append({"id": 2, "node_id": "x", "name": "rilis/*", "type": "branch"}))),
        "environments.production.deployment_branches",
    ),
    "admins bypass the environment": (_set("/environments/production", _edit(lambda e: e.update(can_admins_bypass=True))), "environments.production.admins_can_bypass"),
    "gateway key as a repository secret": (_set("/actions/secrets", _edit(lambda s: s["secrets"].append({"name": "GATEWAY_SSH_KEY"}))), "environments.production.secrets.GATEWAY_SSH_KEY"),
    "gateway key as an organisation secret": (
        _set("/actions/organization-secrets", _edit(lambda s: s["secrets"].append({"name": "GATEWAY_SSH_KEY"}))),
        "environments.production.secrets.GATEWAY_SSH_KEY",
    ),
    "signing key outside its environment": (
        _set("/environments/disposition-record/secrets", lambda _: {"total_count": 0, "secrets": []}),
        "environments.disposition-record.secrets.DISPOSITION_SIGNING_KEY",
    ),
    "signing environment from protected branches": (
        _set("/environments/disposition-record", _edit(lambda e: e.update(deployment_branch_policy={"protected_branches": True, "custom_branch_policies": False}))),
        "environments.disposition-record.deployment_branches",
    ),
    "runner group for any workflow": (
        _set(f"/orgs/{ORG}/actions/runner-groups", _edit(lambda g: g["runner_groups"][1].update(restricted_to_workflows=False, selected_workflows=[]))),
        "runner_group.workflows",
    ),
    "runner group allows a workflow at any ref": (
        _set(f"/orgs/{ORG}/actions/runner-groups", _edit(lambda g: g["runner_groups"][1]["selected_workflows"].append("pemprov-kaltim/bandwidth/.github/workflows/apply.yml@*"))),
        "runner_group.workflows",
    ),
    "runner group open to public repositories": (
        _set(f"/orgs/{ORG}/actions/runner-groups", _edit(lambda g: g["runner_groups"][1].update(allows_public_repositories=True))),
        "runner_group.public_repositories",
    ),
    "a runner on the repository itself": (
        _set("/actions/runners", lambda _: {"total_count": 1, "runners": [{"id": 23, "name": "gw-runner", "os": "linux", "status": "online", "busy": False, "labels": []}]}),
        "repository_self_hosted_runners",
    ),
    "write token by default": (_set("/actions/permissions/workflow", _edit(lambda w: w.update(default_workflow_permissions="write"))), "actions.default_workflow_permissions"),
    "workflows may approve": (_set("/actions/permissions/workflow", _edit(lambda w: w.update(can_approve_pull_request_reviews=True))), "actions.can_approve_pull_request_reviews"),
    "fork runs approved for first-timers only": (
        _set("/actions/permissions/fork-pr-contributor-approval", _edit(lambda f: f.update(approval_policy="first_time_contributors"))),
        "actions.fork_pull_request_approval",
    ),
}
