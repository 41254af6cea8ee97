#!/usr/bin/env bash
# Runs the release workflow (.github/workflows/release.yml) under act, offline, on a tag of a
# scratch copy of this checkout, and checks what it published:
#
#   * the registry at REGISTRY_ADDR (.ci/registry.sh starts one) serves one manifest list for
#     vX.Y.Z, vX.Y and vX, with the same digest, for linux/amd64 (this machine builds no arm64);
#   * the scratch origin's tags vX.Y.Z, vX.Y and vX moved to a release commit on top of the tag
#     whose only change is action.yml's `image: docker://…:vX.Y.Z@sha256:<that digest>`;
#   * the release got the binary and a SHA256SUMS that matches it, and the binary is the one
#     inside the pushed image; its notes are the CHANGELOG.md section;
#   * provenance was asked for those binaries and that image digest.
#
# The workflow runs as GitHub runs it, jobs on this host (-P …=-self-hosted), the build job for
# amd64 only (--matrix arch:amd64). What needs github.com is replaced through act's own flags:
# actions/upload-artifact, download-artifact and attest-build-provenance by local stand-ins
# (--local-repository), `gh` by a stand-in first on PATH, github.com/octo-org/patcher.git by a
# bare repository (an `insteadOf` rule in GIT_CONFIG_GLOBAL), ghcr.io by the local registry
# (--var RELEASE_IMAGE). actions/checkout of the workflow's own repository is act's copy of
# the working directory. Prints the pinned image (NAME:vX.Y.Z@sha256:…) on stdout.
#
# Env: REGISTRY_ADDR (default 127.0.0.1:5000), KEEP=1 keeps the scratch folder.
set -euo pipefail
cd "$(dirname "$0")/.."
repo_root=$PWD
addr=${REGISTRY_ADDR:-127.0.0.1:5000}
REPOSITORY=octo-org/patcher
image=$addr/$REPOSITORY
workflow=.github/workflows/release.yml

log() { printf '[release-act] %s\n' "$*" >&2; }
fail() {
  log "FAIL: $*"
  exit 1
}

cleanup() {
  if [[ ${KEEP:-0} == 1 ]]; then log "kept: $scratch"; else rm -rf "$scratch"; fi
}

# A clone of this checkout where the maintainer's release steps happened (README "Releasing"):
# the Unreleased entries under the version's heading, committed and tagged; its bare copy is
# the origin the workflow pushes to.
make_origin() {
  local work=$scratch/work
  "$repo_root/.ci/export-checkout.sh" "$work"
  sed -i "s/^## \[Unreleased\]\$/## [Unreleased]\n\n## [${tag#v}] - $(date -u +%F)/" "$work/CHANGELOG.md"
  git -C "$work" init --quiet --initial-branch=main
  git -C "$work" add -A
  git -C "$work" -c user.name=maintainer -c user.email=maintainer@example.invalid \
    commit --quiet -m "Release $tag"
  git -C "$work" tag "$tag"
  git clone --quiet --bare "$work" "$scratch/origin.git"
  printf '[url "file://%s"]\n\tinsteadOf = https://github.com/%s.git\n' \
    "$scratch/origin.git" "$REPOSITORY" >"$scratch/gitconfig"
  # act names the repository (github.repository) after the working directory's origin.
  GIT_CONFIG_GLOBAL=$scratch/gitconfig GIT_CONFIG_NOSYSTEM=1 \
    git clone --quiet --branch "$tag" "https://github.com/$REPOSITORY.git" "$scratch/workdir" 2>/dev/null
  tagged=$(git -C "$scratch/workdir" rev-parse HEAD)
}

