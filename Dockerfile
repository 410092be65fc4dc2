# syntax=docker/dockerfile:1
#
# One image with the five saga services (customer, orders, inventory, billing, notification),
# the operator's tools (`provision`: topics and ACLs; `dlq`: the dead-letter topics) and
# `credentials` (docker/credentials: the compose deployment's development CA and passwords).
# docker-compose.yml runs it for each and picks the program with `command:`. No secret is in
# the image: compose's one-shot `credentials` service makes them into a volume at run time.
#
# Stages:
#   chef     the Rust toolchain, the C toolchain librdkafka is built with, and cargo-chef
#   planner  reduces the workspace to a recipe of its dependencies (recipe.json)
#   cacher   builds only the dependencies from the recipe: this layer is reused as long as
#            Cargo.toml/Cargo.lock do not change, so editing a service recompiles only the
#            workspace crates
#   builder  builds the binaries in release mode
#   runtime  debian slim, the binaries, openssl, a health check, a non-root user
#
# Build: docker build -t saga-services:local .     Run one: docker run saga-services:local orders

FROM rust:1.95.0-slim-bookworm AS chef
# rdkafka-sys builds librdkafka from source (its ./configure script, then make), and ring and
# zstd-sys compile C: gcc, g++ and make (build-essential). libz-sys finds the system zlib
# through pkg-config (zlib1g-dev); the binaries then link libz.so.1 (zlib1g at run time).
# rdkafka's `ssl` feature builds librdkafka with TLS and SASL/SCRAM against the system OpenSSL
# (openssl-sys, found through pkg-config: libssl-dev); the binaries then link libssl.so.3 and
# libcrypto.so.3 (libssl3 at run time). sqlx, redis and the MongoDB driver use rustls.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential pkg-config zlib1g-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --version 0.1.78 --locked
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS cacher
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --bins --recipe-path recipe.json

FROM cacher AS builder
COPY . .
# Migrations (sqlx::migrate!) are embedded at compile time and each service's OpenAPI document
# is generated from its code (utoipa), so the runtime image needs nothing but the binaries.
RUN cargo build --release --locked --bins

FROM debian:bookworm-slim AS runtime
# libssl3: librdkafka's TLS. openssl (the command): docker/credentials makes the compose
# deployment's development CA, certificates and passwords with it, at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates zlib1g libssl3 openssl \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 saga \
    && useradd --system --uid 10001 --gid saga --no-create-home --shell /usr/sbin/nologin saga
COPY --from=builder \
    /app/target/release/customer \
    /app/target/release/orders \
    /app/target/release/inventory \
    /app/target/release/billing \
    /app/target/release/notification \
    /app/target/release/provision \
    /app/target/release/dlq \
    /usr/local/bin/
# GET /health over bash's /dev/tcp: the image needs no curl (see the script).
COPY --chmod=0755 docker/healthcheck /usr/local/bin/healthcheck
# Run as root by compose's one-shot `credentials` service (it gives each consumer's files to
# that consumer's uid); the other programs run as the user below.
COPY --chmod=0755 docker/credentials /usr/local/bin/credentials
USER 10001:10001
EXPOSE 8001 8002 8003 8004 8005
# The services stop on SIGTERM: they finish the message in hand, commit offsets, flush.
STOPSIGNAL SIGTERM
# No default service: compose (or `docker run <image> <service>`) names the binary to run.
CMD ["sh", "-c", "echo 'usage: docker run <image> customer|orders|inventory|billing|notification|provision|dlq' >&2; exit 64"]
