#!/usr/bin/env bash
# The toolchain bootstrap behind `make tools` and .ci/run: Debian packages,
# the Pulumi CLI, a Docker engine, a local registry on 127.0.0.1:5000 and the
# local base images. Every step checks first and does nothing when its thing
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
	wait_until 60 engine_answers
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

apt_packages
pulumi_cli
docker_engine
compose_cli
local_registry
"$REPO_ROOT/scripts/baseimages.sh"