# stand_in NAME DESCRIPTION INPUTS SCRIPT: a composite action in $scratch/NAME whose one step
# runs SCRIPT with each input in $INPUT_<NAME> (upper case, `-` as `_`).
stand_in() {
  local name=$1 description=$2 inputs=$3 script=$4 input key env=""
  mkdir -p "$scratch/stand-ins/$name"
  for input in $inputs; do
    key=${input//-/_}
    env+="        INPUT_${key^^}: \${{ inputs.$input }}"$'\n'
  done
  {
    printf 'name: %s stand-in\ndescription: %s\ninputs:\n' "$name" "$description"
    for input in $inputs; do printf '  %s: { required: false, default: "" }\n' "$input"; done
    printf 'runs:\n  using: composite\n  steps:\n    - shell: bash\n      env:\n%s' "$env"
    printf '      run: |\n'
    printf '        %s\n' "${script//$'\n'/$'\n'        }"
  } >"$scratch/stand-ins/$name/action.yml"
}

make_stand_ins() {
  local store=$scratch/artifacts attested=$scratch/attested
  stand_in upload-artifact "copies the files to $store/NAME" "name path if-no-files-found" "
mkdir -p \"$store/\$INPUT_NAME\"
cp \$INPUT_PATH \"$store/\$INPUT_NAME/\""
  stand_in download-artifact "copies $store/PATTERN's files to PATH" "pattern path merge-multiple" "
mkdir -p \"\$INPUT_PATH\"
for dir in $store/\$INPUT_PATTERN; do cp \"\$dir\"/* \"\$INPUT_PATH/\"; done"
  stand_in attest-build-provenance "records the subjects in $attested" \
    "subject-path subject-name subject-digest push-to-registry" "
if [ -n \"\$INPUT_SUBJECT_PATH\" ]; then sha256sum \$INPUT_SUBJECT_PATH >>\"$attested\"; fi
if [ -n \"\$INPUT_SUBJECT_NAME\" ]; then
  echo \"\$INPUT_SUBJECT_NAME@\$INPUT_SUBJECT_DIGEST push=\$INPUT_PUSH_TO_REGISTRY\" >>\"$attested\"
fi"
  mkdir -p "$scratch/bin"
  cat >"$scratch/bin/gh" <<SH
#!/usr/bin/env bash
# gh stand-in: \`gh release create TAG FILE… --verify-tag --title T --notes-file F\` copies the
# files to $scratch/releases/TAG, once the tag exists on the origin.
set -euo pipefail
[[ "\$1 \$2" == "release create" ]] || { echo "gh stand-in: unexpected: \$*" >&2; exit 1; }
tag=\$3 dest=$scratch/releases/\$3
shift 3
git ls-remote --exit-code "https://github.com/$REPOSITORY.git" "refs/tags/\$tag" >/dev/null
mkdir -p "\$dest"
while ((\$#)); do
  case \$1 in
    --verify-tag) shift ;;
    --title) echo "\$2" >"\$dest/.title"; shift 2 ;;
    --notes-file) cp "\$2" "\$dest/.notes"; shift 2 ;;
    -*) echo "gh stand-in: unknown flag \$1" >&2; exit 1 ;;
    *) cp "\$1" "\$dest/"; shift ;;
  esac
done
SH
  chmod +x "$scratch/bin/gh"
}

