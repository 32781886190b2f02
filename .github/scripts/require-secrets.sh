#!/usr/bin/env bash
# require-secrets.sh: checks that the job has what a Pulumi run on $STACK
# needs, naming each missing secret (never printing a value), and writes
# ready=true|false to $GITHUB_OUTPUT.
#
# Needed: FLY_API_TOKEN, and a state backend: PULUMI_ACCESS_TOKEN for Pulumi
# Cloud (PULUMI_BACKEND_URL unset or https://…), or PULUMI_BACKEND_URL plus
# PULUMI_CONFIG_PASSPHRASE for a self-managed one (s3://, gs://, azblob://,
# file://, postgres://…).
#
# GitHub gives pull requests from forks no secrets. With FORK=true a missing
# secret is therefore expected: the job summary says why there is no
# preview, and the script succeeds with ready=false so the job stays green.
# Anywhere else a missing secret is a configuration error and fails the job.
set -euo pipefail

: "${STACK:?STACK names the stack}"
environment=${ENVIRONMENT:-}
missing=()
[[ -n ${FLY_API_TOKEN:-} ]] || missing+=(FLY_API_TOKEN)
backend=${PULUMI_BACKEND_URL:-}
if [[ -z $backend || $backend == https://* ]]; then
	[[ -n ${PULUMI_ACCESS_TOKEN:-} ]] || missing+=(PULUMI_ACCESS_TOKEN)
else
	[[ -n ${PULUMI_CONFIG_PASSPHRASE:-} ]] || missing+=(PULUMI_CONFIG_PASSPHRASE)
fi

summary=${GITHUB_STEP_SUMMARY:-/dev/null}
if ((${#missing[@]} == 0)); then
	echo "ready=true" >>"${GITHUB_OUTPUT:-/dev/null}"
	exit 0
fi
echo "ready=false" >>"${GITHUB_OUTPUT:-/dev/null}"

if [[ ${FORK:-false} == true ]]; then
	msg="No Pulumi run for stack $STACK: this pull request comes from a fork, and GitHub gives workflows of fork pull requests no secrets (${missing[*]} are empty). A maintainer can get the preview by pushing the branch to this repository."
	echo "::notice title=No preview for a fork::$msg"
	printf '### No preview of stack %s\n\n%s\n' "$STACK" "$msg" >>"$summary"
	exit 0
fi

where="the repository"
[[ -z $environment ]] || where="the GitHub environment '$environment' or the repository"
fix="gh secret set NAME"
[[ -z $environment ]] || fix="gh secret set NAME --env $environment"
msg="Stack $STACK cannot run: ${missing[*]} not set in $where. Set each with \`$fix\` (docs/bootstrap.md, section GitHub)."
echo "::error title=Missing secrets::$msg"
printf '### Stack %s not run\n\n%s\n' "$STACK" "$msg" >>"$summary"
exit 1
