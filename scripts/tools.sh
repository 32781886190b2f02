#!/usr/bin/env bash
# The toolchain bootstrap behind `make tools` and .ci/run: Debian packages,
# the Pulumi CLI with the plugins the program needs (pulumi-docker's provider
# and the Go language host), a Docker engine, a local registry on
# 127.0.0.1:5000, the local base image and the local stack's Postgres and
# Caddy images. Every step checks first and does nothing when its thing
# is already there, so a second run takes seconds.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_PACKAGES=(curl debootstrap docker.io docker-registry postgresql-15 jq nodejs shellcheck)
REGISTRY_ADDR=127.0.0.1:5000

apt_packages() {
	local missing=() p
	for p in "${APT_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	say "apt: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$EMOTHE_LOG/apt.log" ||
		die "apt-get install ${missing[*]} failed; see $EMOTHE_LOG/apt.log"
}

# pulumi_cli builds the CLI at the version tools/pulumi pins, stamped with that
# version, unless some pulumi is already on PATH (ours included).
pulumi_cli() {
	local have version
	if have=$(command -v pulumi); then
		say "pulumi: $have"
	else
		version=$(cd "$REPO_ROOT/tools/pulumi" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
		say "pulumi: building $version into $EMOTHE_BIN (a few minutes, once)"
		(cd "$REPO_ROOT/tools/pulumi" && go build -o "$EMOTHE_BIN/pulumi.tmp" \
			-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
			github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
		mv "$EMOTHE_BIN/pulumi.tmp" "$EMOTHE_BIN/pulumi"
	fi
	case ":$CALLER_PATH:" in
	*":$EMOTHE_BIN:"*) ;;
	*) say "pulumi: add it to PATH with: export PATH=\"$EMOTHE_BIN:\$PATH\"" ;;
	esac
}

# pulumi_plugins installs what `pulumi up` of this Go program needs beyond the
# CLI: the pulumi-docker provider at the version go.mod's SDK asks for, and
# the Go language host. EMOTHE_PLUGIN_DIR may name a directory of plugin
# tarballs as Pulumi releases them (for machines without internet); else the
# provider comes from Pulumi's own download and the host from the CLI's
# install (the official installer bundles it) or from the Go module proxy.
pulumi_plugins() {
	local dir=${EMOTHE_PLUGIN_DIR:-} docker_version sdk_version tarball
	[[ -z $dir || -d $dir ]] || die "EMOTHE_PLUGIN_DIR=$dir is not a directory; point it at a folder of plugin tarballs (e.g. pulumi-resource-docker-v4.10.0-linux-amd64.tar.gz) or unset it to download"
	docker_version=$(cd "$REPO_ROOT" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi-docker/sdk/v4)
	if pulumi plugin ls --json 2>/dev/null | jq -e --arg v "${docker_version#v}" \
		'any(.[]; .name == "docker" and .kind == "resource" and .version == $v)' >/dev/null; then
		say "pulumi plugin: docker $docker_version installed"
	elif tarball=$(plugin_tarball "$dir" "pulumi-resource-docker-$docker_version"); then
		say "pulumi plugin: installing docker $docker_version from $tarball"
		pulumi plugin install resource docker "$docker_version" --file "$tarball" >/dev/null
	else
		say "pulumi plugin: downloading docker $docker_version"
		pulumi plugin install resource docker "$docker_version" >/dev/null ||
			die "could not download the docker plugin $docker_version; offline, set EMOTHE_PLUGIN_DIR to a folder holding pulumi-resource-docker-$docker_version-linux-amd64.tar.gz"
	fi

	if command -v pulumi-language-go >/dev/null; then
		say "pulumi language host: $(command -v pulumi-language-go)"
	elif tarball=$(plugin_tarball "$dir" pulumi-language-go-); then
		say "pulumi language host: extracting $tarball into $EMOTHE_BIN"
		tar -xzf "$tarball" -C "$EMOTHE_BIN" pulumi-language-go
	else
		sdk_version=$(cd "$REPO_ROOT" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)
		say "pulumi language host: building $sdk_version into $EMOTHE_BIN"
		GOBIN=$EMOTHE_BIN go install "github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3@$sdk_version" ||
			die "no Go language host: install the Pulumi CLI with its official installer (it bundles pulumi-language-go), or set EMOTHE_PLUGIN_DIR to a folder holding pulumi-language-go-*-linux-amd64.tar.gz"
	fi
}

# plugin_tarball DIR PREFIX prints the newest DIR/PREFIX*-linux-amd64.tar.gz.
plugin_tarball() {
	[[ -n $1 ]] || return 1
	local found
	found=$(find "$1" -maxdepth 1 -name "$2*-linux-amd64.tar.gz" | sort -V | tail -n 1)
	[[ -n $found ]] && printf '%s\n' "$found"
}

