#!/usr/bin/env bash
# What actions/checkout does for a job, in brief: init, fetch the ref (or all of history), check out.
set -euo pipefail
cd "$GITHUB_WORKSPACE"
server=${GITHUB_SERVER_URL%/}
header="AUTHORIZATION: basic $(printf 'x-access-token:%s' "$TOKEN" | base64 -w0)"
fetch() { git -c "http.$server/.extraheader=$header" fetch --quiet --prune --no-tags --no-recurse-submodules "$@"; }
git init --quiet .
git config --local gc.auto 0
git remote add origin "$server/$REPOSITORY"
if [ -z "$REF" ]; then
  ref=$EVENT_REF sha=$EVENT_SHA
elif [[ "$REF" =~ ^[0-9a-f]{40}$ ]]; then
  ref="" sha=$REF
else
  ref=$REF sha=""
fi
depth=()
if [ "$DEPTH" = 0 ]; then
  fetch origin '+refs/heads/*:refs/remotes/origin/*' '+refs/tags/*:refs/tags/*'
else
  depth=(--depth="$DEPTH")
fi
case "$ref" in
  refs/heads/*) target="refs/remotes/origin/${ref#refs/heads/}" ;;
  refs/pull/*) target="refs/remotes/pull/${ref#refs/pull/}" ;;
  refs/tags/*) target="$ref" ;;
  "") target="" ;;
  *) ref="refs/heads/$ref" target="refs/remotes/origin/${ref#refs/heads/}" ;;
esac
if [ -n "$target" ]; then
  fetch "${depth[@]}" origin "+${sha:-$ref}:$target"
else
  fetch "${depth[@]}" origin "$sha"
fi
if [ -n "$SPARSE" ]; then
  # shellcheck disable=SC2086 # one path per line
  git sparse-checkout set $SPARSE
fi
case "$ref" in
  refs/heads/*) git checkout --quiet --force -B "${ref#refs/heads/}" "$target" ;;
  "") git checkout --quiet --force --detach "$sha" ;;
  *) git checkout --quiet --force --detach "$target" ;;
esac
if [ "$PERSIST" = true ]; then
  git config --local "http.$server/.extraheader" "$header"
fi
echo "checked out $(git rev-parse HEAD) (${ref:-$sha}) from $server/$REPOSITORY"
