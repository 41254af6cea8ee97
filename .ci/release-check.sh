#!/usr/bin/env bash
# Runs scripts/release.sh on a scratch copy of the release files and checks each answer: the
# outputs the release workflow reads, the notes, pin-image's rewrite, and refusals of bad input.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
release=$root/scripts/release.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "[release-check] FAIL: $*" >&2; exit 1; }

cp "$root/Cargo.toml" "$root/action.yml" "$tmp/"
version=$( (ROOT=$tmp "$release" check "v0.0.0" 2>&1 || true) | sed -n 's/.*Cargo.toml says version //p')
[[ -n $version ]] || fail "check did not name Cargo.toml's version"
IFS=. read -r major minor _ <<<"$version"
printf '# Changelog\n\n## [Unreleased]\n\n## [%s] - 2026-12-02\n\n### Added\n\n- the thing\n\n## [0.0.1] - 2026-01-01\n\n- old\n\n[Unreleased]: https://example.invalid\n' \
  "$version" >"$tmp/CHANGELOG.md"
export ROOT=$tmp

[[ $("$release" check "v$version") == "version=v$version"$'\n'"minor=v$major.$minor"$'\n'"major=v$major" ]] ||
  fail "check v$version: $("$release" check "v$version")"
[[ $("$release" notes "v$version") == $'### Added\n\n- the thing' ]] || fail "notes: $("$release" notes "v$version")"
for bad in "$version" "v$version-rc1" "v0$version" "v9.9.9"; do
  if "$release" check "$bad" 2>/dev/null; then fail "check accepted $bad"; fi
done
sed -i "s/^## \[$version\].*/## [$version] - 2026-12-02\n/" "$tmp/CHANGELOG.md"
sed -i '/- the thing/d' "$tmp/CHANGELOG.md"
if "$release" check "v$version" 2>/dev/null; then fail "check accepted an empty changelog section"; fi

digest=sha256:$(printf '%064d' 7)
ref="127.0.0.1:5000/octo-org/patcher:v$version@$digest"
"$release" pin-image "$ref" >/dev/null
diff <(sed "s#^  image: Dockerfile#  image: docker://$ref#" "$root/action.yml") "$tmp/action.yml" ||
  fail "pin-image changed more than runs.image"
for bad in "x:y" "octo-org/patcher@$digest" "Octo/patcher:v1@$digest" "a:b@sha256:12"; do
  cp "$tmp/action.yml" "$tmp/before"
  if "$release" pin-image "$bad" 2>/dev/null; then fail "pin-image accepted $bad"; fi
  cmp -s "$tmp/before" "$tmp/action.yml" || fail "a refused pin-image changed action.yml"
done
mkdir "$tmp/dist"
touch "$tmp/dist/patcher-v$version-linux-amd64.sha256"
if "$release" index 127.0.0.1:9/octo-org/patcher "v$version" "$tmp/dist" 2>"$tmp/err" ||
  ! grep -q "no $tmp/dist/patcher-v$version-linux-<arch> binary" "$tmp/err"; then
  fail "index did not refuse a dist/ without a patcher-v$version-linux-<arch> binary: $(cat "$tmp/err")"
fi
if "$release" index 127.0.0.1:9/octo-org/patcher "$version" "$tmp/dist" 2>/dev/null; then
  fail "index accepted the tag $version"
fi
echo "[release-check] OK: check, notes, pin-image, index refusals"
