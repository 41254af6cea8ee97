#!/usr/bin/env bash
# The release path end to end, offline: a real registry (Debian's docker-registry) on
# 127.0.0.1:5000, the image built as the release builds it (scripts/build-image.sh) and pushed,
# the local copy removed, then the example workflows under act with action.yml pinned to the
# pushed image by digest as a release pins it (.ci/act.sh with ACTION_IMAGE). Checks the act log
# shows no build and that the image came from the registry, and prints job start -> first
# patcher line for the built (.ci/act.sh without ACTION_IMAGE, run first) and pulled runs.
#
# Env: REGISTRY_ADDR (default 127.0.0.1:5000). Needs docker-registry (apt-get install
# docker-registry), and what .ci/act.sh needs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
addr=${REGISTRY_ADDR:-127.0.0.1:5000}
log() { printf '[registry] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

command -v docker-registry >/dev/null || fail "docker-registry not found: apt-get install docker-registry"
tmp=$(mktemp -d)
registry_pid=
cleanup() {
  if [[ -n $registry_pid ]]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/config.yml" <<YAML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $tmp/storage } }
http: { addr: $addr }
YAML
docker-registry serve "$tmp/config.yml" >"$tmp/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do
  curl -fsS "http://$addr/v2/" >/dev/null 2>&1 && break
  kill -0 "$registry_pid" 2>/dev/null || { cat "$tmp/registry.log" >&2; fail "registry did not start on $addr"; }
  sleep 0.2
done
log "registry on $addr"

# The image act.sh built, removed so that the pulled run downloads every layer.
remove_action_images() {
  local pattern='^act-octo-org-patcher-.*-dockeraction:latest$' images
  mapfile -t images < <(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "$pattern" || true)
  if ((${#images[@]})); then docker rmi "${images[@]}" >/dev/null; fi
}

# The built run first: .ci/act.sh builds the image from the Dockerfile (layer cache as this
# machine has it) before the jobs, so built = that build + job start -> first patcher line.
bash "$root/.ci/act.sh" 2>&1 | tee "$tmp/built.log" | grep -E 'action image:|job start|passed|FAIL' >&2

# shellcheck source=.ci/base-images.sh
source "$root/.ci/base-images.sh"
version=v$(awk -F'"' '/^version/ { print $2; exit }' "$root/Cargo.toml")
image=$addr/octo-org/patcher
"$root/scripts/build-image.sh" "$image:$version-amd64"
docker push --quiet "$image:$version-amd64" >&2
digest=$(docker image inspect -f '{{index .RepoDigests 0}}' "$image:$version-amd64" | sed 's/.*@//')
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || fail "no digest for $image:$version-amd64"
ref=$image:$version@$digest
docker tag "$image:$version-amd64" "$image:$version"
docker push --quiet "$image:$version" >&2
docker rmi "$image:$version-amd64" "$image:$version" >/dev/null
remove_action_images
if docker image inspect "$ref" >/dev/null 2>&1; then fail "$ref still present locally"; fi
log "pushed and removed locally: $ref"

ACTION_IMAGE=$ref bash "$root/.ci/act.sh" 2>&1 | tee "$tmp/pulled.log" | grep -E 'job start|passed|FAIL|image:' >&2
docker image inspect "$ref" >/dev/null 2>&1 || fail "act ran without pulling $ref"
log "act pulled $ref from the registry and built nothing"
startup() { sed -n 's/.*dev: job start -> first patcher line: \([0-9.]*\)s/\1/p' "$1"; }
build=$(sed -n 's/.*action image: \([0-9]*\)s/\1/p' "$tmp/built.log")
built=$(startup "$tmp/built.log")
pulled=$(startup "$tmp/pulled.log")
log "dev job start -> first patcher line: pulled ${pulled}s; built ${build}s image build + ${built}s" \
  "= $(awk -v b="$build" -v s="$built" -v p="$pulled" 'BEGIN { printf "%.1fs, %.0fx the pulled start", b + s, (b + s) / p }')"
docker rmi "$ref" >/dev/null 2>&1 || true
