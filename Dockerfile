# syntax=docker/dockerfile:1
#
# rampart's container image: a static binary (pure Go: modernc SQLite,
# RE2 translated from WebAssembly, no cgo) on distroless "static", run as
# the image's nonroot user (65532). Build it from the repository root:
#
#   docker build -t rampart \
#     --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) .
#
# .git stays out of the build context (.dockerignore), so the version,
# commit and date come from these arguments (rampart version prints them).
# README.md "Deploying" says how to run it.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
# go.mod replaces Coraza by the patched copy in third_party/coraza (see
# third_party/PATCHES.md): its go.mod is part of the module graph.
COPY third_party/coraza/go.mod third_party/coraza/go.sum ./third_party/coraza/
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=""
ARG COMMIT=""
ARG DATE=""
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/rampart-edge/rampart/internal/buildinfo.Version=${VERSION} -X github.com/rampart-edge/rampart/internal/buildinfo.Commit=${COMMIT} -X github.com/rampart-edge/rampart/internal/buildinfo.Date=${DATE}" \
      -o /out/rampart ./cmd/rampart \
 && /out/rampart version \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rampart /usr/local/bin/rampart
COPY deploy/rampart.container.yaml /etc/rampart/rampart.yaml
COPY --from=build --chown=65532:65532 /out/data /var/lib/rampart
USER 65532:65532
WORKDIR /var/lib/rampart
VOLUME ["/var/lib/rampart"]
# Plain HTTP (publish as 80: ACME http-01 arrives there), HTTPS (as 443),
# and the admin API, /metrics and /healthz (publish on loopback only).
EXPOSE 8080 8443 9090
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/rampart", "healthcheck", "--url", "http://127.0.0.1:9090/healthz"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/rampart"]
CMD ["serve", "--config", "/etc/rampart/rampart.yaml"]
