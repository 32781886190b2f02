// Runs the `script:` of an actions/github-script step the way the action
// does (an async function of require, github, context and core, with
// relative requires resolved from the workspace), against a stand-in for
// GitHub's REST API that keeps a repository's comments, issues and labels
// in a JSON file between runs.
//
// usage: node github-script.js SCRIPT_FILE STATE_FILE
// GITHUB_SCRIPT_CONTEXT holds the context as JSON: owner, repo, issue,
// runId, sha, serverUrl, payload.
const fs = require('node:fs');
const path = require('node:path');

const [scriptFile, stateFile] = process.argv.slice(2);
const state = fs.existsSync(stateFile)
  ? JSON.parse(fs.readFileSync(stateFile, 'utf8'))
  : { comments: [], issues: [], labels: [], nextId: 1 };
const ctx = JSON.parse(process.env.GITHUB_SCRIPT_CONTEXT);

function notFound() {
  return Object.assign(new Error('Not Found'), { status: 404 });
}

function issue(number) {
  const found = state.issues.find((i) => i.number === number);
  if (!found) throw notFound();
  return found;
}

const github = {
  paginate: async (fn, params) => (await fn(params)).data,
  rest: {
    issues: {
      listComments: async ({ issue_number }) => ({
        data: state.comments.filter((c) => c.issue_number === issue_number),
      }),
      createComment: async ({ issue_number, body }) => {
        const c = { id: state.nextId++, issue_number, body, user: { type: 'Bot' } };
        state.comments.push(c);
        return { data: c };
      },
      updateComment: async ({ comment_id, body }) => {
        const c = state.comments.find((x) => x.id === comment_id);
        if (!c) throw notFound();
        c.body = body;
        return { data: c };
      },
      listForRepo: async ({ state: wanted, labels }) => ({
        data: state.issues.filter((i) => i.state === wanted && (!labels || i.labels.includes(labels))),
      }),
      create: async ({ title, body, labels }) => {
        if ((labels ?? []).some((l) => !state.labels.includes(l))) {
          throw Object.assign(new Error(`label does not exist: ${labels}`), { status: 422 });
        }
        const i = { number: state.nextId++, title, body, labels: labels ?? [], state: 'open' };
        state.issues.push(i);
        return { data: i };
      },
      update: async ({ issue_number, body, state: newState }) => {
        const i = issue(issue_number);
        if (body !== undefined) i.body = body;
        if (newState !== undefined) i.state = newState;
        return { data: i };
      },
      getLabel: async ({ name }) => {
        if (!state.labels.includes(name)) throw notFound();
        return { data: { name } };
      },
      createLabel: async ({ name }) => {
        state.labels.push(name);
        return { data: { name } };
      },
    },
  },
};

let summary = '';
const core = {
  summary: {
    addRaw(text) {
      summary += text;
      return this;
    },
    async write() {
      fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${summary}\n`);
      summary = '';
    },
  },
  info: (msg) => console.log(msg),
  warning: (msg) => console.log(`::warning::${msg}`),
  setFailed: (msg) => {
    console.log(`::error::${msg}`);
    process.exitCode = 1;
  },
};

const context = {
  repo: { owner: ctx.owner, repo: ctx.repo },
  issue: { owner: ctx.owner, repo: ctx.repo, number: ctx.issue },
  runId: ctx.runId,
  sha: ctx.sha,
  serverUrl: ctx.serverUrl,
  payload: ctx.payload ?? {},
};

const workspaceRequire = (p) => require(p.startsWith('.') ? path.resolve(p) : p);
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
const script = new AsyncFunction('require', 'github', 'context', 'core', fs.readFileSync(scriptFile, 'utf8'));

script(workspaceRequire, github, context, core)
  .catch((err) => {
    console.log(`::error::${err.stack ?? err}`);
    process.exitCode = 1;
  })
  .finally(() => fs.writeFileSync(stateFile, JSON.stringify(state, null, 2)));
