#!/usr/bin/env bash
# The body of `make test`, once tools and check-codegen have run: every Go
# test, with the lint (gofmt, vet, golangci-lint, actionlint) alongside. The
# longest suites mostly wait on Docker and on the fake's delays, which
# leaves a core for the lint (minutes on a fresh machine, where
# golangci-lint is built first). Ends with the slowest packages, so a
# budget overrun names its cause.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

test_log=$EMOTHE_LOG/test.log
lint_log=$EMOTHE_LOG/lint.log
read -ra go_test <<<"${GO_TEST:?set by the Makefile}"

make --no-print-directory lint >"$lint_log" 2>&1 &
lint_pid=$!

# The suites that run `pulumi` through the Go language host build main.go
# as it does (-trimpath, as every build here: the Makefile's GOFLAGS),
# several at once; on a fresh machine each would compile the Pulumi SDK
# for itself. One build first fills the cache they share.
go build -trimpath -buildvcs=false -o /dev/null . || die "go build . failed"

# go test starts packages in the order given: the long suites first, so
# the short ones fill the gaps around them instead of delaying their start.
long=(./tests/e2e ./tests/runbooks ./tests/compose ./tests/switching ./tests/workflows
	./internal/stackctl ./tests/cli ./tests/importflow ./tests/e2e/harness)
tests=0
"${go_test[@]}" "${long[@]}" ./... 2>&1 | tee "$test_log" || tests=1
lint=0
wait "$lint_pid" || lint=1

say "--- lint (ran alongside; log: $lint_log)"
cat "$lint_log"
say "--- the slowest packages (seconds)"
awk '($1 == "ok" || $1 == "FAIL") && $3 ~ /^[0-9.]+s$/ { sub(/s$/, "", $3); print $3, $2 }' "$test_log" |
	sort -rn | head -n 5
((lint == 0)) || die "lint failed: see its output above"
((tests == 0)) || die "tests failed: see $test_log"
