# syntax=docker/dockerfile:1
# Latchkey in a small image: built in Debian's Rust image, run from distroless (glibc and
# libgcc only: no shell, no package manager) as the unprivileged user 65532, on port 8080 with
# its data in the volume /var/lib/latchkey. See README, "Operating latchkey".
#   docker build -t latchkey .
#   docker run -p 8080:8080 -v latchkey-data:/var/lib/latchkey latchkey

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY assets ./assets
COPY examples ./examples
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin latchkey \
    && cp target/release/latchkey /latchkey \
    && mkdir -m 0700 /data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /latchkey /usr/local/bin/latchkey
COPY --from=build --chown=65532:65532 /data /var/lib/latchkey
ENV LATCHKEY_LISTEN=0.0.0.0:8080 \
    LATCHKEY_DATA=/var/lib/latchkey \
    LATCHKEY_LOG_FORMAT=json
USER 65532:65532
VOLUME ["/var/lib/latchkey"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=6s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/latchkey", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/latchkey"]
CMD ["serve"]
