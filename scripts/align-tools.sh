#!/usr/bin/env bash
# align-tools.sh [--check]: the tool modules (tools/pulumi, tools/compose,
# tools/golangci-lint) require the root module's version of every module
# they share where the root's is newer.
#
# Why: with every build at -trimpath (the Makefile exports it, as the Go
# language host builds main.go with it), a package compiled at the same
# version is compiled once on a fresh machine, whichever build needs it
# first. The Pulumi CLI, Compose, golangci-lint, the program and the tests
# share the Pulumi SDK, gRPC, protobuf, x/sys and more; at different
# versions each build compiled its own copy, about three minutes of a
# cold `make test` on two cores.
#
# --check changes nothing and fails when aligning would change a go.mod
# (make lint runs it); without it the go.mod and go.sum files are updated.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check=0
case ${1:-} in
--check) check=1 ;;
"") ;;
*) die "usage: $0 [--check]; $1 is not an option" ;;
esac

versions() { go list -m -f '{{if not .Main}}{{.Path}} {{.Version}}{{end}}' all | sort; }

# align DIR raises DIR's requirements to the root's versions and tidies,
# until its go.mod holds still: a raised module can raise others.
align() {
	local m root tool before round
	for round in 1 2 3 4 5; do
		before=$(cat "$1/go.mod")
		while read -r m root tool; do
			[[ $(printf '%s\n%s\n' "$root" "$tool" | sort -V | tail -n 1) == "$root" ]] &&
				(cd "$1" && go mod edit -require="$m@$root")
		done < <(join <(cd "$REPO_ROOT" && versions) <(cd "$1" && versions) | awk '$2 != $3')
		(cd "$1" && go mod tidy 2>/dev/null) || (cd "$1" && go mod tidy) # its messages only on failure
		[[ $(cat "$1/go.mod") != "$before" ]] || return 0
	done
	die "$1/go.mod still changes after $round rounds of aligning"
}

stale=()
for tool in pulumi compose golangci-lint; do
	dir=$REPO_ROOT/tools/$tool
	if ((check)); then
		copy=$(mktemp -d)
		cp "$dir"/go.mod "$dir"/go.sum "$dir"/*.go "$copy"/
		align "$copy"
		cmp -s "$dir/go.mod" "$copy/go.mod" || stale+=("tools/$tool")
		rm -rf "$copy"
	else
		align "$dir"
	fi
done
((${#stale[@]} == 0)) || die "${stale[*]} build shared dependencies at older versions than the root module, so a fresh machine compiles them twice; run scripts/align-tools.sh and commit the go.mod and go.sum files"