# --local-repository for every remote action release.yml uses, but checkout.
stand_in_flags() {
  local uses name all
  mapfile -t all < <(sed -nE 's/^ *- uses: (actions\/[a-z-]+@[0-9a-f]{40}).*/\1/p' "$repo_root/$workflow" | sort -u)
  for uses in "${all[@]}"; do
    name=${uses#actions/}
    name=${name%@*}
    [[ $name == checkout ]] && continue
    [[ -d $scratch/stand-ins/$name ]] || fail "$workflow uses $uses, which has no stand-in"
    printf -- '--local-repository\n%s=%s\n' "$uses" "$scratch/stand-ins/$name"
  done
}

# Prefixes each line with the seconds since the start; steps and build progress to stderr.
progress() {
  python3 -u -c 'import sys, time, re
start = time.time()
keep = re.compile(r"(⭐ Run |✅ |❌ |\[build\] Step |\[build\] .* built in |\[release\] )")
for line in sys.stdin:
    sys.stdout.write(line)
    if keep.search(line): sys.stderr.write(f"[release-act] {time.time() - start:6.1f}s {line}")'
}

run_release() {
  local status=0 flags
  mapfile -t flags < <(stand_in_flags)
  printf '{"ref": "refs/tags/%s"}\n' "$tag" >"$scratch/push.json"
  mkdir -p "$scratch/docker"
  # shellcheck source=.ci/base-images.sh
  source "$repo_root/.ci/base-images.sh"
  log "act push $tag on $workflow (log: $scratch/release.log)"
  PATH=$scratch/bin:$PATH act push \
    -C "$scratch/workdir" \
    -W "$scratch/workdir/$workflow" \
    -e "$scratch/push.json" \
    -P ubuntu-24.04=-self-hosted \
    -P ubuntu-24.04-arm=-self-hosted \
    --matrix arch:amd64 \
    --pull=false \
    --action-offline-mode \
    --no-cache-server \
    --action-cache-path "$scratch/act-cache" \
    "${flags[@]}" \
    --var "RELEASE_IMAGE=$image" \
    --env "RUST_IMAGE=$RUST_IMAGE" \
    --env "DEBIAN_IMAGE=$DEBIAN_IMAGE" \
    --env "DOCKER_CONFIG=$scratch/docker" \
    --env "GIT_CONFIG_GLOBAL=$scratch/gitconfig" \
    --env GIT_CONFIG_NOSYSTEM=1 \
    -s GITHUB_TOKEN \
    2>&1 | progress >"$scratch/release.log" || status=$?
  if ((status != 0)); then
    tail -n 60 "$scratch/release.log" >&2
    fail "act push on $workflow exited with $status"
  fi
}

# --- checks ------------------------------------------------------------------------------------

accept=application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.list.v2+json
accept+=,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json

# Each tag is one list for linux/amd64 with one digest; sets $digest.
check_registry() {
  local name headers body got
  digest=
  for name in "$tag" "v$major.$minor" "v$major"; do
    headers=$(curl -fsS -o "$scratch/manifest.json" -D - -H "Accept: $accept" "http://$addr/v2/$REPOSITORY/manifests/$name") ||
      fail "the registry has no $image:$name"
    got=$(tr -d '\r' <<<"$headers" | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
    body=$(cat "$scratch/manifest.json")
    [[ $got =~ ^sha256:[0-9a-f]{64}$ ]] || fail "$image:$name: no digest"
    [[ -z $digest || $got == "$digest" ]] || fail "$image:$name is $got, $image:$tag is $digest"
    digest=$got
    jq -e '(.mediaType | test("manifest.list|image.index")) and
      ([.manifests[].platform | "\(.os)/\(.architecture)"] == ["linux/amd64"])' <<<"$body" >/dev/null ||
      fail "$image:$name is not a linux/amd64 list: $body"
  done
  log "ok: $image:$tag, v$major.$minor, v$major = $digest (a list for linux/amd64)"
}

# The tags moved to one commit on top of the tagged one that changes action.yml's image only.
check_release_commit() {
  local origin=$scratch/origin.git name commit want
  commit=$(git --git-dir="$origin" rev-parse "refs/tags/$tag^{commit}")
  for name in "v$major.$minor" "v$major"; do
    [[ $(git --git-dir="$origin" rev-parse "refs/tags/$name^{commit}") == "$commit" ]] ||
      fail "origin's $name is not at $tag"
  done
  [[ $(git --git-dir="$origin" rev-parse "$commit^") == "$tagged" ]] ||
    fail "the release commit is not on top of the tagged commit"
  [[ $(git --git-dir="$origin" diff --name-only "$tagged" "$commit") == action.yml ]] ||
    fail "the release commit changes more than action.yml"
  want="  image: docker://$image:$tag@$digest"
  [[ $(git --git-dir="$origin" show "$commit:action.yml" | grep -E '^  image: ') == "$want" ]] ||
    fail "action.yml at $tag does not say '$want'"
  log "ok: origin's $tag, v$major.$minor, v$major at the release commit, action.yml:$want"
}

# The release's files: the binary, SHA256SUMS that matches it, the changelog section as notes;
# the binary is the one in the pushed image; the provenance names both.
check_release_files() {
  local dir=$scratch/releases/$tag binary=patcher-$tag-linux-amd64 container
  [[ $(cd "$dir" && LC_ALL=C ls) == SHA256SUMS$'\n'"$binary" ]] || fail "release files: $(cd "$dir" && ls)"
  (cd "$dir" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match the binary"
  [[ $(wc -l <"$dir/SHA256SUMS") == 1 ]] || fail "SHA256SUMS: $(cat "$dir/SHA256SUMS")"
  diff <(ROOT=$scratch/work "$repo_root/scripts/release.sh" notes "$tag") "$dir/.notes" >&2 ||
    fail "release notes are not the CHANGELOG.md section"
  docker pull --quiet "$image@$digest" >/dev/null
  container=$(docker create "$image@$digest")
  docker cp --quiet "$container:/usr/local/bin/patcher" "$scratch/from-image"
  docker rm "$container" >/dev/null
  cmp -s "$scratch/from-image" "$dir/$binary" || fail "the released binary is not the image's"
  grep -qxF "$(cat "$dir/SHA256SUMS")" <(sed 's#  dist/#  #' "$scratch/attested") ||
    fail "no provenance for $binary: $(cat "$scratch/attested")"
  grep -qxF "$image@$digest push=true" "$scratch/attested" || fail "no provenance for $image@$digest"
  log "ok: release $tag has $binary and SHA256SUMS ($(cut -c1-12 "$dir/SHA256SUMS")…), the image's binary; notes; provenance"
}

main() {
  local start=$SECONDS version
  command -v act >/dev/null || fail "act not found (.ci/act.sh installs it)"
  curl -fsS "http://$addr/v2/" >/dev/null || fail "no registry on $addr (.ci/registry.sh starts one)"
  export ACT_DISABLE_VERSION_CHECK=1
  version=$(awk -F'"' '/^version/ { print $2; exit }' Cargo.toml)
  tag=v$version
  IFS=. read -r major minor _ <<<"$version"
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/patcher-release-act.XXXXXX")
  scratch=$(cd "$scratch" && pwd -P)
  trap cleanup EXIT
  GITHUB_TOKEN=ghs_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  export GITHUB_TOKEN
  make_origin
  make_stand_ins
  run_release
  log "release workflow under act: $((SECONDS - start))s"
  check_registry
  check_release_commit
  check_release_files
  log "OK in $((SECONDS - start))s"
  printf '%s:%s@%s\n' "$image" "$tag" "$digest"
}

main "$@"
