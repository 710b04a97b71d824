// Releases and hotfixes from request to announcement. `advance` runs the release's steps in order — plan (version
// and notes), branch, (hotfix: wait for the fix), one deploy per environment through its gates, tag, GitHub release,
// CHANGELOG, announcement, merge back, follow-ups — storing each step's outcome in the release record before the
// next, so it is resumable anywhere; every write to the repository is check-before-create (see host.ts), and every
// message goes through the delivery path with a key per release and step, so nothing is made or said twice.
import type { Deps } from '../deps.js';
import { escapeMrkdwn, mention } from '../../blocks/format.js';
import { editNotesModal, notesBlocks, releaseStatusBlocks, releaseTitle } from '../../blocks/release.js';
import { ConflictError, NotAuthorizedError, UserInputError } from '../core/errors.js';
import { isFinal } from '../deploys/deploy-store.js';
import { parseRepository } from '../versions/repository.js';
import { GITHUB_OFF } from '../github/client.js';
import { GithubReleaseHost } from './github-host.js';
import { GitReleaseHost } from './git-host.js';
import { HostError, type ReleaseHost } from './host.js';
import { kindFor, kindLabel, kindRules, kindSummary } from '../gates/release-kinds.js';
import { draftNotes, isBreaking, markdownToMrkdwn, notesMarkdown } from './notes.js';
import { ReleaseQueue } from './release-queue.js';
import { isDone, ReleaseStore, type ReleaseRecord, type ReleaseType } from './release-store.js';
import { hotfixVersion, latestRelease, latestTag, nextVersion, type VersionRequest } from './versioning.js';

export type ReleaseDeps = Pick<Deps, 'config' | 'store' | 'deploys' | 'messenger' | 'gates' | 'delivery' | 'notifier' | 'log' | 'now' | 'redis' | 'prefix' | 'github' | 'roles' | 'versions'>;

/** Ontos' post-hotfix tasks, posted when a hotfix is out. */
export const POST_HOTFIX_TASKS = [
  '*Post-mortem*: document the root cause and how to prevent it',
  '*Update tests*: add the test case that would have caught it (regression test)',
  '*Update docs*: update the troubleshooting guides',
  '*Communicate*: notify the team and stakeholders',
];

/** The release waits (for a deploy, a click) and is looked at again after the poll interval. */
export type Advance = 'wait' | 'done';

const keys = {
  status: (id: string) => `release:${id}:status`,
  notes: (id: string) => `release:${id}:notes`,
};

/** The notes went into the tag (and the GitHub release) once the tag step ran: from then on they are not edited here. */
export function published(r: ReleaseRecord): boolean {
  return isDone(r) || r.steps.tag?.status === 'done' || r.steps.publish?.status === 'done';
}

export function slugify(text: string): string {
  return text.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '') || 'fix';
}

export class ReleaseService {
  readonly store: ReleaseStore;
  readonly queue: ReleaseQueue;
  private hostCache?: ReleaseHost | null;

  constructor(private readonly d: ReleaseDeps, hostOverride?: ReleaseHost) {
    this.store = new ReleaseStore(d.redis, d.prefix);
    this.queue = new ReleaseQueue(d.redis, d.prefix, d.config.releases.pollInterval, d.config.releases.retries, (err) => d.log.warn({ queue: 'releases', err: err.message }, 'queue connection error'));
    if (hostOverride) this.hostCache = hostOverride;
  }

  private get cfg() {
    return this.d.config.releases;
  }

  /** Where releases are made: GitHub (owner/name with a token) or a local git repository; null when neither. */
  host(): ReleaseHost | null {
    if (this.hostCache !== undefined) return this.hostCache;
    const value = this.d.config.repository;
    const repo = value ? parseRepository(value) : undefined;
    if (repo?.kind === 'github' && this.d.github) this.hostCache = new GithubReleaseHost(this.d.github, repo.webUrl);
    else if (repo?.kind === 'local') this.hostCache = new GitReleaseHost(repo.gitUrl, this.d.versions.gitEnv);
    else this.hostCache = null;
    return this.hostCache;
  }

