#!/usr/bin/env bash
# The release path end to end, offline, and the start-up it buys users:
#
#   1. a real registry (Debian's docker-registry) on REGISTRY_ADDR;
#   2. built: the example workflows under act with the action built from the Dockerfile
#      (.ci/act.sh), timed: the image build + job start -> first patcher line;
#   3. the release workflow itself under act (.ci/release-act.sh): it builds and pushes the
#      image, makes the multi-arch list and pins action.yml to it by digest; checked there;
#   4. every local copy of that image removed, so its layers must come from the registry;
#   5. pulled: the same chain under act with action.yml pinned to the released image
#      (.ci/act.sh with ACTION_IMAGE): each act log must show no build, the image must then be
#      here by its digest; timed: job start -> first patcher line;
#   6. both numbers and their ratio, to the log.
#
# COLD=1 makes step 2 a cold build, as on GitHub's runners: the action images removed, the
# build cache pruned (`docker builder prune -af`) and every Dockerfile step run anew
# (NO_CACHE=1 for scripts/build-image.sh, since the legacy builder's cache is image layers that
# other tags on this machine may share). The base images (patcher-ci/*) are kept.
#
# Env: REGISTRY_ADDR (default 127.0.0.1:5000), COLD=1. Needs docker-registry (apt-get install
# docker-registry), and what .ci/act.sh needs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
addr=${REGISTRY_ADDR:-127.0.0.1:5000}
log() { printf '[registry] %s\n' "$*" >&2; }
fail() {
  log "FAIL: $*"
  exit 1
}

tmp=$(mktemp -d)
registry_pid=
cleanup() {
  if [[ -n $registry_pid ]]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}

start_registry() {
  command -v docker-registry >/dev/null || fail "docker-registry not found: apt-get install docker-registry"
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
    kill -0 "$registry_pid" 2>/dev/null || {
      cat "$tmp/registry.log" >&2
      fail "registry did not start on $addr"
    }
    sleep 0.2
  done
  log "registry on $addr"
}

# The images .ci/act.sh builds for the action, so that a cold build cannot reuse them.
forget_action_images() {
  local images
  mapfile -t images < <(docker images --format '{{.Repository}}:{{.Tag}}' |
    grep -E '^(act-octo-org-patcher-.*-dockeraction:latest|patcher-action:ci)$' || true)
  if ((${#images[@]})); then docker rmi "${images[@]}" >/dev/null; fi
  docker builder prune -af >/dev/null
  log "cold: action images removed, build cache pruned, every step built anew"
}

# Every tag of the image REF names, whatever the repository: a tag left anywhere would keep the
# layers here and the pull would download nothing.
remove_local_copies() {
  local ref=$1 id
  docker pull --quiet "$ref" >/dev/null
  id=$(docker image inspect -f '{{.Id}}' "$ref")
  docker rmi -f "$id" >/dev/null
  if docker image inspect "$ref" >/dev/null 2>&1; then fail "$ref still present locally"; fi
  log "removed every local copy of $ref"
}

# act_chain NAME [VAR=VALUE…]: .ci/act.sh with those variables, its log kept as $tmp/NAME.log,
# its progress lines shown.
act_chain() {
  local name=$1
  shift
  { env "$@" bash "$root/.ci/act.sh" 2>&1 || echo "act.sh exited with $?"; } | tee "$tmp/$name.log" |
    { grep --line-buffered -E 'action image:|job start|passed|FAIL|\[build\] (Step |.*(Downloaded [0-9]+ crates|Compiling patcher|Finished))' || true; } |
    sed -u "s/^/[$name] /" >&2
  if grep -q '^act.sh exited with' "$tmp/$name.log"; then
    fail ".ci/act.sh ($name) failed: $(tail -n 5 "$tmp/$name.log")"
  fi
}

startup() { sed -n 's/.*dev: job start -> first patcher line: \([0-9.]*\)s/\1/p' "$1"; }

main() {
  trap cleanup EXIT
  start_registry
  if [[ ${COLD:-0} == 1 ]]; then
    forget_action_images
    export NO_CACHE=1
  fi
  act_chain built
  unset NO_CACHE
  ref=$(REGISTRY_ADDR=$addr bash "$root/.ci/release-act.sh")
  log "released: $ref"
  remove_local_copies "$ref"
  act_chain pulled "ACTION_IMAGE=$ref"
  docker image inspect "$ref" >/dev/null 2>&1 || fail "act ran without pulling $ref"
  log "act pulled $ref from the registry and built nothing"

  local build built pulled kind=warm
  [[ ${COLD:-0} == 1 ]] && kind=cold
  build=$(sed -n 's/.*action image: \([0-9]*\)s/\1/p' "$tmp/built.log")
  built=$(startup "$tmp/built.log")
  pulled=$(startup "$tmp/pulled.log")
  log "dev job start -> first patcher line: pulled ${pulled}s; built ($kind build cache)" \
    "${build}s image build + ${built}s = $(awk -v b="$build" -v s="$built" -v p="$pulled" \
      'BEGIN { printf "%.1fs, %.1fx the pulled start", b + s, (b + s) / p }')"
  docker rmi "$ref" >/dev/null 2>&1 || true
}

main "$@"
