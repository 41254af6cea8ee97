# The action's image: the patcher binary, git and nothing else.
# Base images are build arguments so CI can build from local stand-ins (.ci/docker-bases.sh);
# the defaults are the official images GitHub's runner and the release workflow pull.
ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
# The whole context in one COPY: cargo refuses to load the workspace unless every member
# (crates/testkit) and every declared target ([[bench]], [[test]]) is present, so a manifests-only
# dependency layer would break whenever one is added. GitHub builds from an empty cache anyway.
COPY . .
RUN cargo build --release --locked --bin patcher \
 && cp target/release/patcher /patcher

# patcher, git, the shell git starts local transports with, their libraries and the CA bundle,
# gathered from Debian's packages into /rootfs (see scripts/docker-runtime-files.sh).
FROM ${DEBIAN_IMAGE} AS runtime-files
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
COPY scripts/docker-runtime-files.sh /usr/local/bin/docker-runtime-files.sh
COPY --from=build /patcher /usr/local/bin/patcher
RUN sh /usr/local/bin/docker-runtime-files.sh /rootfs /usr/local/bin/patcher

FROM scratch
COPY --from=runtime-files /rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# Root, as the runner starts action containers; the binary marks the workspace, owned by the
# runner's uid, as a git safe.directory itself.
ENTRYPOINT ["/usr/local/bin/patcher", "action"]
