// A local GitHub REST API stand-in for tests: an in-memory repository (commits, branches, tags), deployments and
// their statuses, Actions workflow runs (dispatch, runs, jobs, logs), commit statuses, check runs, pull requests
// and reviews. Every JSON answer is built from, and validated against, GitHub's published REST description
// (@octokit/openapi): an answer that does not follow it becomes a 500 and is listed in `problems`.
// Fault modes: `down` (500), `rate-limited` (403, X-RateLimit-Remaining: 0), `secondary` (429, Retry-After), `slow`;
// each for every request or only for some paths (e.g. GitHub's Deployments down while commits still answer).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import Bottleneck from 'bottleneck';
import type { GithubSettings } from '../../src/github/client.js';

type Json = Record<string, unknown>;
type Schema = Json & { $ref?: string; type?: string; properties?: Record<string, Schema>; required?: string[]; items?: Schema; allOf?: Schema[]; anyOf?: Schema[]; oneOf?: Schema[]; enum?: unknown[]; nullable?: boolean; format?: string };

const specPath = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
let spec: { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>; components: { schemas: Record<string, Schema> } } | undefined;
let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function loadSpec(): NonNullable<typeof spec> {
  spec ??= normalize(JSON.parse(readFileSync(specPath, 'utf8'))) as NonNullable<typeof spec>;
  return spec;
}

/** Ajv reads OpenAPI's `nullable` only beside a `type`; elsewhere (e.g. beside allOf) it is spelled as "or null". */
function normalize(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalize);
  if (!node || typeof node !== 'object') return node;
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, normalize(v)])) as Json;
  if (out.nullable === true && out.type === undefined) {
    delete out.nullable;
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

/** The 2xx JSON response schema of an operation, as GitHub publishes it. */
function responseSchema(path: string, method: string, status: number): Schema | undefined {
  return loadSpec().paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema;
}

/** The compiled validator of one operation's response (compiled once per process), or undefined when GitHub publishes no JSON answer for it. */
function validatorFor(path: string, method: string, status: number): ValidateFunction | undefined {
  const key = `${method} ${path} ${status}`;
  let validate = validators.get(key);
  if (!validate) {
    if (!responseSchema(path, method, status)) return undefined;
    if (!ajv) {
      // OpenAPI 3.0 keywords (nullable, example, discriminator…) are allowed; formats are not checked (no ajv-formats).
      ajv = new Ajv({ strict: false, validateFormats: false, allErrors: false });
      ajv.addSchema({ ...loadSpec(), $id: 'gh' } as object);
    }
    const pointer = ['paths', path, method, 'responses', String(status), 'content', 'application/json', 'schema'].map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
    validate = ajv.compile({ $ref: `gh#/${pointer}` });
    validators.set(key, validate);
  }
  return validate;
}

/** Validates `body` against the operation's published response schema; returns the problems (none: []). */
export function validateAgainstSpec(path: string, method: string, status: number, body: unknown): string[] {
  const key = `${method} ${path} ${status}`;
  const validate = validatorFor(path, method, status);
  if (!validate) return [`${key}: GitHub's description has no JSON response for this status`];
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${key}: ${e.instancePath || '(body)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/**
 * Reads the description and compiles every route's success validators before the stand-in answers anything:
 * done lazily, the first answer took most of a second, which Shipmate (resolving refs inside a 900 ms Slack
 * request) rightly counts as GitHub being too slow.
 */
function precompile(routes: Array<{ method: string; spec: string }>): void {
  for (const r of routes) {
    for (const status of Object.keys(loadSpec().paths[r.spec]?.[r.method]?.responses ?? {})) {
      if (/^2\d\d$/.test(status)) validatorFor(r.spec, r.method, Number(status));
    }
  }
}

function deref(schema: Schema): Schema {
  const ref = schema.$ref;
  if (!ref) return schema;
  const name = ref.replace('#/components/schemas/', '');
  const found = loadSpec().components.schemas[name];
  if (!found) throw new Error(`unknown schema ${ref}`);
  return deref(found);
}

/** The smallest value the schema allows: required properties only, nulls where allowed, first enum value. */
function minimal(schemaIn: Schema, depth = 0): unknown {
  const schema = deref(schemaIn);
  if (depth > 12) return null;
  if (schema.anyOf?.some((s) => s.type === 'null')) return null;
  if (schema.allOf) return schema.allOf.reduce<unknown>((acc, s) => merge(acc, minimal(s, depth + 1)), {});
  if (schema.anyOf?.[0] ?? schema.oneOf?.[0]) return minimal((schema.anyOf ?? schema.oneOf ?? [])[0] as Schema, depth + 1);
  if (schema.nullable) return null;
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const out: Json = {};
      for (const name of schema.required ?? []) out[name] = minimal(schema.properties?.[name] ?? {}, depth + 1);
      return out;
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return false;
    case 'string':
      return schema.format === 'date-time' ? '2026-01-01T00:00:00Z' : schema.format === 'uri' ? 'https://github.example/x' : 'x';
    default:
      return {};
  }
}

function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Json = { ...(base as Json) };
    for (const [k, v] of Object.entries(over as Json)) out[k] = merge(out[k], v);
    return out;
  }
  return over;
}

