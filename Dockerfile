# syntax=docker/dockerfile:1
#
# One image for the five services and the worker (`delivery serve <svc>`,
# `delivery worker`, `delivery migrate`), plus the admin-tools image of
# docker-compose.yml. Build: docker build -t delivery-platform:dev .
#
# Final image: distroless static, nonroot. The binaries are static
# (CGO_ENABLED=0), so no libc is needed, and there is no shell or package
# manager to patch. Docker health checks need a program inside the image: a
# ~5 MB Go binary (deploy/healthcheck) rather than an alpine base for wget, or
# an operations-only subcommand in the service binary.

ARG GO_VERSION=1.26.8
ARG TEMPORAL_ADMIN_TOOLS_VERSION=1.32.1
# tctl is deprecated (end of support 2025-09-30) and no longer shipped in
# temporalio/admin-tools since 1.30; issue 4 asks for it next to the temporal
# CLI, so the admin-tools target builds its last release from source.
ARG TCTL_VERSION=v1.18.1

FROM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	go build -trimpath -buildvcs=false -ldflags "-s -w" -o /out/delivery ./cmd/delivery && \
	go build -trimpath -buildvcs=false -ldflags "-s -w" -o /out/healthcheck ./deploy/healthcheck

# tctl for the admin-tools container. If this old release ever stops building
# with the pinned Go, the stack must still come up: leave a stub that says so.
FROM golang:${GO_VERSION} AS tctl
ARG TCTL_VERSION
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	go install -trimpath -ldflags "-s -w" "github.com/temporalio/tctl/cmd/tctl@${TCTL_VERSION}" || \
	{ printf '#!/bin/sh\necho "tctl %s could not be built into this image; use the temporal CLI" >&2\nexit 1\n' "${TCTL_VERSION}" > /go/bin/tctl && chmod +x /go/bin/tctl; }

# temporalio/admin-tools (temporal CLI, temporal-sql-tool, schema files) plus tctl.
FROM temporalio/admin-tools:${TEMPORAL_ADMIN_TOOLS_VERSION} AS admin-tools
COPY --from=tctl /go/bin/tctl /usr/local/bin/tctl

# The default target: keep it last.
FROM gcr.io/distroless/static-debian12:nonroot AS delivery
COPY --from=build /out/delivery /out/healthcheck /usr/local/bin/
USER nonroot:nonroot
EXPOSE 8080 8081 8082 8083 8084
ENTRYPOINT ["/usr/local/bin/delivery"]
CMD ["help"]
