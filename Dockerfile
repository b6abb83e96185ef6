# Build: docker build -t hazard-tracker .
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# Dependencies first, in their own layer: it is rebuilt only when Cargo.toml
# or Cargo.lock change. The crate's own targets are stubs here (the [[test]]
# target too, so the manifest's explicit paths all exist).
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
RUN mkdir -p src tests/api \
    && echo 'fn main() {}' > src/main.rs \
    && : > src/lib.rs \
    && echo 'fn main() {}' > tests/api/main.rs \
    && cargo build --release --locked \
    && rm -rf target/release/.fingerprint/hazard-tracker-* \
       target/release/deps/hazard_tracker-* target/release/deps/libhazard_tracker-* \
       target/release/hazard-tracker

# Then the crate. Besides src/, it embeds at compile time the migrations
# (diesel embed_migrations!), the mail templates and the reference data;
# config/ holds the defaults.
COPY migrations migrations
COPY templates templates
COPY reference reference
COPY config config
COPY src src
# The stub build's artefacts are gone; touch as well, so the real sources are
# newer than anything left behind whatever mtimes COPY gave them.
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/ht ht && mkdir -p /var/lib/ht && chown ht /var/lib/ht
COPY --from=build /src/target/release/hazard-tracker /usr/local/bin/hazard-tracker
COPY config /etc/hazard-tracker
ENV HT_CONFIG_DIR=/etc/hazard-tracker \
    HT_ENV=production \
    HT__STORAGE__DATA_DIR=/var/lib/ht
USER ht
WORKDIR /var/lib/ht
EXPOSE 8080
# Ready means the database answers: /readyz is 503 during a database outage
# (after up to database.connect_timeout_secs, 3 s), while /healthz stays 200.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["hazard-tracker"]
CMD ["serve"]
