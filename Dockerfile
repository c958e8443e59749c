# Multi-stage build of the static binary, as `make build` builds it:
#   docker build --build-arg VERSION=$(git describe --always) -t spencer-signage .
# The context holds no .git (.dockerignore), so the version comes in as VERSION; the image's
# `-version` says it. TestDockerImageWithoutAnEngine runs this file's build commands.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN make build VERSION="$VERSION"
# The volume's folder and its data_dir, owned by the image's user: a named volume starts as
# a copy of it, so the server can write there (distroless has no shell to do it later).
RUN mkdir -p rootfs/var/lib/signage/data && chown -R 65532:65532 rootfs/var/lib/signage

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/signage /usr/local/bin/signage
COPY --from=build --chown=65532:65532 /src/rootfs/var/lib/signage /var/lib/signage
# No config is baked in: the repository's config.toml is the demo, one forgotten key away
# from production. Mount yours at /etc/signage/config.toml; without it the container exits
# with status 2 and says so.
# data_dir = "data" is relative to the working directory: /var/lib/signage/data.
WORKDIR /var/lib/signage
VOLUME ["/etc/signage", "/var/lib/signage"]
EXPOSE 8080
# distroless's nonroot, by number: Kubernetes' runAsNonRoot can check a number, not a name.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/signage", "-config", "/etc/signage/config.toml"]
