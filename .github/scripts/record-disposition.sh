#!/usr/bin/env bash
# The apply workflow's audit step: write the disposition of $SHA (the merge on main) as a git note
# under refs/notes/bandwidth and push it. Extra arguments go to `bandwidth record`.
# Needs GITHUB_TOKEN (contents: write, pull-requests: read), REPO (owner/name), SHA.
set -euo pipefail
: "${GITHUB_TOKEN:?}" "${REPO:?}" "${SHA:?}"
# The token goes in a header for these two git calls only (the checkout keeps no credentials).
auth="AUTHORIZATION: basic $(printf 'x-access-token:%s' "$GITHUB_TOKEN" | base64 -w0)"
git -c "http.extraheader=$auth" fetch --quiet origin "+refs/notes/bandwidth:refs/notes/bandwidth" || echo "no dispositions recorded yet"
git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
"${BANDWIDTH:-.venv/bin/bandwidth}" record --github-repo "$REPO" --commit "$SHA" "$@"
# One apply at a time (concurrency group apply-main), so nobody else pushes the notes meanwhile.
git -c "http.extraheader=$auth" push --quiet origin refs/notes/bandwidth
