// Reports one stack's drift check (the JSON of `go run ./tools/stack drift`),
// for actions/github-script: always in the job summary; on drift by opening,
// or updating, the one open issue of that stack (label `drift`, found by a
// hidden marker); on a clean check by closing that issue. An errored check
// changes no issue and fails the step: an error is not drift. Neither is a
// provider's own configuration (a rotated token, another API URL): the
// report lists it apart, and a check that finds only that is clean.
//
// Environment: STACK, REPORT (the report file).
const fs = require('node:fs');

const LABEL = 'drift';

function load(file, stack) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return { stack, status: 'error', errors: [`no drift report (${err.message})`] };
  }
}

// name shortens a URN to its resource type and name.
function name(urn) {
  const parts = urn.split('::');
  return parts.length >= 4 ? `${parts[2].split('$').pop()} ${parts[3]}` : urn;
}

function render(report, marker, run) {
  const lines = [marker];
  if (report.status === 'drift') {
    lines.push(
      `### Stack \`${report.stack}\` has drifted`,
      '',
      `Found by [the drift check](${run}): refreshed from the real resources, the stack differs from its program.`,
      '',
      '| resource | change | properties |',
      '|---|---|---|',
      ...(report.resources ?? []).map(
        (r) => `| \`${name(r.urn)}\` | ${r.op} | ${(r.diffs ?? []).map((d) => `\`${d}\``).join(', ')} |`,
      ),
      '',
      `Either put back what the program says (re-run the last deploy, or \`go run ./tools/stack -stack ${report.stack} -refresh up\`), ` +
        'or change the program to match what was changed by hand: the runbook is docs/drift.md.',
    );
  } else if (report.status === 'clean') {
    lines.push(`### Stack \`${report.stack}\`: no drift`, '', `[Checked](${run}): the resources match the program.`);
    if ((report.providers ?? []).length > 0) {
      lines.push(
        '',
        'Only the configuration of these providers differs (a new token or API URL, say), which changes no resource; the next deploy records it:',
        '',
        ...report.providers.map((p) => `- \`${name(p.urn)}\`: ${(p.diffs ?? []).map((d) => `\`${d}\``).join(', ')}`),
      );
    }
  } else {
    lines.push(
      `### Drift check of stack \`${report.stack}\` failed`,
      '',
      `[The run](${run}) could not tell whether the stack drifted:`,
      '',
      ...(report.errors ?? ['(no error recorded)']).map((e) => `- ${e}`),
    );
  }
  return lines.join('\n');
}

async function ensureLabel(github, owner, repo) {
  try {
    await github.rest.issues.getLabel({ owner, repo, name: LABEL });
  } catch (err) {
    if (err.status !== 404) throw err;
    await github.rest.issues.createLabel({
      owner, repo, name: LABEL, color: 'd93f0b', description: 'Deployed resources differ from the Pulumi program',
    });
  }
}

module.exports = async ({ github, context, core }) => {
  const { STACK: stack, REPORT: file } = process.env;
  const report = load(file, stack);
  const { owner, repo } = context.repo;
  const run = `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`;
  const marker = `<!-- emothe-drift:${stack} -->`;
  const body = render(report, marker, run);
  await core.summary.addRaw(body).write();

  if (report.status === 'error') {
    core.setFailed(`the drift check of stack ${stack} failed: ${(report.errors ?? []).join('; ')}`);
    return;
  }
  const open = await github.paginate(github.rest.issues.listForRepo, {
    owner, repo, state: 'open', labels: LABEL, per_page: 100,
  });
  const issue = open.find((i) => i.body?.includes(marker));
  if (report.status === 'drift') {
    core.warning(`stack ${stack} has drifted: ${(report.resources ?? []).length} resources would change`);
    if (issue) {
      await github.rest.issues.update({ owner, repo, issue_number: issue.number, body });
      await github.rest.issues.createComment({
        owner, repo, issue_number: issue.number, body: `Still drifting as of [this check](${run}).`,
      });
    } else {
      await ensureLabel(github, owner, repo);
      await github.rest.issues.create({ owner, repo, title: `Drift on stack ${stack}`, body, labels: [LABEL] });
    }
  } else if (issue) {
    await github.rest.issues.createComment({
      owner, repo, issue_number: issue.number, body: `No drift any more as of [this check](${run}); closing.`,
    });
    await github.rest.issues.update({ owner, repo, issue_number: issue.number, state: 'closed' });
  }
};