  /** Why releases cannot run here, or undefined. */
  unavailable(): string | undefined {
    if (this.host()) return undefined;
    const value = this.d.config.repository;
    const repo = value ? parseRepository(value) : undefined;
    if (repo?.kind === 'github') return `Releases need GitHub: ${GITHUB_OFF}`;
    return 'Releases need a repository Shipmate can write to: `repository: owner/name` with GITHUB_TOKEN, or a local git repository path.';
  }

  envs(): string[] {
    return this.cfg.environments ?? this.d.config.environments.map((e) => e.name);
  }

  /** Where a finished release is merged back; a hotfix also into `develop` where the branch model has one (a missing branch is skipped). */
  mergeTargets(type: ReleaseType): string[] {
    if (this.cfg.mergeBackTo) return this.cfg.mergeBackTo;
    return type === 'hotfix' && this.cfg.baseBranch !== 'develop' ? [this.cfg.baseBranch, 'develop'] : [this.cfg.baseBranch];
  }

  /** Records a release and queues its job; a second one while one is active creates nothing and returns that one. */
  async startRelease(req: { request: VersionRequest; user: string; channel: string; delivery?: string }): Promise<{ record: ReleaseRecord; existing: boolean }> {
    const trigger = 'bump' in req.request ? req.request.bump : undefined;
    const kind = trigger ? kindFor(this.d.config, trigger) : undefined;
    return this.start({ type: 'release', request: req.request, ...(kind ? { kind } : {}), status: 'preparing', requestedBy: req.user, channel: req.channel, createdAt: this.d.now(), envs: this.envs(), skip: [], steps: {} }, req.delivery);
  }

  async startHotfix(req: { description: string; criterion: string; user: string; channel: string; skip: string[]; delivery?: string }): Promise<{ record: ReleaseRecord; existing: boolean }> {
    const kind = kindFor(this.d.config, 'hotfix');
    const rules = kindRules(this.d.config, kind);
    const now = this.d.now();
    return this.start({
      type: 'hotfix', description: req.description, criterion: req.criterion, ...(kind ? { kind } : {}), status: 'preparing', requestedBy: req.user, channel: req.channel, createdAt: now,
      ...(rules?.deadline ? { deadlineAt: now + rules.deadline } : {}), envs: this.envs(), skip: req.skip, steps: {},
    }, req.delivery);
  }

  private async start(draft: Omit<ReleaseRecord, 'id' | 'rev'>, delivery?: string): Promise<{ record: ReleaseRecord; existing: boolean }> {
    const made = await this.store.create(draft, delivery);
    if ('existing' in made) return { record: made.existing, existing: true };
    await this.queue.run(made.created.id);
    return { record: made.created, existing: false };
  }

  /** Which environments a hotfix may skip (the kind's maySkip), for `--skip-staging`. */
  skippable(): string[] {
    return kindRules(this.d.config, kindFor(this.d.config, 'hotfix'))?.maySkip ?? [];
  }

  rulesText(r: Pick<ReleaseRecord, 'kind' | 'type'>): string | undefined {
    return r.kind ? kindSummary(this.d.config, r.kind, r.type === 'hotfix' ? 'from /hotfix' : 'from /release') : undefined;
  }

  /** Re-renders the status message (and the notes in its thread). */
  async render(r: ReleaseRecord): Promise<void> {
    const view = { now: this.d.now(), rules: this.rulesText(r), mergeTargets: this.mergeTargets(r.type), changelog: Boolean(this.cfg.changelog) && r.type === 'release' };
    await this.d.delivery.send({ key: keys.status(r.id), channel: r.channel, mode: 'upsert', version: r.rev, ...releaseStatusBlocks(r, view) });
    if (r.notes !== undefined) await this.d.delivery.send({ key: keys.notes(r.id), channel: r.channel, threadOf: keys.status(r.id), mode: 'upsert', version: r.rev, ...notesBlocks(r, markdownToMrkdwn(r.notes)) });
  }

  private async say(r: ReleaseRecord, key: string, text: string, channel = r.channel): Promise<void> {
    await this.d.delivery.send({ key: `release:${r.id}:${key}`, channel, text, ...(channel === r.channel ? { threadOf: keys.status(r.id) } : {}) });
  }

  private async write(id: string, change: (r: ReleaseRecord) => void | false): Promise<ReleaseRecord> {
    return (await this.store.update(id, change)).record;
  }

