# shellcheck shell=bash
# Sourced by the CI scripts: the local stand-ins .ci/docker-bases.sh makes for the official base
# images, passed to the Dockerfile as build arguments (it defaults to the official images).
export DEBIAN_IMAGE=${DEBIAN_IMAGE:-patcher-ci/debian:bookworm-slim}
export RUST_IMAGE=${RUST_IMAGE:-patcher-ci/rust:1.95-slim-bookworm}
