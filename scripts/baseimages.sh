#!/usr/bin/env bash
# Makes the builder base image locally, since no registry can be pulled from:
# a debootstrapped Debian (cached as a tarball), the machine's Go toolchain
# and the machine's CA bundle (its egress CA lets builds reach the Go proxy),
# imported under exactly the tag the Dockerfile's builder stage names.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

tag=$(awk 'toupper($1) == "FROM" && $2 ~ /^golang:/ { sub(/@.*/, "", $2); print $2; exit }' "$REPO_ROOT/Dockerfile")
[[ -n $tag ]] || die "no 'FROM golang:…' line in $REPO_ROOT/Dockerfile"
if docker image inspect "$tag" >/dev/null 2>&1; then
	say "base image: $tag present"
	exit 0
fi

# The tag promises a Go minor version (golang:1.26-bookworm); the machine's Go must keep it.
want=${tag#golang:}
want=go${want%%-*}
goroot=$(go env GOROOT)
have=$(go env GOVERSION)
[[ $have == "$want" || $have == "$want".* ]] ||
	die "the Dockerfile's builder is $tag but the Go at $goroot is $have; install $want at /usr/local/go or change the Dockerfile's FROM"
[[ -r $CA_BUNDLE ]] || die "no CA bundle at $CA_BUNDLE; apt-get install ca-certificates"

rootfs_tar=$EMOTHE_CACHE/debian-$SUITE-minbase.tar
if [[ ! -s $rootfs_tar ]]; then
	say "base image: debootstrap $SUITE from $MIRROR (a few minutes, once; log: $EMOTHE_LOG/debootstrap.log)"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	debootstrap --variant=minbase "$SUITE" "$work/rootfs" "$MIRROR" >"$EMOTHE_LOG/debootstrap.log" 2>&1 ||
		die "debootstrap failed; see $EMOTHE_LOG/debootstrap.log"
	rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
	tar -C "$work/rootfs" --numeric-owner -cf "$rootfs_tar.tmp" .
	mv "$rootfs_tar.tmp" "$rootfs_tar"
	rm -rf "$work"
fi

say "base image: importing $tag ($have)"
image_tar=$(mktemp --suffix=.tar)
trap 'rm -f "$image_tar"' EXIT
cp "$rootfs_tar" "$image_tar"
# S: rename members and hard links, but leave symlink targets alone.
tar -rf "$image_tar" --owner=0 --group=0 --numeric-owner \
	-C "$goroot" --transform 's,^\.,usr/local/go,S' .
tar -rf "$image_tar" --owner=0 --group=0 --numeric-owner \
	-C / "${CA_BUNDLE#/}"
docker import \
	--change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'ENV GOPATH=/go' \
	--change 'ENV GOTOOLCHAIN=local' \
	--change "ENV GOLANG_VERSION=${have#go}" \
	--change 'CMD ["bash"]' \
	--message "emothe local base: debian $SUITE minbase + $have" \
	"$image_tar" "$tag" >/dev/null
