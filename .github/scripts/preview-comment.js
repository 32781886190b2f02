// Posts one stack's preview on its pull request, for actions/github-script:
// one comment per stack, found again by a hidden marker and edited in place
// on later pushes, so a pull request carries one current preview per stack.
//
// The comment opens with the plan (PLAN, Markdown that `tools/stack -summary`
// builds from the preview's events): stateful resources replaced or deleted
// first, then counts and changed resources. The full diff follows, folded.
//
// Environment: STACK, PREVIEW (file with the preview's output), PLAN (file
// with the plan; missing when the preview failed), OUTCOME (the preview
// step's outcome: success or failure).
const fs = require('node:fs');

// GitHub refuses comments over 65,536 characters.
const LIMIT = 60000;

function read(file) {
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trimEnd() : '';
  if (text === '') return '(the preview printed nothing)';
  if (text.length > LIMIT) {
    text = `… (the first ${text.length - LIMIT} characters are in the run's log)\n${text.slice(-LIMIT)}`;
  }
  // A fence inside the output would end the comment's code block.
  return text.replaceAll('```', "'''");
}

// plan is the plan's Markdown, or '' when there is none.
function plan(file) {
  return file && fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trimEnd() : '';
}

module.exports = async ({ github, context, core }) => {
  const { STACK: stack, PREVIEW: file, PLAN: planFile, OUTCOME: outcome } = process.env;
  const marker = `<!-- emothe-preview:${stack} -->`;
  const ok = outcome === 'success';
  const { owner, repo } = context.repo;
  const sha = (context.payload.pull_request?.head?.sha ?? context.sha).slice(0, 7);
  const run = `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`;
  const body = [
    marker,
    `### ${ok ? 'Preview' : 'Preview failed'} of stack \`${stack}\``,
    `For commit ${sha} ([run](${run})).`,
    '',
    ...(ok && plan(planFile) ? [plan(planFile), ''] : []),
    `<details${ok ? '' : ' open'}><summary>pulumi preview --diff</summary>`,
    '',
    '```',
    read(file),
    '```',
    '',
    '</details>',
  ].join('\n');

  const issue_number = context.issue.number;
  const comments = await github.paginate(github.rest.issues.listComments, {
    owner, repo, issue_number, per_page: 100,
  });
  // Only a bot's comment: a person quoting the marker keeps their comment.
  const previous = comments.find((c) => c.user?.type === 'Bot' && c.body?.startsWith(marker));
  if (previous) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: previous.id, body });
  } else {
    await github.rest.issues.createComment({ owner, repo, issue_number, body });
  }
  await core.summary.addRaw(body).write();
};
