# syntax=docker/dockerfile:1
# Build the `crm` binary, then ship it alone on a slim base.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY tests tests
COPY migrations migrations
COPY openapi openapi
RUN cargo build --release --locked -p crm-server \
 && cp target/release/crm /usr/local/bin/crm

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/crm --create-home crm
COPY --from=build /usr/local/bin/crm /usr/local/bin/crm
USER crm
WORKDIR /var/lib/crm
ENV CRM_BIND=0.0.0.0:8080 \
    CRM_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["crm"]
CMD ["serve"]
