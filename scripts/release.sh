#!/usr/bin/env bash
# The release workflow's steps that need no GitHub, so they run and are tested on any machine.
#
#   scripts/release.sh check TAG          TAG is vX.Y.Z, equals Cargo.toml's version and has a
#                                         CHANGELOG.md section; prints version=, minor=, major=
#                                         lines for $GITHUB_OUTPUT
#   scripts/release.sh notes TAG          prints TAG's CHANGELOG.md section (the release notes)
#   scripts/release.sh index IMAGE TAG DIST
#                                         joins the pushed IMAGE:TAG-<arch> images, one for each
#                                         DIST/patcher-TAG-linux-<arch> binary, into one
#                                         multi-arch image tagged TAG, vX.Y and vX; prints
#                                         digest=sha256:… for $GITHUB_OUTPUT
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

# The architectures the build job delivered a binary for, from the binaries' names.
built_architectures() {
  local dist=$1 tag=$2 file
  for file in "$dist/patcher-$tag-linux-"*; do
    if [[ -f $file && ${file##*-linux-} =~ ^[a-z0-9]+$ ]]; then printf '%s\n' "${file##*-linux-}"; fi
  done
}

# Docker's daemon speaks plain HTTP to a registry on the loopback address; `docker manifest`
# only when told to.
#   manifest IMAGE COMMAND ARGS…   (IMAGE names the registry)
manifest() {
  local registry=${1%%/*} command=$2
  shift 2
  if [[ $registry =~ ^(127\.[0-9.]+|localhost)(:[0-9]+)?$ ]]; then
    docker manifest "$command" --insecure "$@"
  else
    docker manifest "$command" "$@"
  fi
}

# One manifest list per tag, each naming the per-architecture images; the lists are equal, so
# the three tags share one digest, which is checked.
index() {
  local image=$1 tag=$2 dist=$3 arches=() sources=() digests=() arch name platforms
  semver "$tag"
  local major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
  mapfile -t arches < <(built_architectures "$dist" "$tag")
  ((${#arches[@]})) || fail "no $dist/patcher-$tag-linux-<arch> binary"
  for arch in "${arches[@]}"; do sources+=("$image:$tag-$arch"); done
  for name in "$tag" "v$major.$minor" "v$major"; do
    manifest "$image" create "$image:$name" "${sources[@]}" >&2
    digests+=("$(manifest "$image" push --purge "$image:$name" | tail -n 1)")
  done
  [[ ${digests[0]} =~ ^sha256:[0-9a-f]{64}$ ]] || fail "docker manifest push printed '${digests[0]}'"
  [[ ${digests[1]} == "${digests[0]}" && ${digests[2]} == "${digests[0]}" ]] ||
    fail "the tags of $image got different digests: ${digests[*]}"
  platforms=$(manifest "$image" inspect "$image:$tag@${digests[0]}" |
    jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | sort | join(" ")')
  [[ $platforms == "$(printf 'linux/%s\n' "${arches[@]}" | sort | paste -sd ' ')" ]] ||
    fail "$image:$tag is for $platforms, the binaries for ${arches[*]}"
  echo "[release] $image:$tag, v$major.$minor, v$major = ${digests[0]} ($platforms)" >&2
  printf 'digest=%s\n' "${digests[0]}"
}

case ${1:-} in
  check) check "${2:?usage: release.sh check TAG}" ;;
  notes) notes "${2:?usage: release.sh notes TAG}" ;;
  index) index "${2:?usage: release.sh index IMAGE TAG DIST}" "${3:?usage: release.sh index IMAGE TAG DIST}" \
    "${4:?usage: release.sh index IMAGE TAG DIST}" ;;
  pin-image) pin_image "${2:?usage: release.sh pin-image NAME:TAG@sha256:DIGEST}" ;;
  *) fail "usage: release.sh check|notes TAG, release.sh index IMAGE TAG DIST, release.sh pin-image REF" ;;
esac
