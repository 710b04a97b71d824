// /release minor|major|patch|1.5.0 [--dry-run] · /release status · /release resume: starts a release (its job
// does the GitHub work, see src/releases/release-service.ts) and answers privately at once.
import type { Deps } from '../src/deps.js';
import { UserInputError } from '../src/core/errors.js';
import { draftNotes, isBreaking, markdownToMrkdwn, notesMarkdown } from '../src/releases/notes.js';
import { latestRelease, latestTag, nextVersion, parseVersionRequest } from '../src/releases/versioning.js';
import { kindFor, kindSummary } from '../src/gates/release-kinds.js';
import { releaseTitle } from '../blocks/release.js';
import { isDone, type ReleaseRecord } from '../src/releases/release-store.js';
import { truncate } from '../blocks/format.js';
import { commandListener } from './respond.js';

export const RELEASE_USAGE = 'Usage: `/release minor|major|patch|<version> [--dry-run]`, `/release status` or `/release resume` — e.g. `/release minor`, `/release 1.5.0 --dry-run`.';

/** How far a release has got, for `/release status` and the reply to a second `/release`. */
export function releaseStatusLine(r: ReleaseRecord): string {
  const settled = Object.entries(r.steps).filter(([, s]) => s.status !== 'pending');
  const last = settled.at(-1);
  const waiting = Object.entries(r.steps).find(([, s]) => s.status === 'pending');
  const where = isDone(r) ? r.status : waiting ? `at ${waiting[0]} (${waiting[1].detail ?? 'waiting'})` : last ? `after ${last[0]}` : 'starting';
  return `*${releaseTitle(r)}* (by <@${r.requestedBy}>): ${where}${r.error ? ` — ${truncate(r.error, 300)}` : ''}. Its status message is in <#${r.channel}>.`;
}

async function dryRun(deps: Deps, word: string): Promise<string> {
  const host = deps.releases.host();
  if (!host) throw new UserInputError(deps.releases.unavailable() ?? 'Releases are not available.');
  const request = parseVersionRequest(word);
  if (!request) throw new UserInputError(`\`${truncate(word, 40)}\` is neither a bump nor a version.`, RELEASE_USAGE);
  const cfg = deps.config.releases;
  const tags = await host.tags();
  const base = await host.branchSha(cfg.baseBranch);
  if (!base) throw new UserInputError(`The base branch \`${cfg.baseBranch}\` does not exist in ${host.name}.`);
  const from = latestRelease(tags, cfg.tagPrefix);
  const range = await host.range(from?.tag.sha, base);
  const notes = draftNotes(range.commits, range.added, new RegExp(cfg.migrations));
  let next;
  try {
    next = nextVersion(latestTag(tags, cfg.tagPrefix)?.version, request, isBreaking(notes));
  } catch (err) {
    throw new UserInputError((err as Error).message, RELEASE_USAGE);
  }
  const tag = `${cfg.tagPrefix}${next.version}`;
  const kind = next.bump !== 'exact' ? kindFor(deps.config, next.bump) : undefined;
  return [
    `*Dry run:* \`/release ${word}\` — nothing was created.`,
    `Version *${tag}* (${next.why}); branch \`release/${tag}\` from \`${cfg.baseBranch}\` (${base.slice(0, 7)}); then ${deps.releases.envs().join(' → ')}; then the tag, the release notes, the announcement and the merge back into ${deps.releases.mergeTargets('release').map((b) => `\`${b}\``).join(', ')}.`,
    ...(kind ? [kindSummary(deps.config, kind, `for a ${next.bump}`)] : []),
    '',
    truncate(markdownToMrkdwn(notesMarkdown(tag, new Date(deps.now()).toISOString().slice(0, 10), notes)), 2500),
  ].join('\n');
}

export function createReleaseCommand(deps: Deps) {
  return commandListener('/release', deps, async ({ command }) => {
    const words = command.text.trim().split(/\s+/).filter(Boolean);
    const flags = words.filter((w) => w.startsWith('--'));
    const unknown = flags.find((f) => f !== '--dry-run');
    if (unknown) throw new UserInputError(`Unknown option \`${truncate(unknown, 40)}\`.`, RELEASE_USAGE);
    const rest = words.filter((w) => !w.startsWith('--'));
    if (rest.length !== 1 || !rest[0]) throw new UserInputError(rest.length ? 'Give one bump or version.' : 'Which release?', RELEASE_USAGE);
    const word = rest[0].toLowerCase();
    if (word === 'status') {
      const r = (await deps.releases.store.active('release')) ?? (await deps.releases.store.active('hotfix')) ?? (await deps.releases.store.latest());
      return { reply: r ? releaseStatusLine(r) : 'No release has been made with Shipmate yet. Start one with `/release minor`.' };
    }
    const unavailable = deps.releases.unavailable();
    if (unavailable) throw new UserInputError(unavailable);
    if (word === 'resume') {
      const r = await deps.releases.resume('release', command.user_id);
      return { reply: `Resuming ${releaseTitle(r)} where it stood; follow it in its status message in <#${r.channel}>.` };
    }
    const request = parseVersionRequest(word);
    if (!request) throw new UserInputError(`\`${truncate(word, 40)}\` is neither a bump (major, minor, patch) nor a version such as 1.5.0.`, RELEASE_USAGE);
    if (flags.includes('--dry-run')) return { reply: await dryRun(deps, word) };
    const { record, existing } = await deps.releases.startRelease({ request, user: command.user_id, channel: command.channel_id, delivery: command.trigger_id });
    if (existing) return { reply: `A release is already under way, so nothing new was started: ${releaseStatusLine(record)}` };
    return { reply: `Release #${record.id} (${word}) started: Shipmate works out the version, cuts the release branch and posts the draft notes for review in this channel; then it goes through ${record.envs.join(' → ')}.` };
  }, { helpWhenEmpty: true });
}
