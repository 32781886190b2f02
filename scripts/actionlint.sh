#!/usr/bin/env bash
# Lints every GitHub Actions workflow in .github/workflows with actionlint and
# fails on any finding. actionlint is built once from the Go module proxy at a
# pinned version into $EMOTHE_BIN. The shell of `run:` steps is checked
# with ShellCheck when it is installed (Debian's package is installed here
# when apt-get can); without it actionlint still runs, and says that it
# skipped those checks.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ACTIONLINT_VERSION=v1.7.12
bin=$EMOTHE_BIN/actionlint-$ACTIONLINT_VERSION

if [[ ! -x $bin ]]; then
	say "actionlint: building $ACTIONLINT_VERSION into $EMOTHE_BIN (once)"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	GOBIN=$work go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" ||
		die "go install github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION failed"
	mv "$work/actionlint" "$bin"
fi

if ! command -v shellcheck >/dev/null && command -v apt-get >/dev/null && ((EUID == 0)); then
	say "actionlint: installing shellcheck (apt)"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get install -y -qq --no-install-recommends shellcheck ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends shellcheck; }; } \
		>"$EMOTHE_LOG/apt-shellcheck.log" 2>&1 ||
		say "actionlint: apt-get could not install shellcheck (see $EMOTHE_LOG/apt-shellcheck.log)"
fi

# -pyflakes= : no workflow runs Python; -shellcheck= turns shell checks off.
args=(-no-color -pyflakes=)
if sc=$(command -v shellcheck); then
	args+=("-shellcheck=$sc")
else
	args+=(-shellcheck=)
	say "actionlint: shellcheck not found; run: steps are not shell-checked"
fi

cd "$REPO_ROOT"
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
((${#workflows[@]})) || die "no workflows in $REPO_ROOT/.github/workflows"
"$bin" "${args[@]}" "${workflows[@]}" || die "actionlint: fix the findings above in .github/workflows"
say "actionlint: ${#workflows[@]} workflows clean"
