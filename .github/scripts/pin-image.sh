#!/usr/bin/env bash
# pin-image.sh STACK SOURCE...: sets emothe:image of STACK to the image of the
# first SOURCE that has one, and writes image=<ref> to $GITHUB_OUTPUT.
#
# A SOURCE is an image reference pinned by digest (name@sha256:…), or a stack
# whose last update exported an `image` output. A stack whose Pulumi.<stack>.yaml
# names no image builds one (dev); prod runs what dev built, so its image is
# pinned here, in the runner's checkout only:
#   deploy.yml   pin-image.sh prod dev        promote the digest dev runs
#   deploy.yml   pin-image.sh prod name@sha…  roll back (workflow_dispatch input)
#   preview.yml  pin-image.sh prod prod dev   keep what prod runs (dev's before
#   drift.yml                                 prod's first deploy)
set -euo pipefail

(($# >= 2)) || { echo "usage: pin-image.sh STACK SOURCE..." >&2; exit 2; }
stack=$1
shift
stderr=$(mktemp)
trap 'rm -f "$stderr"' EXIT
tried=()
for source in "$@"; do
	if [[ $source == *[:@]* ]]; then
		# Stack names have neither ':' nor '@': this is an image reference.
		if [[ $source != *@sha256:* ]]; then
			echo "::error::image '$source' is not pinned by digest: give name@sha256:<digest> (from the release history, 'pulumi stack tag ls --stack $stack', or the registry; see docs/rollback.md)" >&2
			exit 1
		fi
		image=$source
	elif ! image=$(pulumi stack output image --stack "$source" 2>"$stderr") || [[ -z $image ]]; then
		tried+=("stack $source: $(tr -s '\n' ' ' <"$stderr")")
		continue
	fi
	pulumi config set --stack "$stack" emothe:image "$image"
	echo "emothe:image of stack $stack is $image (from $source)"
	echo "image=$image" >>"${GITHUB_OUTPUT:-/dev/null}"
	exit 0
done
echo "::error::no image for stack $stack: $(printf '%s; ' "${tried[@]}")deploy dev first, or give an image pinned by digest" >&2
exit 1
