#!/usr/bin/env bash
# The apply workflow's audit step, first half (job of the environment disposition-record, read-only
# token): the disposition of $SHA (the merge on main) as trailers, signed with the workflow's key
# (`bandwidth record --print --sign-key`), into $GITHUB_OUTPUT as `note` (base64). Extra arguments go
# to `bandwidth record`. The second half (push-disposition.sh) writes and pushes it with a write token.
# The note names the record before it (Bandwidth-Previous-Record, scripts/bandwidth/history/chain.py): the
# checkout needs main's history (fetch-depth: 0), and the records are fetched here, without `+`.
# Needs GITHUB_TOKEN (contents: read, pull-requests: read, issues: read), REPO (owner/name), SHA, SIGNING_KEY.
set -euo pipefail
: "${GITHUB_TOKEN:?}" "${REPO:?}" "${SHA:?}"
if [ -z "${SIGNING_KEY:-}" ]; then
  echo "::error title=Kunci penanda tangan tidak ada::environment disposition-record needs secrets.DISPOSITION_SIGNING_KEY (docs/repository-setup.md)"
  exit 1
fi
# The token reaches git in the environment of the fetch only (github.sh): never a command line.
source "$(dirname "$0")/github.sh"
github_git fetch --quiet origin "refs/notes/bandwidth:refs/notes/bandwidth" || echo "no dispositions recorded yet: this record names none before it"
key="${RUNNER_TEMP:-/tmp}/disposition-key"
trap 'rm -f "$key"' EXIT
(umask 077 && printf '%s\n' "$SIGNING_KEY" > "$key")
note="${RUNNER_TEMP:-/tmp}/disposition-note"
"${BANDWIDTH:-.venv/bin/bandwidth}" record --github-repo "$REPO" --commit "$SHA" --print --sign-key "$key" "$@" > "$note"
cat "$note"
echo "note=$(base64 -w0 < "$note")" >> "${GITHUB_OUTPUT:-/dev/null}"