/** A component object (e.g. "workflow-run") filled with GitHub-shaped defaults, `fields` on top. */
export function ghObject(component: string, fields: Json): Json {
  return merge(minimal({ $ref: `#/components/schemas/${component}` }), fields) as Json;
}

export interface StandinCommit { sha: string; message: string; author: string; parents: string[]; at: number; /** The repository's files at this commit (path → content). */ files?: Record<string, string> }
/** A release made through POST /releases. */
export interface StandinRelease { id: number; tag: string; name: string; body: string }
export interface WorkflowPlan { conclusion: 'success' | 'failure' | 'cancelled'; /** How many reads of the run before it completes. */ polls?: number; failedJob?: { name: string; log: string } }
export interface StandinRun { id: number; file: string; ref: string; headSha: string; inputs: Record<string, unknown>; createdAt: number; reads: number; plan: WorkflowPlan }
export interface StandinDeployment { id: number; sha: string; ref: string; environment: string; payload: unknown; requiredContexts?: string[]; autoMerge?: boolean; statuses: Array<{ id: number; state: string; description: string; logUrl?: string }> }
export type Fault = { mode: 'down' | 'rate-limited' | 'secondary' | 'slow'; /** How many requests get it (default: all until cleared). */ times?: number; delayMs?: number; /** Only requests whose path matches get it (default: every request). */ paths?: RegExp };

