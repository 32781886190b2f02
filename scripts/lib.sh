# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
# Shared by the bootstrap scripts; sourced, never run.
# EMOTHE_HOME holds what the toolchain keeps between runs (binaries, the
# registry's storage, daemon logs); EMOTHE_CACHE holds bulky, rebuildable
# downloads (the Debian rootfs tarball).
set -euo pipefail

EMOTHE_HOME=${EMOTHE_HOME:-$HOME/.emothe}
EMOTHE_CACHE=${EMOTHE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/emothe}
EMOTHE_BIN=$EMOTHE_HOME/bin
EMOTHE_LOG=$EMOTHE_HOME/log
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CALLER_PATH=$PATH # what the caller had, to tell them what to add
export PATH="$EMOTHE_BIN:/usr/local/go/bin:$PATH"
mkdir -p "$EMOTHE_BIN" "$EMOTHE_LOG" "$EMOTHE_CACHE"

say() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# wait_until SECONDS CMD...: polls CMD once a second until it succeeds.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 1
	done
}

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }
