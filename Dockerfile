# syntax=docker/dockerfile:1
#
# laminar-ha-webhook image: a static Go binary on distroless/static, run as the
# distroless "nonroot" user (65532). Build from the repository root:
#
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=v0.1.0 -t ghcr.io/laminar/laminar-ha-webhook:v0.1.0 --push .
#
# The go build command below is the one place the release build flags live:
# test/certmanager (TestImageBuildIsStatic) reads this RUN instruction, runs the
# same command on the host and checks the binary is statically linked.

# Not older than the go directive in go.mod (the test checks).
ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Module downloads are cached across builds; `go build` fetches only what the
# binary needs (go.mod also lists test-only modules).
COPY go.mod go.sum ./
COPY cmd/ cmd/
COPY internal/ internal/
COPY pkg/ pkg/
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w -X github.com/laminar/ha-webhook/internal/version.Version=${VERSION}" \
      -o /out/laminar-ha-webhook ./cmd/webhook

FROM gcr.io/distroless/static-debian13:nonroot
LABEL org.opencontainers.image.title="laminar-ha-webhook" \
      org.opencontainers.image.source="https://github.com/laminar/ha-webhook"
COPY --from=build /out/laminar-ha-webhook /laminar-ha-webhook
USER 65532:65532
EXPOSE 9443 8081 8080
ENTRYPOINT ["/laminar-ha-webhook"]
CMD ["serve"]
