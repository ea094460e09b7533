# Sourced by the workflows' steps: the REST API and git of the GitHub the run belongs to, from
# GITHUB_API_URL and GITHUB_SERVER_URL only, so the same steps work on github.com, on GitHub
# Enterprise Server and against the local server of the e2e harness (tests/fakegithub.py). REST
# only (no GraphQL, no gh): curl and jq, which every runner has.
#
# Needs GH_TOKEN (or GITHUB_TOKEN). The token reaches curl through a config read from a pipe and git
# through a header scoped to GITHUB_SERVER_URL in the environment of that one git command: never a
# command line, never .git/config.
# shellcheck shell=bash

github_api() { # METHOD PATH [JSON-FILE]: the response body on stdout; fails on an HTTP error
  local method=$1 path=$2 data=${3:-}
  local args=(--silent --show-error --fail-with-body --request "$method"
    --header "Accept: application/vnd.github+json" --header "X-GitHub-Api-Version: 2022-11-28")
  if [ -n "$data" ]; then
    args+=(--header "Content-Type: application/json" --data-binary "@$data")
  fi
  if [ "$method" = GET ]; then
    args+=(--retry 3)
  fi
  curl "${args[@]}" --config <(printf 'header = "Authorization: Bearer %s"\n' "${GH_TOKEN:-$GITHUB_TOKEN}") "${GITHUB_API_URL%/}/${path#/}"
}

github_api_list() { # PATH: every page of a list endpoint, as one JSON array
  local path=$1 page=1 chunk all='[]' sep='?'
  case "$path" in *\?*) sep='&' ;; esac
  while :; do
    chunk=$(github_api GET "$path${sep}per_page=100&page=$page")
    all=$(jq -c --argjson all "$all" '$all + .' <<< "$chunk")
    [ "$(jq length <<< "$chunk")" -lt 100 ] && break
    page=$((page + 1))
  done
  printf '%s\n' "$all"
}

github_remote() { # the repository's git URL on this GitHub
  printf '%s/%s.git\n' "${GITHUB_SERVER_URL%/}" "$GITHUB_REPOSITORY"
}

github_git() { # git ARGS...: with the token as a header for GITHUB_SERVER_URL only
  GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="http.${GITHUB_SERVER_URL%/}/.extraheader" \
    GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $(printf 'x-access-token:%s' "${GH_TOKEN:-$GITHUB_TOKEN}" | base64 -w0)" git "$@"
}

github_json_body() { # FILE [KEY=VALUE...]: {"body": <the file>, KEY: VALUE...} as a JSON file; prints its path
  local file=$1 out
  shift
  out=$(mktemp "${RUNNER_TEMP:-/tmp}/github-json.XXXXXX")
  local args=() pair
  for pair in "$@"; do
    args+=(--arg "${pair%%=*}" "${pair#*=}")
  done
  jq -n --rawfile body "$file" '$ARGS.named + {body: $body}' "${args[@]}" > "$out"
  printf '%s\n' "$out"
}

github_sticky_comment() { # NUMBER MARKER FILE: post FILE on issue or pull request NUMBER, or update our comment starting with MARKER
  local number=$1 marker=$2 file=$3 id json
  id=$(github_api_list "repos/$GITHUB_REPOSITORY/issues/$number/comments" \
    | jq -r --arg marker "$marker" '.[] | select(.user.login == "github-actions[bot]" and (.body | startswith($marker))) | .id' | tail -n 1)
  json=$(github_json_body "$file")
  if [ -n "$id" ]; then
    github_api PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" "$json" > /dev/null
    echo "updated comment $id on #$number"
  else
    github_api POST "repos/$GITHUB_REPOSITORY/issues/$number/comments" "$json" > /dev/null
    echo "commented on #$number"
  fi
}

github_issue_put() { # TITLE FILE: the issue titled TITLE (open or closed, not a pull request) gets FILE as its body, or is opened with it
  local title=$1 file=$2 number json
  number=$(github_api_list "repos/$GITHUB_REPOSITORY/issues?state=all" \
    | jq -r --arg title "$title" '[.[] | select(.pull_request == null and .title == $title)][0].number // empty')
  json=$(github_json_body "$file" "title=$title")
  if [ -n "$number" ]; then
    github_api PATCH "repos/$GITHUB_REPOSITORY/issues/$number" "$json" > /dev/null
    echo "updated #$number"
  else
    number=$(github_api POST "repos/$GITHUB_REPOSITORY/issues" "$json" | jq -r .number)
    echo "opened #$number"
  fi
}

github_issue_upsert() { # TITLE FILE: comment FILE on the open issue titled TITLE (not a pull request), or open it
  local title=$1 file=$2 number json
  number=$(github_api_list "repos/$GITHUB_REPOSITORY/issues?state=open" \
    | jq -r --arg title "$title" '[.[] | select(.pull_request == null and .title == $title)][0].number // empty')
  if [ -n "$number" ]; then
    json=$(github_json_body "$file")
    github_api POST "repos/$GITHUB_REPOSITORY/issues/$number/comments" "$json" > /dev/null
    echo "commented on #$number"
  else
    json=$(github_json_body "$file" "title=$title")
    number=$(github_api POST "repos/$GITHUB_REPOSITORY/issues" "$json" | jq -r .number)
    echo "opened #$number"
  fi
}
