// /hotfix "what is broken" [--skip-staging]: asks which hotfix criterion applies (buttons, see
// src/slack/actions/releases.ts); none means the normal release process. `/hotfix resume` continues a stopped one.
import { randomUUID } from 'node:crypto';
import type { Deps } from '../src/deps.js';
import { UserInputError } from '../src/core/errors.js';
import { hotfixQuestionBlocks, releaseTitle } from '../blocks/release.js';
import { truncate } from '../blocks/format.js';
import { commandListener } from './respond.js';
import { HOTFIX_ASK_TTL_S, hotfixAskKey, type HotfixAsk } from '../src/releases/hotfix-ask.js';

export const HOTFIX_USAGE = 'Usage: `/hotfix "what is broken" [--skip-staging]` — e.g. `/hotfix "login returns 500"`; `/hotfix resume` continues a stopped one.';
export function createHotfixCommand(deps: Deps) {
  return commandListener('/hotfix', deps, async ({ command }) => {
    const text = command.text.trim();
    if (text === 'resume') {
      const r = await deps.releases.resume('hotfix', command.user_id);
      return { reply: `Resuming ${releaseTitle(r)} where it stood.` };
    }
    const skipStaging = /(^|\s)--skip-staging(\s|$)/.test(text);
    const rest = text.replace(/(^|\s)--skip-staging(?=\s|$)/, ' ').trim();
    const unknown = rest.split(/\s+/).find((w) => w.startsWith('--'));
    if (unknown) throw new UserInputError(`Unknown option \`${truncate(unknown, 40)}\`.`, HOTFIX_USAGE);
    const description = rest.replace(/^["“”']+|["“”']+$/g, '').trim();
    if (description.length < 3) throw new UserInputError('Say what is broken, in quotes.', HOTFIX_USAGE);
    if (description.length > 200) throw new UserInputError('Keep the description under 200 characters: it names the branch and the announcement.', HOTFIX_USAGE);
    const unavailable = deps.releases.unavailable();
    if (unavailable) throw new UserInputError(unavailable);
    const skip: string[] = [];
    if (skipStaging) {
      const staging = deps.releases.envs().find((e) => /stag/i.test(e)) ?? deps.releases.envs().slice(1, -1)[0];
      const allowed = deps.releases.skippable();
      if (!staging || !allowed.includes(staging)) {
        throw new UserInputError(`\`--skip-staging\` is not allowed: ${staging ? `the hotfix release kind does not list ${staging} under \`maySkip\`` : 'there is no staging environment between the first and the last'}. Leave it out and the hotfix goes through every environment.`);
      }
      skip.push(staging);
    }
    const active = await deps.releases.store.active('hotfix');
    if (active) throw new UserInputError(`${releaseTitle(active)} is still under way (by <@${active.requestedBy}>); one hotfix at a time. Follow it in <#${active.channel}>.`);
    const id = randomUUID();
    const ask: HotfixAsk = { description, user: command.user_id, channel: command.channel_id, skip };
    await deps.redis.set(hotfixAskKey(deps.prefix, id), JSON.stringify(ask), 'EX', HOTFIX_ASK_TTL_S);
    return { reply: hotfixQuestionBlocks(id, description, deps.config.releases.hotfixCriteria) };
  }, { helpWhenEmpty: true });
}