  /** Runs `work` unless the step is settled; stores what it says happened. */
  private async step(r: ReleaseRecord, name: string, work: () => Promise<string | { status: 'done' | 'skipped' | 'conflict'; detail: string }>): Promise<ReleaseRecord> {
    const s = r.steps[name];
    if (s && s.status !== 'pending') return r;
    const out = await work();
    const { status, detail } = typeof out === 'string' ? { status: 'done' as const, detail: out } : out;
    const next = await this.write(r.id, (x) => {
      x.steps[name] = { ...x.steps[name], status, detail, at: this.d.now() };
      if (x.status === 'preparing') x.status = 'running';
    });
    this.d.log.info({ releaseId: r.id, step: name, status }, 'release step settled');
    await this.render(next);
    return next;
  }

  private async fail(r: ReleaseRecord, error: string): Promise<Advance> {
    const next = await this.write(r.id, (x) => {
      if (isDone(x)) return false;
      x.status = 'failed';
      x.error = error;
      x.finishedAt = this.d.now();
    });
    this.d.log.warn({ releaseId: r.id, error }, 'release failed');
    await this.render(next);
    await this.say(next, 'failed', `:x: ${releaseTitle(next)} stopped: ${escapeMrkdwn(error)}`);
    return 'done';
  }

  /** The job failed for good (GitHub down through every retry): the release says so instead of going quiet. */
  async givenUp(id: string, reason: string): Promise<void> {
    const r = await this.store.get(id);
    if (r && !isDone(r)) await this.fail(r, `${reason} — tried again with backoff and gave up. Run \`/release resume\` once it is fixed: it continues where it stood.`);
  }

