#!/usr/bin/env bash
# Makes stand-ins for the two base images the repository's Dockerfile defaults to
# (debian:bookworm-slim, rust:1.95-slim-bookworm) on a machine that reaches Debian's mirror but no
# container registry, under local names (.ci/base-images.sh) that the CI scripts pass to the
# Dockerfile as DEBIAN_IMAGE and RUST_IMAGE. The debian image is a debootstrap'ed rootfs; the rust
# image adds the host's rustup toolchain laid out like the official rust image (/usr/local/rustup,
# /usr/local/cargo). Images that already exist are kept, so a warm run costs nothing.
#
# Env: DEBIAN_MIRROR (default: the mirror this host's apt uses), RUST_VERSION (default 1.95.0),
#      FORCE=1 to rebuild both images. Runs as root (debootstrap, apt-get).
set -euo pipefail

# shellcheck source=.ci/base-images.sh
source "$(dirname "$0")/base-images.sh"
DEBIAN_TAG=$DEBIAN_IMAGE
RUST_TAG=$RUST_IMAGE
RUST_VERSION=${RUST_VERSION:-1.95.0}
TRIPLE=x86_64-unknown-linux-gnu

log() { printf '[docker-bases] %s\n' "$*" >&2; }

have_image() { [[ "${FORCE:-0}" != 1 ]] && docker image inspect "$1" >/dev/null 2>&1; }

timed() {
  local label=$1 start=$SECONDS
  shift
  "$@"
  log "$label: $((SECONDS - start))s"
}

# The mirror apt already uses here is the one known to be reachable; security/updates suites live
# under other paths and cannot serve a debootstrap of bookworm.
host_mirror() {
  grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null |
    tr -d ' ' | awk '!/security/ { print; exit }' || true
}

ensure_debootstrap() {
  command -v debootstrap >/dev/null && return
  log "installing debootstrap"
  apt-get install -y --no-install-recommends debootstrap >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends debootstrap >/dev/null; }
}

# Trims the minbase rootfs the way the official -slim images do: no docs, man pages or locales now
# or in later apt-get installs, and apt caches cleaned after each install.
slim_rootfs() {
  local root=$1
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
CFG
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
CFG
  echo 'APT::Install-Recommends "false";' >"$root/etc/apt/apt.conf.d/docker-no-recommends"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<'CFG'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
CFG
  rm -f "$root/etc/apt/sources.list"
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{man,info,groff,lintian,linda,locale}/* \
    "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/log/apt/*
  trust_host_cas "$root"
  : >"$root/etc/machine-id"
  echo localhost >"$root/etc/hostname"
}

# This machine reaches crates.io through a TLS-intercepting egress proxy whose CA is added under
# /usr/local/share/ca-certificates. Placing the same certificates in the stand-in base makes every
# later `apt-get install ca-certificates` (the rust image, the Dockerfile's runtime stage) trust
# them, as the host does, so the repository's Dockerfile needs no change. GitHub's real images
# do not carry them and do not need them.
trust_host_cas() {
  local root=$1 src=/usr/local/share/ca-certificates
  mkdir -p "$root$src"
  if compgen -G "$src/*.crt" >/dev/null; then
    cp "$src"/*.crt "$root$src/"
    log "host CAs added: $(cd "$src" && echo *.crt)"
  fi
}

build_debian() {
  local work=$1 mirror
  mirror=${DEBIAN_MIRROR:-$(host_mirror)}
  mirror=${mirror:-http://deb.debian.org/debian}
  ensure_debootstrap
  log "debootstrap bookworm from $mirror"
  # Its stages as progress, not its line per package.
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" 2>&1 | tee "$work/debootstrap.log" |
    { grep --line-buffered -E '^I: ' | grep --line-buffered -vE '^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) [a-z0-9]' |
      sed -u 's/^/[docker-bases] debootstrap: /' >&2 || true; } ||
    { tail -n 30 "$work/debootstrap.log" >&2; return 1; }
  slim_rootfs "$work/rootfs"
  tar --numeric-owner -C "$work/rootfs" -c . |
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' - "$DEBIAN_TAG" >/dev/null
}

host_toolchain() {
  local home=${RUSTUP_HOME:-$HOME/.rustup} dir
  dir=$(readlink -f "$home/toolchains/$RUST_VERSION-$TRIPLE" 2>/dev/null || true)
  if [[ ! -x "$dir/bin/rustc" ]] || ! "$dir/bin/rustc" --version | grep -q "^rustc $RUST_VERSION "; then
    log "no rustc $RUST_VERSION toolchain under $home/toolchains (see: rustup toolchain list)"
    return 1
  fi
  printf '%s\n' "$dir"
}

# Lays out a build context like the official image: toolchains under RUSTUP_HOME, and rustup plus
# its proxies (one binary dispatching on argv[0]) in CARGO_HOME/bin. HTML docs are left out.
rust_context() {
  local ctx=$1 toolchain=$2 rustup_bin tc_name=$RUST_VERSION-$TRIPLE
  rustup_bin=$(command -v rustup || echo "$HOME/.cargo/bin/rustup")
  mkdir -p "$ctx/rustup/toolchains/$tc_name" "$ctx/cargo/bin"
  tar -C "$toolchain" --exclude=./share/doc -c . | tar -C "$ctx/rustup/toolchains/$tc_name" -x
  printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\nauto_self_update = "disable"\n\n[overrides]\n' \
    "$tc_name" >"$ctx/rustup/settings.toml"
  cp "$rustup_bin" "$ctx/cargo/bin/rustup"
  for proxy in cargo cargo-clippy cargo-fmt clippy-driver rustc rustdoc rustfmt rust-gdb rust-gdbgui rust-lldb; do
    ln -s rustup "$ctx/cargo/bin/$proxy"
  done
  # Writable like the official image's homes; set here because a chmod in a RUN would copy ~600 MB
  # into a second layer.
  chmod -R a+w "$ctx/rustup" "$ctx/cargo"
  cat >"$ctx/Dockerfile" <<CFG
FROM $DEBIAN_TAG
ENV RUSTUP_HOME=/usr/local/rustup \\
    CARGO_HOME=/usr/local/cargo \\
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    RUST_VERSION=$RUST_VERSION
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev \\
 && rm -rf /var/lib/apt/lists/*
COPY rustup /usr/local/rustup
COPY cargo /usr/local/cargo
RUN rustup --version && cargo --version && rustc --version
CFG
}

build_rust() {
  local work=$1 toolchain
  toolchain=$(host_toolchain)
  rust_context "$work/rust-context" "$toolchain"
  docker build -t "$RUST_TAG" "$work/rust-context" 2>&1 | sed -u 's/^/[docker-bases] rust: /' >&2
}

main() {
  local total=$SECONDS
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  local work=$WORK
  if have_image "$DEBIAN_TAG"; then log "$DEBIAN_TAG present, kept"
  else timed "$DEBIAN_TAG built" build_debian "$work"; fi
  if have_image "$RUST_TAG"; then log "$RUST_TAG present, kept"
  else timed "$RUST_TAG built" build_rust "$work"; fi
  docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^($DEBIAN_TAG|$RUST_TAG) " >&2
  log "total: $((SECONDS - total))s"
}

main "$@"
