# Multi-stage build of the static binary, as `make build` builds it.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN make build VERSION=$VERSION

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/signage /usr/local/bin/signage
# No config is baked in: the repository's config.toml is the demo, one forgotten key away
# from production. Mount yours at /etc/signage/config.toml; without it the container exits
# with status 2 and says so.
# data_dir = "data" is relative to the working directory: /var/lib/signage/data.
WORKDIR /var/lib/signage
VOLUME ["/etc/signage", "/var/lib/signage"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/signage", "-config", "/etc/signage/config.toml"]
