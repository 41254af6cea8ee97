# The image GitHub builds for the action (runs: using: docker, image: Dockerfile).
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# The whole context in one COPY: cargo refuses to load the workspace unless every member
# (crates/testkit) and every declared target ([[bench]], [[test]]) is present, so a manifests-only
# dependency layer would break whenever one is added. GitHub builds from an empty cache anyway.
COPY . .
RUN cargo build --release --locked --bin patcher \
 && cp target/release/patcher /patcher

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /patcher /usr/local/bin/patcher
# Root, as the runner starts action containers; the binary marks the workspace, owned by the
# runner's uid, as a git safe.directory itself.
ENTRYPOINT ["/usr/local/bin/patcher", "action"]
