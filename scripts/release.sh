#!/usr/bin/env bash
# The release workflow's steps that need no GitHub, so they run and are tested on any machine.
#
#   scripts/release.sh check TAG          TAG is vX.Y.Z, equals Cargo.toml's version and has a
#                                         CHANGELOG.md section; prints version=, minor=, major=
#                                         lines for $GITHUB_OUTPUT
#   scripts/release.sh notes TAG          prints TAG's CHANGELOG.md section (the release notes)
#   scripts/release.sh pin-image REF      rewrites action.yml's runs.image to docker://REF, where
#                                         REF is NAME:TAG@sha256:<64 hex> (the pushed image)
#
# Env: ROOT, the checkout to work on (default: this script's repository).
set -euo pipefail
root=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}

fail() {
  echo "release: $*" >&2
  exit 1
}

semver() {
  [[ $1 =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]] ||
    fail "tag '$1' is not vMAJOR.MINOR.PATCH"
}

cargo_version() {
  awk -F'"' '/^\[/ { package = ($0 == "[package]") } package && /^version *=/ { print $2; exit }' \
    "$root/Cargo.toml"
}

# The lines after `## [X.Y.Z]` up to the next `## ` heading or link definitions, trimmed.
notes() {
  semver "$1"
  local version=${1#v} text
  text=$(awk -v head="## [$version]" '
    index($0, head) == 1 { found = 1; next }
    found && (/^## / || /^\[[^]]+\]: /) { exit }
    found { print }' "$root/CHANGELOG.md" | sed -e '/./,$!d')
  grep -qE '^[[:space:]]*[-*] ' <<<"$text" || fail "CHANGELOG.md has no '## [$version]' section with entries"
  printf '%s\n' "$text"
}

check() {
  semver "$1"
  local version=${1#v} major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]} cargo
  cargo=$(cargo_version)
  [[ $cargo == "$version" ]] || fail "tag $1 but Cargo.toml says version $cargo"
  notes "$1" >/dev/null
  printf 'version=%s\nminor=v%s.%s\nmajor=v%s\n' "$1" "$major" "$minor" "$major"
}

# One `image:` line under `runs:`, replaced through a temporary file so a failure leaves
# action.yml as it was.
pin_image() {
  local ref=$1 file=$root/action.yml
  [[ $ref =~ ^[a-z0-9][a-z0-9._:/-]*:[A-Za-z0-9_][A-Za-z0-9_.-]*@sha256:[0-9a-f]{64}$ ]] ||
    fail "image '$ref' is not NAME:TAG@sha256:<digest>"
  [[ $(grep -cE '^  image: ' "$file") == 1 ]] || fail "$file: expected one '  image:' line under runs"
  sed -E "s#^  image: .*#  image: docker://$ref#" "$file" >"$file.tmp"
  mv "$file.tmp" "$file"
  grep -E '^  image: ' "$file"
}

case ${1:-} in
  check) check "${2:?usage: release.sh check TAG}" ;;
  notes) notes "${2:?usage: release.sh notes TAG}" ;;
  pin-image) pin_image "${2:?usage: release.sh pin-image NAME:TAG@sha256:DIGEST}" ;;
  *) fail "usage: release.sh check|notes TAG, release.sh pin-image REF" ;;
esac