# docker_engine starts dockerd in the background when nothing answers on the
# client's endpoint (there is no systemd here to do it).
docker_engine() {
	if engine_answers; then
		say "docker: engine answers"
		return
	fi
	local log=$EMOTHE_LOG/dockerd.log kv=/var/lib/docker/network/files/local-kv.db from
	from=$(($(stat -c %s "$log" 2>/dev/null || echo 0) + 1))
	start_dockerd && return
	# dockerd 20.10 panics in libnetwork's reservePools on a network that a
	# killed daemon left half-created, and then on every start. Its network
	# store is unusable then: set it aside (kept, not deleted) and retry once.
	if tail -c "+$from" "$log" | grep -q reservePools && [ -f "$kv" ]; then
		say "docker: dockerd's network store is corrupt; moving it to $kv.broken-$$ and retrying"
		mv "$kv" "$kv.broken-$$"
		start_dockerd && return
	fi
	tail -n 20 "$log" >&2
	die "dockerd did not answer within 60s; see $log"
}

start_dockerd() {
	say "docker: starting dockerd (log: $EMOTHE_LOG/dockerd.log)"
	setsid dockerd >>"$EMOTHE_LOG/dockerd.log" 2>&1 </dev/null &
	wait_until 60 engine_answers || return
	prioritize_containers
}

# prioritize_containers gives the containers of the engine started here four
# times the default CPU weight, against each session's processes (the
# kernel's autogroups) on the host. On a Docker host the containers are the
# workload; here they share two cores with the test suites' compilers and
# Pulumi engines. In a full `make test` at the default weight, the
# containers' threads waited up to 9.4 s a second on the run queue (0.93 on
# average), and at this one up to 1.9 (0.21). An engine that was already
# running is left as it is.
prioritize_containers() {
	local file=/sys/fs/cgroup/docker/cpu.weight weight=400 # cgroup v2; the default is 100
	if [ -d /sys/fs/cgroup/cpu ]; then
		file=/sys/fs/cgroup/cpu/docker/cpu.shares weight=4096 # cgroup v1; the default is 1024
	fi
	if mkdir -p "$(dirname "$file")" 2>/dev/null && { echo "$weight" >"$file"; } 2>/dev/null; then
		say "docker: containers get CPU weight $weight ($file)"
	else
		say "docker: could not raise the containers' CPU weight ($file); left at the default"
	fi
}

registry_answers() { curl -fsS --max-time 5 -o /dev/null "http://$REGISTRY_ADDR/v2/"; }

# local_registry serves Debian's docker-registry on loopback only, without the
# package's htpasswd auth, storing images under EMOTHE_HOME so they survive.
local_registry() {
	if registry_answers 2>/dev/null; then
		say "registry: $REGISTRY_ADDR answers"
		return
	fi
	local config=$EMOTHE_HOME/registry.yml
	mkdir -p "$EMOTHE_HOME/registry"
	cat >"$config" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $EMOTHE_HOME/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
YAML
	say "registry: starting on $REGISTRY_ADDR (log: $EMOTHE_LOG/registry.log)"
	setsid docker-registry serve "$config" >>"$EMOTHE_LOG/registry.log" 2>&1 </dev/null &
	wait_until 30 registry_answers || die "the registry did not answer on $REGISTRY_ADDR within 30s; see $EMOTHE_LOG/registry.log"
}

# compose_cli builds Docker Compose v2 at the version tools/compose pins as
# the docker CLI plugin, unless `docker compose` already answers.
compose_cli() {
	if docker compose version >/dev/null 2>&1; then
		say "docker compose: $(docker compose version --short 2>/dev/null)"
		return
	fi
	local version plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
	version=$(cd "$REPO_ROOT/tools/compose" && go list -m -f '{{.Version}}' github.com/docker/compose/v2)
	say "docker compose: building $version into $plugins (a few minutes, once)"
	mkdir -p "$plugins"
	(cd "$REPO_ROOT/tools/compose" && go build -o "$plugins/docker-compose.tmp" \
		-ldflags "-X github.com/docker/compose/v2/internal.Version=$version" github.com/docker/compose/v2/cmd)
	mv "$plugins/docker-compose.tmp" "$plugins/docker-compose"
}

# go_lane builds; engine_lane waits on dockerd, the network and the disk
# (debootstrap, apt inside image builds). On a fresh machine the two take
# minutes each and barely compete, so they run at once; a second run is
# seconds either way.
go_lane() {
	pulumi_cli
	pulumi_plugins
	compose_cli
}

engine_lane() {
	docker_engine
	local_registry
	"$REPO_ROOT/scripts/baseimages.sh"
	"$REPO_ROOT/scripts/localimages.sh"
}

apt_packages
go_lane &
go_pid=$!
engine_lane &
engine_pid=$!
failed=0
wait "$go_pid" || failed=1
wait "$engine_pid" || failed=1
((failed == 0)) || die "make tools did not finish: see the error above"