  /** Takes the release as far as it can go now. Throws HostError (retry: true) when the host is failing. */
  async advance(id: string): Promise<Advance> {
    let r = await this.store.get(id);
    if (!r || isDone(r)) return 'done';
    const host = this.host();
    if (!host) return this.fail(r, this.unavailable() ?? 'no repository');
    try {
      await this.checkDeadline(r);
      r = await this.plan(r, host);
      if (isDone(r)) return 'done';
      const rr = r;
      r = await this.step(r, 'branch', async () => {
        const made = await host.createBranch(rr.branch ?? '', rr.baseSha ?? '');
        return `${made === 'created' ? 'created' : 'already there'} from ${(rr.baseSha ?? '').slice(0, 7)}${rr.type === 'hotfix' ? ' (the commit production runs)' : ` (\`${this.cfg.baseBranch}\`)`}`;
      });
      if (r.type === 'hotfix') {
        if (!r.shippedBy) {
          await this.render(r);
          return 'wait';
        }
        r = await this.hotfixNotes(r, host);
      }
      for (const env of r.envs) {
        const outcome = await this.deployTo(r, env, host);
        if (outcome === 'wait' || outcome === 'done') return outcome;
        r = outcome;
      }
      return await this.finishRelease(r, host);
    } catch (err) {
      if (err instanceof HostError && !err.retry) return this.fail(r, err.message);
      throw err;
    }
  }

  private async checkDeadline(r: ReleaseRecord): Promise<void> {
    if (!r.deadlineAt || r.overdue || this.d.now() <= r.deadlineAt || r.steps[`deploy:${r.envs.at(-1)}`]?.status === 'done') return;
    const { record, applied } = await this.store.update(r.id, (x) => {
      if (x.overdue) return false;
      x.overdue = true;
    });
    if (!applied) return;
    const kind = r.kind ? kindRules(this.d.config, r.kind) : undefined;
    const where = Object.entries(record.steps).filter(([k, s]) => k.startsWith('deploy:') && s.status === 'done').map(([k]) => k.slice(7)).at(-1);
    this.d.log.warn({ releaseId: r.id }, 'release deadline passed');
    await this.say(record, 'overdue', `:alarm_clock: ${mention(record.requestedBy)} the deadline of ${releaseTitle(record)} has passed: production was due by <!date^${Math.floor((r.deadlineAt ?? 0) / 1000)}^{date_short_pretty} {time}|${new Date(r.deadlineAt ?? 0).toISOString()}> and it ${where ? `has only reached ${where}` : record.shippedBy ? 'has not been deployed anywhere yet' : 'is still waiting for the fix'}.${kind?.why ? ` (${kind.why})` : ''} It keeps going; escalate if it is stuck.`);
    await this.render(record);
  }

  /** Version, branch name and (for releases) notes: computed once and stored, so a retry never changes them. */
  private async plan(r: ReleaseRecord, host: ReleaseHost): Promise<ReleaseRecord> {
    if (r.steps.plan?.status === 'done') return r;
    const prefix = this.cfg.tagPrefix;
    const tags = await host.tags();
    const latest = latestTag(tags, prefix);
    const released = latestRelease(tags, prefix);
    let fields: Partial<ReleaseRecord>;
    if (r.type === 'release') {
      const baseSha = await host.branchSha(this.cfg.baseBranch);
      if (!baseSha) return this.failed(r, `The base branch \`${this.cfg.baseBranch}\` does not exist in ${host.name} (releases.baseBranch).`);
      const from = released?.tag.sha;
      const range = await host.range(from, baseSha);
      const notesData = draftNotes(range.commits, range.added, new RegExp(this.cfg.migrations));
      let next;
      try {
        next = nextVersion(latest?.version, r.request ?? { bump: 'minor' }, isBreaking(notesData));
      } catch (err) {
        return this.failed(r, (err as Error).message);
      }
      const tag = `${prefix}${next.version}`;
      if (tags.some((t) => t.name === tag)) return this.failed(r, `Tag \`${tag}\` already exists in ${host.name}: that version is out already.`);
      const kind = r.kind ?? (next.bump !== 'exact' ? kindFor(this.d.config, next.bump) : undefined);
      fields = {
        version: next.version, tag, branch: `release/${tag}`, baseSha, why: next.why, notesData, ...(kind ? { kind } : {}),
        ...(released ? { previousTag: released.tag.name } : {}),
        notes: notesMarkdown(tag, new Date(this.d.now()).toISOString().slice(0, 10), notesData),
      };
    } else {
      // A hotfix starts from what production runs (else the base branch), and is the patch after the latest release.
      const prod = this.d.config.environments.find((e) => e.name === r.envs.at(-1));
      const state = prod ? await this.d.store.envState(prod.name) : undefined;
      const baseSha = state?.sha ?? (await host.branchSha(this.cfg.baseBranch));
      if (!baseSha) return this.failed(r, `Neither production's commit nor \`${this.cfg.baseBranch}\` is known, so there is nothing to branch the hotfix from.`);
      const version = hotfixVersion(released?.version);
      fields = { version, tag: `${prefix}${version}`, branch: `hotfix/${slugify(r.description ?? 'fix')}`, baseSha, why: `patch after ${released?.version ?? 'no release yet'}${state?.sha ? `; branched from ${state.version} (production)` : ''}`, ...(released ? { previousTag: released.tag.name } : {}) };
    }
    const next = await this.write(r.id, (x) => {
      Object.assign(x, fields);
      x.steps.plan = { status: 'done', at: this.d.now(), detail: `${fields.tag} (${fields.why})` };
      x.status = 'running';
    });
    await this.render(next);
    if (next.type === 'release') await this.say(next, 'planned', `:memo: Notes for ${next.tag} are drafted from ${next.notesData?.commitCount ?? 0} commits since ${next.previousTag ?? 'the beginning'} — review them in this thread.`);
    return next;
  }

  private async failed(r: ReleaseRecord, error: string): Promise<ReleaseRecord> {
    await this.fail(r, error);
    return (await this.store.get(r.id)) ?? r;
  }

  /** A hotfix's notes: the commits on its branch since production's commit. */
  private async hotfixNotes(r: ReleaseRecord, host: ReleaseHost): Promise<ReleaseRecord> {
    if (r.notes !== undefined) return r;
    const head = await host.branchSha(r.branch ?? '');
    if (!head) throw new HostError(`branch ${r.branch} is gone`, false);
    const range = await host.range(r.baseSha, head);
    const notesData = draftNotes(range.commits, range.added, new RegExp(this.cfg.migrations));
    const notes = notesMarkdown(r.tag ?? '', new Date(this.d.now()).toISOString().slice(0, 10), notesData).replace(/^# Release /, '# Hotfix ');
    const next = await this.write(r.id, (x) => {
      x.notes = notes;
      x.notesData = notesData;
      x.steps.ship = { status: 'done', at: this.d.now(), detail: `${range.commits.length} commit(s) on the branch, pushed by ${mention(x.shippedBy ?? '')}` };
    });
    await this.render(next);
    return next;
  }

  /** One environment: skip (when the kind allows and it was asked), request the deploy, or wait for it to end. */
  private async deployTo(r: ReleaseRecord, envName: string, host: ReleaseHost): Promise<ReleaseRecord | Advance> {
    const name = `deploy:${envName}`;
    const s = r.steps[name];
    if (s?.status === 'done' || s?.status === 'skipped') return r;
    if (r.skip.includes(envName)) {
      const kind = r.kind ? kindLabel(this.d.config, r.kind) : 'this release';
      const next = await this.step(r, name, async () => ({ status: 'skipped', detail: `skipped: ${kind} may skip ${envName} and ${mention(r.requestedBy)} chose to` }));
      const text = `:fast_forward: ${releaseTitle(next)}: *${envName}* skipped — the ${kind} rules allow it (\`maySkip\`) and ${mention(r.requestedBy)} asked for it.`;
      await this.say(next, `skip:${envName}`, text);
      if (this.d.config.channels.deployLog) await this.say(next, `skip:${envName}:log`, text, this.d.config.channels.deployLog);
      return next;
    }
    const env = this.d.config.environments.find((e) => e.name === envName);
    if (!env) return this.fail(r, `Environment ${envName} is no longer in the config.`);
    if (!s?.deployId) {
      // The commit is pinned at the first deploy: every environment gets the same one (promotion by commit).
      let sha = r.sha;
      if (!sha) {
        sha = await host.branchSha(r.branch ?? '');
        if (!sha) throw new HostError(`branch ${r.branch} is gone`, false);
        const pinned = sha;
        r = await this.write(r.id, (x) => void (x.sha ??= pinned));
        sha = r.sha ?? pinned;
      }
      const outcome = await this.d.deploys.request({
        // Shown as the version it becomes (the tag is made at that commit once production succeeds).
        env, ref: r.branch ?? '', resolved: { ref: r.branch ?? '', sha, ...(r.tag ? { tag: r.tag } : {}) }, user: r.requestedBy, channel: r.channel, delivery: `release-${r.id}-${envName}-${r.resumes ?? 0}`,
        release: { id: r.id, type: r.type, ...(r.kind ? { kind: r.kind } : {}) },
      });
      const record = outcome.existing ?? outcome.record;
      r = await this.write(r.id, (x) => {
        x.steps[name] = { status: 'pending', deployId: record.id, detail: record.status === 'pending' ? 'waiting for its gates' : 'queued' };
      });
      if (!outcome.existing) {
        if (record.status === 'pending') {
          await this.d.messenger.syncGate(record.id);
          const fresh = await this.d.store.get(record.id);
          if (fresh) await this.d.gates.notifyApprovers(fresh);
        } else await this.d.messenger.sync(record.id);
      }
      await this.render(r);
      return 'wait';
    }
    const deploy = await this.d.store.get(s.deployId);
    if (!deploy) return this.fail(r, `Deploy #${s.deployId} to ${envName} has no record.`);
    if (!isFinal(deploy.status)) {
      const detail = deploy.status === 'pending' ? 'waiting for its gates' : deploy.status;
      if (s.detail !== detail) r = await this.write(r.id, (x) => void ((x.steps[name] ??= { status: 'pending' }).detail = detail));
      await this.render(r);
      return 'wait';
    }
    if (deploy.status !== 'succeeded') return this.fail(r, `Deploy #${deploy.id} to ${envName} ended ${deploy.status}${deploy.error ? `: ${deploy.error}` : ''}. Fix the branch \`${r.branch}\` and run \`/${r.type} resume\`, or start over.`);
    return this.step(r, name, async () => `succeeded ${deploy.finishedAt ? `<!date^${Math.floor(deploy.finishedAt / 1000)}^{time}|${new Date(deploy.finishedAt).toISOString()}>` : ''}`.trim());
  }

  /** After production: tag, GitHub release, CHANGELOG, announcement, merge back, follow-ups. */
  private async finishRelease(r: ReleaseRecord, host: ReleaseHost): Promise<Advance> {
    const tag = r.tag ?? '';
    const sha = r.sha ?? '';
    r = await this.step(r, 'tag', async () => `${(await host.createTag(tag, sha, `${r.type === 'hotfix' ? 'Hotfix' : 'Release'} ${tag}\n\n${r.notes ?? ''}`)) === 'created' ? 'created' : 'already there'} at ${sha.slice(0, 7)}`);
    const title = r.type === 'hotfix' ? `${tag} (hotfix: ${r.description ?? ''})`.slice(0, 120) : tag;
    let url: string | undefined;
    r = await this.step(r, 'publish', async () => {
      const out = await host.publishRelease(tag, title, r.notes ?? '');
      url = out.url;
      if (url) await this.write(r.id, (x) => void (x.releaseUrl = url));
      return host instanceof GitReleaseHost ? 'notes kept in the annotated tag (a local repository has no release pages)' : `${out.made === 'created' ? 'published' : 'already published'}${out.url ? `: <${out.url}|${tag}>` : ''}`;
    });
    if (this.cfg.changelog && r.type === 'release') {
      const file = this.cfg.changelog;
      r = await this.step(r, 'changelog', async () => `${(await host.prependToFile(r.branch ?? '', file, r.notes ?? '', `# Release ${tag} `, `docs: ${file} for ${tag}`)) === 'created' ? 'added to' : 'already in'} \`${file}\` on \`${r.branch}\``);
    }
    r = await this.step(r, 'announce', async () => {
      const channel = this.d.config.channels.announcements;
      if (!channel) return { status: 'skipped', detail: 'no announcements channel (channels.announcements)' };
      // An environment with its own announcement template announces its deploys (src/notify): that one is the release's.
      const last = this.d.config.environments.find((e) => e.name === r.envs.at(-1));
      if (last?.notifications.announcement) return { status: 'skipped', detail: `announced by ${last.name}'s own announcement (notifications.announcement)` };
      const fresh = (await this.store.get(r.id)) ?? r;
      const head = r.type === 'hotfix' ? `:ambulance: *Hotfix ${tag} is out* — ${escapeMrkdwn(r.description ?? '')}` : `:rocket: *Release ${tag} is out*`;
      const link = fresh.releaseUrl ? `\n<${fresh.releaseUrl}|Release notes on GitHub>` : '';
      await this.d.delivery.send({ key: `release:${r.id}:announce`, channel, text: `${head}${link}\n\n${markdownToMrkdwn(fresh.notes ?? '').slice(0, 2800)}` });
      return `posted in <#${channel}>`;
    });
    for (const target of this.mergeTargets(r.type)) {
      r = await this.step(r, `merge:${target}`, async () => {
        if (!(await host.branchSha(target))) return { status: 'skipped', detail: `no branch \`${target}\`` };
        const out = await host.merge(target, r.branch ?? '', `Merge ${r.branch} into ${target} (${tag})`);
        if (out.merged) return out.how === 'up-to-date' ? 'already contained the branch' : `merged (${out.sha.slice(0, 7)})`;
        const files = out.conflicts.length ? out.conflicts.map((f) => `\`${f}\``).join(', ') : 'files GitHub did not name';
        await this.say(r, `conflict:${target}`, `:warning: Merging \`${r.branch}\` back into \`${target}\` conflicts in ${files}. Nothing was forced: merge it by hand (\`git checkout ${target} && git merge ${r.branch}\`), resolve those files and push.`);
        return { status: 'conflict', detail: `conflicts in ${files}; merge by hand` };
      });
    }
    r = await this.step(r, 'followups', async () => {
      const prod = r.steps[`deploy:${r.envs.at(-1)}`]?.deployId;
      if (r.type === 'hotfix') {
        const record = prod ? await this.d.store.get(prod) : undefined;
        if (record) this.d.notifier.hotfixed(record);
        await this.say(r, 'post-hotfix', `:clipboard: *After the hotfix* ${tag} (${mention(r.requestedBy)}):\n${POST_HOTFIX_TASKS.map((t) => `• ${t}`).join('\n')}\nA post-mortem reminder is scheduled in this channel.`);
        return 'post-hotfix tasks posted; post-mortem reminder scheduled';
      }
      return prod ? `production's check-ins are scheduled with deploy #${prod}` : 'none';
    });
    const done = await this.write(r.id, (x) => {
      if (isDone(x)) return false;
      x.status = 'succeeded';
      x.finishedAt = this.d.now();
    });
    await this.render(done);
    const conflicts = Object.entries(done.steps).filter(([, s]) => s.status === 'conflict').map(([k]) => k.slice(6));
    await this.say(done, 'done', `:tada: ${releaseTitle(done)} is released${conflicts.length ? `, but the merge back into ${conflicts.map((c) => `\`${c}\``).join(', ')} needs a hand (see above)` : ''}.`);
    this.d.log.info({ releaseId: done.id, tag }, 'release finished');
    return 'done';
  }

  // ── Clicks and commands ──

  /** Who may act on a release: its requester, or someone allowed to deploy to its last environment. */
  private async mayAct(r: ReleaseRecord, user: string): Promise<boolean> {
    if (user === r.requestedBy) return true;
    const prod = this.d.config.environments.find((e) => e.name === r.envs.at(-1));
    return prod ? this.d.roles.mayDeploy(prod, user) : false;
  }

  async notesForEdit(id: string, user: string): Promise<ReturnType<typeof editNotesModal>> {
    const r = await this.store.get(id);
    if (!r) throw new ConflictError(`Release #${id} no longer exists.`);
    if (published(r)) throw new ConflictError(`The notes of ${releaseTitle(r)} are published already (in the tag${r.releaseUrl ? ' and the GitHub release' : ''}); edit them there.`);
    if (!(await this.mayAct(r, user))) throw new NotAuthorizedError(`Only ${mention(r.requestedBy)} or someone who may deploy to ${r.envs.at(-1)} can edit these notes.`);
    return editNotesModal(r);
  }

  async saveNotes(id: string, user: string, notes: string): Promise<void> {
    const r = await this.store.get(id);
    if (!r) throw new ConflictError(`Release #${id} no longer exists.`);
    if (!(await this.mayAct(r, user))) throw new NotAuthorizedError(`Only ${mention(r.requestedBy)} or someone who may deploy to ${r.envs.at(-1)} can edit these notes.`);
    const { record, applied } = await this.store.update(id, (x) => {
      if (published(x)) return false;
      x.notes = notes.trim() + '\n';
      x.notesEditedBy = user;
    });
    if (!applied) throw new ConflictError(`The notes of ${releaseTitle(record)} were published meanwhile; your edit was not saved.`);
    this.d.log.info({ releaseId: id, user }, 'release notes edited');
    await this.render(record);
  }

  async ship(id: string, user: string): Promise<ReleaseRecord> {
    const r = await this.store.get(id);
    if (!r || r.type !== 'hotfix') throw new ConflictError(`Hotfix #${id} no longer exists.`);
    if (!(await this.mayAct(r, user))) throw new NotAuthorizedError(`Only ${mention(r.requestedBy)} or someone who may deploy to ${r.envs.at(-1)} can ship this hotfix.`);
    const { record, applied } = await this.store.update(id, (x) => {
      if (x.shippedBy || isDone(x)) return false;
      x.shippedBy = user;
    });
    if (!applied) throw new ConflictError(record.shippedBy ? `${mention(record.shippedBy)} already said the fix is pushed; it is on its way.` : `${releaseTitle(record)} has ended (${record.status}).`);
    await this.queue.wake(id);
    return record;
  }

  /** `/release resume`: a release stopped by a failure (GitHub down for good, a failed deploy) goes on from where it stood. */
  async resume(type: ReleaseType, user: string): Promise<ReleaseRecord> {
    const last = await this.store.latest();
    if (!last || last.type !== type) throw new UserInputError(`There is no ${type} to resume.`);
    if (last.status !== 'failed') throw new UserInputError(`${releaseTitle(last)} is ${last.status}; only a failed one can be resumed.`);
    if (!(await this.mayAct(last, user))) throw new NotAuthorizedError(`Only ${mention(last.requestedBy)} or someone who may deploy to ${last.envs.at(-1)} can resume it.`);
    const { record } = await this.store.update(last.id, (x) => {
      x.status = 'running';
      x.resumes = (x.resumes ?? 0) + 1;
      delete x.error;
      delete x.finishedAt;
      // A failed deploy is requested again; a settled step stays settled.
      for (const [k, s] of Object.entries(x.steps)) if (k.startsWith('deploy:') && s.status === 'pending') delete x.steps[k];
    });
    await this.d.redis.set(`${this.d.prefix}:release:active:${type}`, record.id);
    await this.queue.run(record.id);
    return record;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
