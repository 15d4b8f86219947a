# prepbot in a container: a multi-stage build whose dependency layer is cached until
# Cargo.toml or Cargo.lock change, and a small runtime image (distroless: glibc, CA
# certificates, no shell) that runs as a non-root user with its state under /data.
#
#   docker build -t prepbot .
#   docker run -d --name prepbot -e DISCORD_TOKEN -v prepbot-data:/data prepbot
#
# The build downloads nothing but crates, no system packages: the builder image has the C
# compiler that SQLite (bundled) and ring need. Checked by tests/hosting.rs.

ARG RUST_IMAGE=rust:1-slim-bookworm

FROM ${RUST_IMAGE} AS build
WORKDIR /src
# Dependencies only, against stub sources: this layer (the long part of a build) is reused
# as long as the manifest and the lock file are unchanged.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > benches/ask_latency.rs \
    && echo 'fn main() {}' > benches/big_bank.rs \
    && echo 'fn main() {}' > benches/burst.rs \
    && echo 'fn main() {}' > benches/stats_png.rs \
    && echo 'fn main() {}' > benches/practice_queue.rs \
    && echo 'fn main() {}' > benches/daily_scale.rs \
    && cargo build --release --locked --bin prepbot \
    && rm -rf src target/release/prepbot* target/release/deps/prepbot-* \
       target/release/deps/libprepbot-* target/release/.fingerprint/prepbot-*
# The bot itself, and the font the /stats picture embeds.
COPY assets ./assets
COPY src ./src
RUN cargo build --release --locked --bin prepbot \
    && mkdir -p /data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/prepbot /usr/local/bin/prepbot
COPY questions.toml /usr/local/share/prepbot/questions.toml
COPY questions /usr/local/share/prepbot/questions
COPY deploy/container.toml /etc/prepbot/config.toml
# An empty /data owned by the runtime user: a new named volume takes its owner from here.
COPY --from=build --chown=65532:65532 /data /data
# `prepbot` and `prepbot health` (the HEALTHCHECK) read the same config.
ENV PREPBOT_CONFIG=/etc/prepbot/config.toml
# distroless's "nonroot" user.
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
# /metrics and /healthz (metrics.listen in deploy/container.toml).
EXPOSE 9184
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["prepbot", "health"]
ENTRYPOINT ["prepbot"]
CMD ["run"]
