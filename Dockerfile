# Emothe's service image: a static Go binary on scratch.
# Base images are named by tag; to pin one, append its digest
# (FROM golang:1.26-bookworm@sha256:…). Offline, `make tools` builds the
# builder image locally under this exact tag (scripts/baseimages.sh).

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-mod=readonly
# The classic builder (no BuildKit here) has no cache mounts, so Go's build
# cache lives in layers. Compiling the standard library in a layer of its own,
# which changes only with the base image, spares every later build that work
# (about half of a cold build).
RUN go build -trimpath std
COPY go.mod go.sum ./
# go.mod also carries the Pulumi program's and provider's large dependency
# tree; `go mod download` would fetch all of it. Building directly fetches only
# the modules the service links. The service's packages live under app/, plus
# contract/, the constants it shares with the deploy code.
COPY contract/ contract/
COPY app/ app/
RUN go build -trimpath -ldflags "-s -w" -o /out/emothe ./app
# scratch has no useradd: write the unprivileged user's entries by hand.
RUN mkdir -p /out/etc \
	&& echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' >/out/etc/passwd \
	&& echo 'nonroot:x:65532:' >/out/etc/group

FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="emothe" \
	org.opencontainers.image.description="Catalogue of early-modern theatre plays (EMOTHE)" \
	org.opencontainers.image.source="https://github.com/emothe/emothe" \
	org.opencontainers.image.licenses="NOASSERTION" \
	org.opencontainers.image.version="${VERSION}" \
	org.opencontainers.image.revision="${REVISION}"
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/etc/passwd /out/etc/group /etc/
COPY --from=build /out/emothe /emothe
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
	CMD ["/emothe", "healthcheck"]
ENTRYPOINT ["/emothe"]
CMD ["serve"]
