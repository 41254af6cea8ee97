#!/usr/bin/env bash
# Builds the action's image from this checkout, as the release workflow does, printing the
# build's progress (every step and cargo's output) to stderr, prefixed `[build]`.
#
#   scripts/build-image.sh IMAGE
#
# Env: RUST_IMAGE, DEBIAN_IMAGE: base images, passed as build arguments when set (the Dockerfile
# defaults to the official rust:1.95-slim-bookworm and debian:bookworm-slim). NO_CACHE=1: every
# step built anew, as on a runner that starts with no build cache.
set -euo pipefail
image=${1:?usage: build-image.sh IMAGE}
root=$(cd "$(dirname "$0")/.." && pwd)
args=()
for base in RUST_IMAGE DEBIAN_IMAGE; do
  if [[ -n ${!base:-} ]]; then args+=(--build-arg "$base=${!base}"); fi
done
if [[ ${NO_CACHE:-0} == 1 ]]; then args+=(--no-cache); fi
start=$SECONDS
docker build "${args[@]}" -t "$image" "$root" 2>&1 | sed -u 's/^/[build] /' >&2
size=$(docker image inspect -f '{{.Size}}' "$image")
printf '[build] %s built in %ss; size %s (%s bytes)\n' "$image" "$((SECONDS - start))" \
  "$(numfmt --to=iec-i --suffix=B "$size")" "$size" >&2