export interface GithubStandin {
  url: string;
  owner: string;
  repo: string;
  token: string;
  calls: Array<{ method: string; path: string; body: Json }>;
  /** Answers that did not follow GitHub's REST description (each was sent as a 500). */
  problems: string[];
  commits: Map<string, StandinCommit>;
  branches: Map<string, string>;
  tags: Map<string, string>;
  deployments: StandinDeployment[];
  runs: StandinRun[];
  /** What the next dispatch of a workflow file does. */
  plans: Map<string, WorkflowPlan>;
  statuses: Map<string, Array<{ context: string; state: 'success' | 'failure' | 'pending' | 'error' }>>;
  checkRuns: Map<string, Array<{ name: string; status: 'completed' | 'in_progress' | 'queued'; conclusion: 'success' | 'failure' | 'neutral' | 'skipped' | null }>>;
  pulls: Array<{ number: number; headSha: string; mergeSha?: string; reviews: Array<{ user: string; state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' }>; /** GraphQL's reviewDecision (not in the REST description). */ reviewDecision?: 'APPROVED' | 'REVIEW_REQUIRED' | 'CHANGES_REQUESTED' | null }>;
  fault?: Fault;
  /** Annotated tag objects (POST git/tags) by their SHA, and the tag refs that point at one (name → tag object SHA). */
  tagObjects: Map<string, { tag: string; object: string; message: string }>;
  annotated: Map<string, string>;
  releases: StandinRelease[];
  /** Adds a commit on top of `branch` (created if new) and returns its SHA; `files` are set (or changed) in it. */
  commit(branch: string, message: string, author?: string, files?: Record<string, string>): string;
  stop(): Promise<void>;
}

let seq = 0;

export async function startGithubStandin(opts: { token?: string; owner?: string; repo?: string } = {}): Promise<GithubStandin> {
  const owner = opts.owner ?? 'acme';
  const repo = opts.repo ?? 'shop';
  const token = opts.token ?? 'ghp_standin_token';
  let url = '';
  const repoUrl = () => `${url}/repos/${owner}/${repo}`;
  const html = `https://github.example/${owner}/${repo}`;

  const s: GithubStandin = {
    url: '', owner, repo, token, calls: [], problems: [], commits: new Map(), branches: new Map(), tags: new Map(), deployments: [], runs: [], plans: new Map(), statuses: new Map(), checkRuns: new Map(), pulls: [],
    tagObjects: new Map(), annotated: new Map(), releases: [],
    commit(branch, message, author = 'Ada Lovelace', files = {}) {
      const parent = s.branches.get(branch);
      const sha = createHash('sha1').update(`${branch}:${message}:${++seq}:${Date.now()}`).digest('hex');
      s.commits.set(sha, { sha, message, author, parents: parent ? [parent] : [], at: Date.now(), files: { ...(parent ? s.commits.get(parent)?.files : {}), ...files } });
      s.branches.set(branch, sha);
      return sha;
    },
    stop: () => new Promise((ok) => server.close(() => ok())),
  };

  const resolveRef = (ref: string): StandinCommit | undefined => {
    const sha = s.branches.get(ref) ?? s.tags.get(ref) ?? (ref.length >= 7 ? [...s.commits.keys()].find((k) => k.startsWith(ref)) : undefined);
    return sha ? s.commits.get(sha) : undefined;
  };
  const user = (login: string) => ghObject('simple-user', { login, id: 1, node_id: 'U_1', avatar_url: 'https://github.example/a.png', gravatar_id: null, url: `${url}/users/${login}`, html_url: `https://github.example/${login}`, type: 'User', site_admin: false });
  const commitJson = (c: StandinCommit) => ghObject('commit', {
    sha: c.sha, node_id: `C_${c.sha.slice(0, 8)}`, url: `${repoUrl()}/commits/${c.sha}`, html_url: `${html}/commit/${c.sha}`, comments_url: `${repoUrl()}/commits/${c.sha}/comments`,
    commit: { url: `${repoUrl()}/git/commits/${c.sha}`, message: c.message, comment_count: 0, author: { name: c.author, email: 'dev@example.com', date: new Date(c.at).toISOString() }, committer: { name: c.author, email: 'dev@example.com', date: new Date(c.at).toISOString() }, tree: { sha: c.sha, url: `${repoUrl()}/git/trees/${c.sha}` } },
    author: null, committer: null, parents: c.parents.map((p) => ({ sha: p, url: `${repoUrl()}/commits/${p}` })),
  });
  /** Commits reachable from `sha` (every parent, so merged branches count), newest first. */
  const ancestry = (sha: string): string[] => {
    const seen = new Set<string>();
    const queue = [sha];
    while (queue.length) {
      const c = s.commits.get(queue.shift() ?? '');
      if (!c || seen.has(c.sha)) continue;
      seen.add(c.sha);
      queue.push(...c.parents);
    }
    return [...seen].sort((a, b) => (s.commits.get(b)?.at ?? 0) - (s.commits.get(a)?.at ?? 0));
  };
  /** The files that differ between two commits' trees, with GitHub's status words. */
  const changedFiles = (from: StandinCommit, to: StandinCommit) => {
    const a = from.files ?? {};
    const b = to.files ?? {};
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().filter((f) => a[f] !== b[f]).map((f) => ({ filename: f, status: f in a ? (f in b ? 'modified' : 'removed') : 'added' }));
  };
  /** The newest commit both reach. */
  const mergeBase = (x: string, y: string): StandinCommit | undefined => {
    const ys = new Set(ancestry(y));
    const found = ancestry(x).find((c) => ys.has(c));
    return found ? s.commits.get(found) : undefined;
  };
  const gitRefJson = (ref: string, sha: string, type: 'commit' | 'tag') => ghObject('git-ref', { ref, node_id: `REF_${ref}`, url: `${repoUrl()}/git/${ref}`, object: { type, sha, url: `${repoUrl()}/git/${type}s/${sha}` } });
  const gitTagJson = (sha: string, t: { tag: string; object: string; message: string }) => ghObject('git-tag', {
    node_id: `TAG_${sha.slice(0, 8)}`, tag: t.tag, sha, url: `${repoUrl()}/git/tags/${sha}`, message: t.message,
    tagger: { date: new Date().toISOString(), email: 'shipmate@example.com', name: 'Shipmate' }, object: { sha: t.object, type: 'commit', url: `${repoUrl()}/git/commits/${t.object}` }, verification: { verified: false, reason: 'unsigned', payload: null, signature: null, verified_at: null },
  });
  const releaseJson = (r: StandinRelease) => ghObject('release', {
    url: `${repoUrl()}/releases/${r.id}`, html_url: `${html}/releases/tag/${r.tag}`, assets_url: `${repoUrl()}/releases/${r.id}/assets`, upload_url: `${repoUrl()}/releases/${r.id}/assets{?name,label}`,
    tarball_url: null, zipball_url: null, id: r.id, node_id: `RE_${r.id}`, tag_name: r.tag, target_commitish: 'main', name: r.name, body: r.body, draft: false, prerelease: false,
    created_at: new Date().toISOString(), published_at: new Date().toISOString(), author: user('shipmate'), assets: [],
  });
  const fileCommitJson = (c: StandinCommit, path: string) => ghObject('file-commit', {
    content: { name: path.split('/').at(-1), path, sha: createHash('sha1').update(c.files?.[path] ?? '').digest('hex'), size: (c.files?.[path] ?? '').length, url: `${repoUrl()}/contents/${path}`, html_url: `${html}/blob/${c.sha}/${path}`, git_url: `${repoUrl()}/git/blobs/x`, download_url: `${html}/raw/${c.sha}/${path}`, type: 'file', _links: { self: `${repoUrl()}/contents/${path}`, git: `${repoUrl()}/git/blobs/x`, html: `${html}/blob/${c.sha}/${path}` } },
    commit: { sha: c.sha, node_id: `C_${c.sha.slice(0, 8)}`, url: `${repoUrl()}/git/commits/${c.sha}`, html_url: `${html}/commit/${c.sha}`, author: { date: new Date(c.at).toISOString(), name: c.author, email: 'dev@example.com' }, committer: { date: new Date(c.at).toISOString(), name: c.author, email: 'dev@example.com' }, message: c.message, tree: { url: `${repoUrl()}/git/trees/${c.sha}`, sha: c.sha }, parents: c.parents.map((p) => ({ url: `${repoUrl()}/commits/${p}`, html_url: `${html}/commit/${p}`, sha: p })), verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null } },
  });
  const unprocessable = (message: string): Answer => ({ status: 422, body: { message, documentation_url: 'https://docs.github.com/rest' } });
  const runJson = (r: StandinRun) => {
    const done = r.reads > (r.plan.polls ?? 1);
    return ghObject('workflow-run', {
      id: r.id, name: r.file.replace(/\.ya?ml$/, ''), node_id: `WR_${r.id}`, head_branch: r.ref, head_sha: r.headSha, path: `.github/workflows/${r.file}`, run_number: r.id, event: 'workflow_dispatch',
      display_title: r.file, status: done ? 'completed' : 'in_progress', conclusion: done ? r.plan.conclusion : null, workflow_id: 1, url: `${repoUrl()}/actions/runs/${r.id}`, html_url: `${html}/actions/runs/${r.id}`,
      created_at: new Date(r.createdAt).toISOString(), updated_at: new Date(r.createdAt).toISOString(),
    });
  };
  const deploymentJson = (d: StandinDeployment) => ghObject('deployment', {
    id: d.id, node_id: `D_${d.id}`, sha: d.sha, ref: d.ref, task: 'deploy', payload: d.payload, environment: d.environment, url: `${repoUrl()}/deployments/${d.id}`, creator: user('shipmate'),
    created_at: new Date().toISOString(), updated_at: new Date().toISOString(), statuses_url: `${repoUrl()}/deployments/${d.id}/statuses`, repository_url: repoUrl(), description: null,
  });

