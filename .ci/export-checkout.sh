#!/usr/bin/env bash
# Copies what a push of this checkout would publish (tracked and untracked-but-not-ignored
# files) to DEST: act copies an action's folder whole, and target/ alone would be gigabytes.
#   .ci/export-checkout.sh DEST
set -euo pipefail
dest=${1:?usage: export-checkout.sh DEST}
cd "$(dirname "$0")/.."
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
  tar --null -T - -c | tar -x -C "$dest"
