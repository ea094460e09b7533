#!/usr/bin/env bash
# The apply workflow's audit step, second half (a job with contents: write and no secret): the note
# the first half signed ($NOTE_B64, base64) onto $SHA under refs/notes/bandwidth, pushed. The notes
# are fetched without `+`: what is on the origin is taken as it is, and a push that would rewrite it
# is refused by git.
# Needs GITHUB_TOKEN (contents: write), SHA, NOTE_B64, and the variables every run has.
set -euo pipefail
: "${GITHUB_TOKEN:?}" "${SHA:?}" "${NOTE_B64:?}"
# The token reaches git in the environment of these two git calls only (github.sh): never a command line.
source "$(dirname "$0")/github.sh"
github_git fetch --quiet origin "refs/notes/bandwidth:refs/notes/bandwidth" || echo "no dispositions recorded yet"
note="${RUNNER_TEMP:-/tmp}/disposition-note"
printf '%s' "$NOTE_B64" | base64 -d > "$note"
git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
git notes --ref=refs/notes/bandwidth add --force --file="$note" "$SHA"
# One apply at a time (concurrency group apply-main), so nobody else pushes the notes meanwhile.
github_git push --quiet origin refs/notes/bandwidth
echo "recorded on ${SHA:0:12} in refs/notes/bandwidth (signed)"