  type Answer = { status: number; body?: unknown; headers?: Record<string, string>; text?: string };
  type Route = { method: string; spec: string; handle: (p: Record<string, string>, q: URLSearchParams, body: Json) => Answer };
  const notFound: Answer = { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
  const routes: Route[] = [
    { method: 'get', spec: '/repos/{owner}/{repo}/commits/{ref}', handle: (p) => {
      const c = resolveRef(p.ref ?? '');
      return c ? { status: 200, body: commitJson(c) } : { status: 422, body: { message: `No commit found for SHA: ${p.ref}`, documentation_url: 'https://docs.github.com/rest' } };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/tags', handle: () => ({ status: 200, body: [...s.tags].map(([name, sha]) => ghObject('tag', { name, commit: { sha, url: `${repoUrl()}/commits/${sha}` }, zipball_url: `${html}/zip/${name}`, tarball_url: `${html}/tar/${name}`, node_id: `T_${name}` })) }) },
    { method: 'get', spec: '/repos/{owner}/{repo}/branches', handle: () => ({ status: 200, body: [...s.branches].map(([name, sha]) => ghObject('short-branch', { name, commit: { sha, url: `${repoUrl()}/commits/${sha}` }, protected: false })) }) },
    { method: 'get', spec: '/repos/{owner}/{repo}/compare/{basehead}', handle: (p) => {
      const [base, head] = (p.basehead ?? '').split('...');
      const b = resolveRef(base ?? '');
      const h = resolveRef(head ?? '');
      if (!b || !h) return notFound;
      const fromHead = ancestry(h.sha);
      const fromBase = ancestry(b.sha);
      const ahead = fromHead.filter((x) => !fromBase.includes(x)).reverse();
      const behind = fromBase.filter((x) => !fromHead.includes(x));
      return { status: 200, body: ghObject('commit-comparison', {
        url: `${repoUrl()}/compare/${p.basehead}`, html_url: `${html}/compare/${p.basehead}`, permalink_url: `${html}/compare/${p.basehead}`, diff_url: `${html}/compare/${p.basehead}.diff`, patch_url: `${html}/compare/${p.basehead}.patch`,
        base_commit: commitJson(b), merge_base_commit: commitJson(b), status: behind.length && ahead.length ? 'diverged' : ahead.length ? 'ahead' : behind.length ? 'behind' : 'identical',
        ahead_by: ahead.length, behind_by: behind.length, total_commits: ahead.length, commits: ahead.map((x) => commitJson(s.commits.get(x) as StandinCommit)),
        // Like GitHub's three-dot compare: the changes on head since the commit both share.
        files: changedFiles(mergeBase(b.sha, h.sha) ?? b, h).map((f) => ghObject('diff-entry', { sha: h.sha, filename: f.filename, status: f.status, additions: 1, deletions: 0, changes: 1, blob_url: `${html}/blob/${h.sha}/${f.filename}`, raw_url: `${html}/raw/${h.sha}/${f.filename}`, contents_url: `${repoUrl()}/contents/${f.filename}` })),
      }) };
    } },
    // ── Releases (src/releases/github-host.ts): refs, annotated tags, releases, merges, file contents, commit lists ──
    { method: 'get', spec: '/repos/{owner}/{repo}/git/ref/{ref}', handle: (p) => {
      const ref = p.ref ?? '';
      if (ref.startsWith('heads/')) {
        const sha = s.branches.get(ref.slice(6));
        return sha ? { status: 200, body: gitRefJson(`refs/${ref}`, sha, 'commit') } : notFound;
      }
      if (ref.startsWith('tags/')) {
        const name = ref.slice(5);
        const obj = s.annotated.get(name);
        const sha = s.tags.get(name);
        return obj ? { status: 200, body: gitRefJson(`refs/${ref}`, obj, 'tag') } : sha ? { status: 200, body: gitRefJson(`refs/${ref}`, sha, 'commit') } : notFound;
      }
      return notFound;
    } },
    { method: 'post', spec: '/repos/{owner}/{repo}/git/refs', handle: (_p, _q, body) => {
      const ref = String(body.ref ?? '');
      const sha = String(body.sha ?? '');
      if (ref.startsWith('refs/heads/')) {
        if (s.branches.has(ref.slice(11))) return unprocessable('Reference already exists');
        if (!s.commits.has(sha)) return unprocessable('Object does not exist');
        s.branches.set(ref.slice(11), sha);
        return { status: 201, body: gitRefJson(ref, sha, 'commit') };
      }
      if (ref.startsWith('refs/tags/')) {
        const name = ref.slice(10);
        if (s.tags.has(name)) return unprocessable('Reference already exists');
        const obj = s.tagObjects.get(sha);
        if (!obj && !s.commits.has(sha)) return unprocessable('Object does not exist');
        s.tags.set(name, obj ? obj.object : sha);
        if (obj) s.annotated.set(name, sha);
        return { status: 201, body: gitRefJson(ref, sha, obj ? 'tag' : 'commit') };
      }
      return unprocessable('Reference name is not valid');
    } },
    { method: 'post', spec: '/repos/{owner}/{repo}/git/tags', handle: (_p, _q, body) => {
      const object = String(body.object ?? '');
      if (!s.commits.has(object)) return unprocessable('Object does not exist');
      const t = { tag: String(body.tag ?? ''), object, message: String(body.message ?? '') };
      const sha = createHash('sha1').update(`tag:${t.tag}:${t.object}:${++seq}`).digest('hex');
      s.tagObjects.set(sha, t);
      return { status: 201, body: gitTagJson(sha, t) };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/git/tags/{tag_sha}', handle: (p) => {
      const t = s.tagObjects.get(p.tag_sha ?? '');
      return t ? { status: 200, body: gitTagJson(p.tag_sha ?? '', t) } : notFound;
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/releases/tags/{tag}', handle: (p) => {
      const r = s.releases.find((x) => x.tag === p.tag);
      return r ? { status: 200, body: releaseJson(r) } : notFound;
    } },
    { method: 'post', spec: '/repos/{owner}/{repo}/releases', handle: (_p, _q, body) => {
      const tag = String(body.tag_name ?? '');
      if (s.releases.some((x) => x.tag === tag)) return unprocessable('Validation Failed: tag_name already_exists');
      const r: StandinRelease = { id: 7000 + s.releases.length + 1, tag, name: String(body.name ?? tag), body: String(body.body ?? '') };
      s.releases.push(r);
      return { status: 201, body: releaseJson(r) };
    } },
    { method: 'post', spec: '/repos/{owner}/{repo}/merges', handle: (_p, _q, body) => {
      const baseName = String(body.base ?? '');
      const baseSha = s.branches.get(baseName);
      const head = resolveRef(String(body.head ?? ''));
      if (!baseSha || !head) return { status: 404, body: { message: 'Base or head does not exist', documentation_url: 'https://docs.github.com/rest' } };
      const base = s.commits.get(baseSha) as StandinCommit;
      if (ancestry(base.sha).includes(head.sha)) return { status: 204 };
      const shared = mergeBase(base.sha, head.sha);
      const ours = new Set(changedFiles(shared ?? base, base).map((f) => f.filename));
      const theirs = changedFiles(shared ?? base, head);
      if (theirs.some((f) => ours.has(f.filename) && base.files?.[f.filename] !== head.files?.[f.filename])) return { status: 409, body: { message: 'Merge conflict', documentation_url: 'https://docs.github.com/rest' } };
      const files = { ...base.files };
      for (const f of theirs) {
        if (f.status === 'removed') delete files[f.filename];
        else files[f.filename] = head.files?.[f.filename] ?? '';
      }
      const sha = createHash('sha1').update(`merge:${base.sha}:${head.sha}:${++seq}`).digest('hex');
      const c: StandinCommit = { sha, message: String(body.commit_message ?? `Merge ${String(body.head)} into ${baseName}`), author: 'Shipmate', parents: [base.sha, head.sha], at: Date.now(), files };
      s.commits.set(sha, c);
      s.branches.set(baseName, sha);
      return { status: 201, body: commitJson(c) };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/contents/{path}', handle: (p, q) => {
      const c = resolveRef(q.get('ref') ?? 'main');
      const path = p.path ?? '';
      const content = c?.files?.[path];
      if (!c || content === undefined) return notFound;
      const sha = createHash('sha1').update(content).digest('hex');
      return { status: 200, body: ghObject('content-file', {
        type: 'file', encoding: 'base64', size: content.length, name: path.split('/').at(-1), path, content: Buffer.from(content).toString('base64'), sha,
        url: `${repoUrl()}/contents/${path}`, git_url: `${repoUrl()}/git/blobs/${sha}`, html_url: `${html}/blob/${c.sha}/${path}`, download_url: `${html}/raw/${c.sha}/${path}`,
        _links: { self: `${repoUrl()}/contents/${path}`, git: `${repoUrl()}/git/blobs/${sha}`, html: `${html}/blob/${c.sha}/${path}` },
      }) };
    } },
    { method: 'put', spec: '/repos/{owner}/{repo}/contents/{path}', handle: (p, _q, body) => {
      const branch = String(body.branch ?? 'main');
      const tipSha = s.branches.get(branch);
      const tip = tipSha ? s.commits.get(tipSha) : undefined;
      if (!tip) return notFound;
      const path = p.path ?? '';
      const current = tip.files?.[path];
      const currentSha = current === undefined ? undefined : createHash('sha1').update(current).digest('hex');
      // GitHub's optimistic lock: updating a file needs the SHA of the version being replaced.
      if (currentSha !== (body.sha === undefined ? undefined : String(body.sha))) return { status: 409, body: { message: `${path} does not match ${String(body.sha)}`, documentation_url: 'https://docs.github.com/rest' } };
      const sha = s.commit(branch, String(body.message ?? `Update ${path}`), 'Shipmate', { [path]: Buffer.from(String(body.content ?? ''), 'base64').toString('utf8') });
      return { status: current === undefined ? 201 : 200, body: fileCommitJson(s.commits.get(sha) as StandinCommit, path) };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/commits', handle: (_p, q) => {
      const c = resolveRef(q.get('sha') ?? 'main');
      if (!c) return notFound;
      const perPage = Number(q.get('per_page') ?? 30);
      const page = Number(q.get('page') ?? 1);
      return { status: 200, body: ancestry(c.sha).slice((page - 1) * perPage, page * perPage).map((x) => commitJson(s.commits.get(x) as StandinCommit)) };
    } },
    { method: 'post', spec: '/repos/{owner}/{repo}/deployments', handle: (_p, _q, body) => {
      const c = resolveRef(String(body.ref ?? ''));
      if (!c) return { status: 422, body: { message: `No ref found for: ${String(body.ref)}`, documentation_url: 'https://docs.github.com/rest' } };
      const d: StandinDeployment = { id: 1000 + s.deployments.length + 1, sha: c.sha, ref: String(body.ref), environment: String(body.environment ?? 'production'), payload: body.payload ?? {}, requiredContexts: body.required_contexts as string[] | undefined, autoMerge: body.auto_merge as boolean | undefined, statuses: [] };
      s.deployments.push(d);
      return { status: 201, body: deploymentJson(d) };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/deployments', handle: (_p, q) => ({ status: 200, body: s.deployments.filter((d) => (!q.get('sha') || d.sha === q.get('sha')) && (!q.get('environment') || d.environment === q.get('environment'))).reverse().map(deploymentJson) }) },
    { method: 'post', spec: '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses', handle: (p, _q, body) => {
      const d = s.deployments.find((x) => String(x.id) === p.deployment_id);
      if (!d) return notFound;
      const st = { id: d.id * 100 + d.statuses.length + 1, state: String(body.state), description: String(body.description ?? ''), logUrl: body.log_url as string | undefined };
      d.statuses.push(st);
      return { status: 201, body: ghObject('deployment-status', {
        id: st.id, node_id: `DS_${st.id}`, state: st.state, creator: user('shipmate'), description: st.description, environment: d.environment, deployment_url: `${repoUrl()}/deployments/${d.id}`,
        target_url: st.logUrl ?? '', log_url: st.logUrl ?? '', repository_url: repoUrl(), url: `${repoUrl()}/deployments/${d.id}/statuses/${st.id}`, created_at: new Date().toISOString(), updated_at: new Date().toISOString(),
      }) };
    } },
    { method: 'post', spec: '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', handle: (p, _q, body) => {
      const file = p.workflow_id ?? '';
      const ref = String(body.ref ?? '');
      const c = resolveRef(ref);
      if (!c) return { status: 422, body: { message: `No ref found for: ${ref}`, documentation_url: 'https://docs.github.com/rest' } };
      s.runs.push({ id: 5000 + s.runs.length + 1, file, ref, headSha: c.sha, inputs: (body.inputs as Record<string, unknown>) ?? {}, createdAt: Date.now(), reads: 0, plan: s.plans.get(file) ?? { conclusion: 'success' } });
      return { status: 204 };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', handle: (p, q) => {
      const created = q.get('created')?.replace(/^>=/, '');
      const runs = s.runs.filter((r) => r.file === p.workflow_id && (!q.get('branch') || r.ref === q.get('branch')) && (!q.get('event') || q.get('event') === 'workflow_dispatch') && (!created || r.createdAt >= Date.parse(created))).reverse();
      return { status: 200, body: { total_count: runs.length, workflow_runs: runs.map(runJson) } };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/actions/runs/{run_id}', handle: (p) => {
      const r = s.runs.find((x) => String(x.id) === p.run_id);
      if (!r) return notFound;
      r.reads += 1;
      return { status: 200, body: runJson(r) };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/actions/runs/{run_id}/jobs', handle: (p) => {
      const r = s.runs.find((x) => String(x.id) === p.run_id);
      if (!r) return notFound;
      const done = r.reads > (r.plan.polls ?? 1);
      const jobs = [{ id: r.id * 10 + 1, name: 'build', conclusion: 'success' }, ...(r.plan.failedJob ? [{ id: r.id * 10 + 2, name: r.plan.failedJob.name, conclusion: 'failure' }] : [])];
      return { status: 200, body: { total_count: jobs.length, jobs: jobs.map((j) => ghObject('job', {
        id: j.id, run_id: r.id, run_url: `${repoUrl()}/actions/runs/${r.id}`, node_id: `J_${j.id}`, head_sha: r.headSha, url: `${repoUrl()}/actions/jobs/${j.id}`, html_url: `${html}/actions/runs/${r.id}/job/${j.id}`,
        status: done ? 'completed' : 'in_progress', conclusion: done ? j.conclusion : null, name: j.name, steps: [], check_run_url: `${repoUrl()}/check-runs/${j.id}`, labels: [], runner_id: null, runner_name: null, runner_group_id: null, runner_group_name: null,
        workflow_name: r.file, head_branch: r.ref, created_at: new Date(r.createdAt).toISOString(), started_at: new Date(r.createdAt).toISOString(), completed_at: null,
      })) } };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/actions/jobs/{job_id}/logs', handle: (p) => {
      // GitHub answers with a redirect to a short-lived log URL.
      return { status: 302, headers: { location: `${url}/_logs/${p.job_id}` } };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/commits/{ref}/status', handle: (p) => {
      const c = resolveRef(p.ref ?? '');
      if (!c) return notFound;
      const list = s.statuses.get(c.sha) ?? [];
      const state = list.some((x) => x.state === 'failure' || x.state === 'error') ? 'failure' : list.every((x) => x.state === 'success') ? 'success' : 'pending';
      return { status: 200, body: ghObject('combined-commit-status', {
        state, sha: c.sha, total_count: list.length, commit_url: `${repoUrl()}/commits/${c.sha}`, url: `${repoUrl()}/commits/${c.sha}/status`,
        statuses: list.map((x, i) => ghObject('simple-commit-status', { id: i + 1, node_id: `S_${i}`, context: x.context, state: x.state, description: null, target_url: `${html}/status/${i}`, avatar_url: null, url: `${repoUrl()}/statuses/${c.sha}`, created_at: new Date().toISOString(), updated_at: new Date().toISOString() })),
        repository: ghObject('minimal-repository', { id: 1, node_id: 'R_1', name: repo, full_name: `${owner}/${repo}`, owner: user(owner), private: false, html_url: html, description: null, fork: false, url: repoUrl() }),
      }) };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/commits/{ref}/check-runs', handle: (p) => {
      const c = resolveRef(p.ref ?? '');
      const list = c ? (s.checkRuns.get(c.sha) ?? []) : [];
      return { status: 200, body: { total_count: list.length, check_runs: list.map((x, i) => ghObject('check-run', {
        id: i + 1, head_sha: c?.sha ?? '', node_id: `CR_${i}`, external_id: null, url: `${repoUrl()}/check-runs/${i + 1}`, html_url: `${html}/runs/${i + 1}`, details_url: `${html}/runs/${i + 1}`, status: x.status, conclusion: x.conclusion, started_at: null, completed_at: null,
        output: { title: null, summary: null, text: null, annotations_count: 0, annotations_url: `${repoUrl()}/check-runs/${i + 1}/annotations` }, name: x.name, check_suite: null, app: null, pull_requests: [],
      })) } };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/commits/{commit_sha}/pulls', handle: (p) => {
      const c = resolveRef(p.commit_sha ?? '');
      const prs = s.pulls.filter((x) => c && (x.headSha === c.sha || x.mergeSha === c.sha));
      return { status: 200, body: prs.map((x) => ghObject('pull-request-simple', {
        number: x.number, id: x.number, node_id: `PR_${x.number}`, url: `${repoUrl()}/pulls/${x.number}`, html_url: `${html}/pull/${x.number}`, state: 'closed', title: `PR ${x.number}`, user: null, body: null, locked: false,
        head: { label: 'x', ref: 'feature', sha: x.headSha }, base: { label: 'main', ref: 'main', sha: x.mergeSha ?? x.headSha }, merge_commit_sha: x.mergeSha ?? null,
        created_at: new Date().toISOString(), updated_at: new Date().toISOString(), closed_at: null, merged_at: null, assignee: null, milestone: null, active_lock_reason: null, author_association: 'MEMBER', auto_merge: null,
      })) };
    } },
    { method: 'get', spec: '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', handle: (p) => {
      const pr = s.pulls.find((x) => String(x.number) === p.pull_number);
      return { status: 200, body: (pr?.reviews ?? []).map((r, i) => ghObject('pull-request-review', {
        id: i + 1, node_id: `PRR_${i}`, user: user(r.user), body: '', state: r.state, html_url: `${html}/pull/${p.pull_number}#review-${i + 1}`, pull_request_url: `${repoUrl()}/pulls/${p.pull_number}`,
        _links: { html: { href: `${html}/pull/${p.pull_number}` }, pull_request: { href: `${repoUrl()}/pulls/${p.pull_number}` } }, commit_id: pr?.headSha ?? null, author_association: 'MEMBER',
      })) };
    } },
  ];

  precompile(routes);
  const matchers = routes.map((r) => {
    const names: string[] = [];
    // basehead, a git ref ("heads/release/v1.5.0") and a file path may hold slashes.
    const wide = (n: string) => n === 'basehead' || n === 'path' || (n === 'ref' && r.spec.includes('/git/ref/'));
    const pattern = new RegExp(`^${r.spec.replace(/\{(\w+)\}/g, (_m, n: string) => (names.push(n), wide(n) ? '(.+)' : '([^/]+)'))}$`);
    return { route: r, names, pattern };
  });

  async function readBody(req: IncomingMessage): Promise<Json> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    return raw ? (JSON.parse(raw) as Json) : {};
  }

  function send(res: ServerResponse, answer: Answer): void {
    res.writeHead(answer.status, { 'content-type': answer.text !== undefined ? 'text/plain' : 'application/json; charset=utf-8', ...answer.headers });
    res.end(answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)));
  }

  const server = createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const method = (req.method ?? 'GET').toLowerCase();
      const body = await readBody(req);
      s.calls.push({ method, path: u.pathname, body });
      if (u.pathname.startsWith('/_logs/')) {
        const jobId = Number(u.pathname.split('/')[2]);
        const run = s.runs.find((r) => r.id === Math.floor(jobId / 10));
        return send(res, { status: 200, text: run?.plan.failedJob?.log ?? '' });
      }
      if (u.pathname === '/graphql' || u.pathname === '/api/graphql') {
        // Only the review decision query (GraphQL is not in the REST description, so this answer is not validated).
        const pr = s.pulls.find((x) => x.number === Number((body.variables as { number?: number } | undefined)?.number));
        return send(res, { status: 200, body: { data: { repository: { pullRequest: pr ? { reviewDecision: pr.reviewDecision ?? null } : null } } } });
      }
      const fault = s.fault && (!s.fault.paths || s.fault.paths.test(u.pathname)) ? s.fault : undefined;
      if (fault) {
        if (fault.times !== undefined && --fault.times <= 0) s.fault = undefined;
        if (fault.mode === 'slow') await new Promise((ok) => setTimeout(ok, fault.delayMs ?? 2_000));
        if (fault.mode === 'down') return send(res, { status: 500, body: { message: 'Server Error' } });
        if (fault.mode === 'rate-limited') {
          return send(res, { status: 403, headers: { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000)) }, body: { message: 'API rate limit exceeded for user ID 1.', documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting' } });
        }
        if (fault.mode === 'secondary') {
          return send(res, { status: 429, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest' } });
        }
      }
      if (req.headers.authorization !== `token ${token}` && req.headers.authorization !== `Bearer ${token}`) return send(res, { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } });
      const path = u.pathname.replace(/^\/api\/v3/, '');
      for (const { route, names, pattern } of matchers) {
        const m = route.method === method ? pattern.exec(path) : null;
        if (!m) continue;
        const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? '')]));
        if (params.owner !== owner || params.repo !== repo) return send(res, notFound);
        const answer = route.handle(params, u.searchParams, body);
        if (answer.status < 300 && answer.body !== undefined) {
          const problems = validateAgainstSpec(route.spec, method, answer.status, answer.body);
          if (problems.length) {
            s.problems.push(...problems);
            return send(res, { status: 500, body: { message: `stand-in answer does not follow GitHub's REST description: ${problems.join('; ')}` } });
          }
        }
        return send(res, answer);
      }
      send(res, notFound);
    })().catch((err: Error) => send(res, { status: 500, body: { message: err.message } }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  s.url = url;
  return s;
}

/** Shipmate's GitHub settings for talking to the stand-in, with the waits (rate limits, polls, write spacing) shortened. */
export function standinSettings(gh: Pick<GithubStandin, 'token' | 'url'>, webhookSecret?: string): GithubSettings {
  return { token: gh.token, apiUrl: gh.url, webhookSecret, retryAfterBaseValue: 5, pollMs: { min: 20, max: 80 }, writeLimiter: new Bottleneck.Group({ maxConcurrent: 1, minTime: 5 }) };
}
