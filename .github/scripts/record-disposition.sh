#!/usr/bin/env bash
# The apply workflow's audit step: write the disposition of $SHA (the merge on main) as a git note
# under refs/notes/bandwidth and push it. Extra arguments go to `bandwidth record`.
# Needs GITHUB_TOKEN (contents: write, pull-requests: read), REPO (owner/name), SHA, and the
# variables every run has (GITHUB_SERVER_URL, GITHUB_API_URL, GITHUB_REPOSITORY).
set -euo pipefail
: "${GITHUB_TOKEN:?}" "${REPO:?}" "${SHA:?}"
# The token reaches git in the environment of these two git calls only (github.sh): never a command
# line, which any process of the runner could read in /proc, and never .git/config.
source "$(dirname "$0")/github.sh"
github_git fetch --quiet origin "+refs/notes/bandwidth:refs/notes/bandwidth" || echo "no dispositions recorded yet"
git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
"${BANDWIDTH:-.venv/bin/bandwidth}" record --github-repo "$REPO" --commit "$SHA" "$@"
# One apply at a time (concurrency group apply-main), so nobody else pushes the notes meanwhile.
github_git push --quiet origin refs/notes/bandwidth
