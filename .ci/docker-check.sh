#!/usr/bin/env bash
# Builds the repository's Dockerfile and runs the image the way GitHub's runner runs a Docker
# action: as root, --workdir /github/workspace, the checkout mounted from a folder owned by another
# uid, file commands under /github/file_commands, HOME=/github/home, INPUT_* and GITHUB_* set.
# It then checks that `report` wrote the `spec` output and a job summary.
#
# GitHub is not reachable here, so the module repositories the tree names
# (https://github.com/acme/...) are local bare repos mounted at /remotes, reached through an
# insteadOf rule in the container's ~/.gitconfig: the binary runs its real git code path.
#
# Needs the base images: .ci/docker-bases.sh makes them (cached). Also checks that the image's git
# reaches its HTTPS helper, which the file:// remotes here do not exercise. Env: IMAGE (default
# patcher-action:ci), RUNNER_UID (owner of the mounted checkout, default 1001). Runs as root (chown).
set -euo pipefail

IMAGE=${IMAGE:-patcher-action:ci}
RUNNER_UID=${RUNNER_UID:-1001}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

log() { printf '[docker-check] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

build_image() {
  # shellcheck source=.ci/base-images.sh
  source "$ROOT/.ci/base-images.sh"
  "$ROOT/scripts/build-image.sh" "$IMAGE"
}

git_quiet() { git -c user.name=ci -c user.email=ci@example.invalid -c init.defaultBranch=main "$@" >/dev/null; }

# One bare repo per module repository, with the given tags, each tag a commit of modules/<name>.
make_remote() {
  local remotes=$1 repo=$2 module=$3 work
  shift 3
  work=$(mktemp -d -p "$TMP")
  git_quiet init "$work"
  mkdir -p "$work/modules/$module"
  for tag in "$@"; do
    printf 'variable "name" {}\n# %s\n' "$tag" >"$work/modules/$module/main.tf"
    git_quiet -C "$work" add -A
    git_quiet -C "$work" commit -m "$module $tag"
    git_quiet -C "$work" tag "$tag"
  done
  git_quiet clone -q --bare "$work" "$remotes/acme/$repo.git"
}

unit() {
  local dir=$1 source=$2
  mkdir -p "$dir"
  printf 'terraform {\n  source = "%s"\n}\n\ninputs = {\n  name = "%s"\n}\n' "$source" "${dir##*/}" >"$dir/terragrunt.hcl"
}

# An infrastructure-live tree: dev, stage and prod, each a couple of terragrunt units.
make_workspace() {
  local ws=$1 gh=git::https://github.com/acme
  unit "$ws/dev/us-east-1/sqs" "$gh/terraform-aws-sqs.git//modules/sqs?ref=v1.0.0"
  unit "$ws/dev/us-east-1/vpc" "$gh/terraform-aws-vpc.git//modules/vpc?ref=v0.4.0"
  unit "$ws/stage/us-east-1/sqs" "$gh/terraform-aws-sqs.git//modules/sqs?ref=v1.0.0"
  unit "$ws/stage/us-east-1/vpc" "$gh/terraform-aws-vpc.git//modules/vpc?ref=v0.4.0"
  unit "$ws/prod/us-east-1/sqs" "$gh/terraform-aws-sqs.git//modules/sqs?ref=v1.0.0"
  git_quiet init "$ws"
  git_quiet -C "$ws" add -A
  git_quiet -C "$ws" commit -m "infrastructure-live"
  chown -R "$RUNNER_UID:$RUNNER_UID" "$ws"
}

prepare() {
  mkdir -p "$TMP"/{remotes/acme,workspace,home,workflow,file_commands}
  make_remote "$TMP/remotes" terraform-aws-sqs sqs v1.0.0 v1.1.0 v2.0.0
  make_remote "$TMP/remotes" terraform-aws-vpc vpc v0.4.0 v0.4.2 v0.5.0
  make_workspace "$TMP/workspace"
  printf '[url "file:///remotes/acme/"]\n\tinsteadOf = https://github.com/acme/\n' >"$TMP/home/.gitconfig"
  printf '{"ref":"refs/heads/main","inputs":{},"repository":{"full_name":"acme/infrastructure-live","default_branch":"main"}}\n' \
    >"$TMP/workflow/event.json"
  : >"$TMP/file_commands/set_output_ci"
  : >"$TMP/file_commands/step_summary_ci"
}

run_action() {
  local status=0
  docker run --rm --workdir /github/workspace \
    -v "$TMP/workspace:/github/workspace" \
    -v "$TMP/home:/github/home" \
    -v "$TMP/workflow:/github/workflow" \
    -v "$TMP/file_commands:/github/file_commands" \
    -v "$TMP/remotes:/remotes:ro" \
    -e HOME=/github/home -e CI=true -e GITHUB_ACTIONS=true \
    -e GITHUB_WORKSPACE=/github/workspace \
    -e GITHUB_EVENT_NAME=workflow_dispatch -e GITHUB_EVENT_PATH=/github/workflow/event.json \
    -e GITHUB_OUTPUT=/github/file_commands/set_output_ci \
    -e GITHUB_STEP_SUMMARY=/github/file_commands/step_summary_ci \
    -e GITHUB_REPOSITORY=acme/infrastructure-live -e GITHUB_REF=refs/heads/main \
    -e GITHUB_SERVER_URL=https://github.com -e GITHUB_API_URL=https://api.github.com \
    -e INPUT_PATCHER_COMMAND=report -e INPUT_WORKING_DIR=./ -e 'INPUT_INCLUDE_DIRS={*dev*}/**' \
    "$IMAGE" >"$TMP/stdout" 2>"$TMP/stderr" || status=$?
  sed 's/^/  | /' "$TMP/stdout" "$TMP/stderr" >&2
  [[ $status == 0 ]] || fail "container exited with $status"
}

# Reads the `spec` output (name=value or name<<DELIM heredoc) and checks what dev needs:
# sqs v1.0.0 -> v1.1.0 (next-safe), vpc v0.4.0 -> v0.4.2 (0.x: minor is breaking); stage/prod
# folders stay out of the spec.
check_outputs() {
  [[ -s "$TMP/file_commands/step_summary_ci" ]] || fail "job summary is empty"
  python3 - "$TMP/file_commands/set_output_ci" <<'PY' || fail "spec output"
import json, sys
text = open(sys.argv[1]).read().split("\n")
outputs, i = {}, 0
while i < len(text):
    line = text[i]
    if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
        name, delim = line.split("<<", 1)
        end = text.index(delim, i + 1)
        outputs[name] = "\n".join(text[i + 1:end])
        i = end
    elif "=" in line:
        name, value = line.split("=", 1)
        outputs[name] = value
    i += 1
assert "spec" in outputs, f"no spec output among {sorted(outputs)}"
deps = {d["ID"]: d for d in json.loads(outputs["spec"])["Dependencies"]}
want = {"acme/terraform-aws-sqs/sqs": "v1.1.0", "acme/terraform-aws-vpc/vpc": "v0.4.2"}
got = {i: deps[i].get("TargetSafeVersion") for i in deps}
assert got == want, f"spec dependencies {got}, expected {want}"
for dep in deps.values():
    for usage in dep.get("Usages", []):
        assert str(usage["File"]).startswith("dev/"), f"usage outside dev: {usage}"
print(f"[docker-check] spec: {len(deps)} dependencies, targets {got}", file=sys.stderr)
PY
  [[ -z "$(git -C "$TMP/workspace" -c safe.directory='*' status --porcelain)" ]] ||
    fail "report changed the checkout"
  [[ "$(stat -c %u "$TMP/workspace/dev")" == "$RUNNER_UID" ]] || fail "checkout ownership changed"
}

# An HTTPS fetch from a port nothing listens on must fail to connect, which shows git found
# git-remote-https and its TLS libraries (a missing helper or library fails differently).
check_https_helper() {
  local out
  out=$(docker run --rm --entrypoint git "$IMAGE" ls-remote https://127.0.0.1:9/none.git 2>&1) &&
    fail "git ls-remote to a closed port succeeded"
  grep -qiE "failed to connect|couldn't connect" <<<"$out" || fail "git over HTTPS: $out"
  log "git over HTTPS: helper and libraries present ($out)"
}

main() {
  local start=$SECONDS
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  build_image
  check_https_helper
  prepare
  run_action
  check_outputs
  log "OK in $((SECONDS - start))s"
}

main "$@"
