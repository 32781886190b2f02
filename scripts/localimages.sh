#!/usr/bin/env bash
# Builds the images the local stack runs beside the app, Postgres and Caddy,
# from Debian's packages on the local Debian base (images/), because the
# local stack must come up on a machine that can pull no image. Each image is
# labelled with a digest of its folder and rebuilt only when that changes.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

base=$(awk 'toupper($1) == "FROM" && $2 ~ /^golang:/ { sub(/@.*/, "", $2); print $2; exit }' "$REPO_ROOT/Dockerfile")

# local_image TAG DIR builds images/DIR as TAG unless TAG was built from the
# same sources.
local_image() {
	local tag=$1 dir=$REPO_ROOT/images/$2 sum have
	sum=$( (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)
	have=$(docker image inspect --format '{{index .Config.Labels "org.emothe.source"}}' "$tag" 2>/dev/null || true)
	if [[ $have == "$sum" ]]; then
		say "local image: $tag present"
		return
	fi
	say "local image: building $tag from images/$2 (a few minutes, once; log: $EMOTHE_LOG/image-$2.log)"
	docker build --tag "$tag" --label "org.emothe.source=$sum" --build-arg "BASE=$base" "$dir" \
		>"$EMOTHE_LOG/image-$2.log" 2>&1 || die "building $tag failed; see $EMOTHE_LOG/image-$2.log"
}

local_image emothe-local/postgres:15 postgres
local_image emothe-local/caddy:2.6 caddy
