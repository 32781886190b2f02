#!/usr/bin/env bash
# report-deploy.sh STACK: after an up, writes the stack's url and image
# outputs to $GITHUB_OUTPUT (the environment's URL) and, with the commit, to
# the job summary, beside the release history in the stack's tags that
# docs/rollback.md starts from.
set -euo pipefail

stack=${1:?usage: report-deploy.sh STACK}
outputs=$(pulumi stack output --json --stack "$stack")
url=$(jq -r '.url // ""' <<<"$outputs")
image=$(jq -r '.image // ""' <<<"$outputs")
{
	echo "url=$url"
	echo "image=$image"
} >>"${GITHUB_OUTPUT:-/dev/null}"
cat >>"${GITHUB_STEP_SUMMARY:-/dev/null}" <<MD
### Stack \`$stack\` is up

| | |
|---|---|
| URL | $url |
| image | \`$image\` |
| commit | \`${GITHUB_SHA:-unknown}\` |

Roll back to this release with: \`make rollback STACK=$stack TO=$image\`, or for prod \`gh workflow run deploy.yml -f action=rollback -f image=$image\`; see docs/rollback.md.
MD
