# The image GitHub builds for the action (runs: using: docker, image: Dockerfile).
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src

# Dependencies first, against stub sources, so that a change to the code alone reuses this layer.
# crates/testkit is a workspace member: cargo refuses to load the workspace without its manifest.
COPY Cargo.toml Cargo.lock ./
COPY crates/testkit/Cargo.toml crates/testkit/Cargo.toml
RUN mkdir -p src crates/testkit/src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs crates/testkit/src/lib.rs \
 && cargo build --release --locked --bin patcher \
 && rm -rf src crates/testkit/src

COPY src src
COPY crates crates
# COPY keeps the context's mtimes, which can be older than the stub build: touch forces a rebuild.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --bin patcher \
 && cp target/release/patcher /patcher

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /patcher /usr/local/bin/patcher
# Root, as the runner starts action containers; the binary marks the workspace, owned by the
# runner's uid, as a git safe.directory itself.
ENTRYPOINT ["/usr/local/bin/patcher", "action"]
