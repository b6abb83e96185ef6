# Build: docker build -t hazard-tracker .
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev libsqlite3-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 libsqlite3-0 ca-certificates \
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
HEALTHCHECK CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["hazard-tracker"]
CMD ["serve"]
