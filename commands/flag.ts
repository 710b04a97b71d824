// /flag: list, show, create, change (on/off, a percentage, a typed value), kill, archive and history of feature
// flags. Bad input gets a private reply saying what was wrong and changes nothing; the kill switch (and a bare
// `/flag create`) asks in a modal; changes go through FlagService (permissions, sign-off, audit, announcements).
// A change is committed within the command's commit deadline (respond.ts) or not at all; when Redis does not
// confirm the write in time, the answer says so and the outcome follows through the response_url once known.
import { randomUUID } from 'node:crypto';
import type { Deps } from '../src/deps.js';
import { UserInputError } from '../src/core/errors.js';
import { VALUE_TYPES, type ValueType } from '../src/flags/evaluation.js';
import { requireEnvironment } from '../src/deploys/environments.js';
import { FlagChangeUnconfirmedError, type ChangeOutcome, type FlagChange } from '../src/flags/flag-service.js';
import { createFlagModal, flagCard, flagHistory, flagList, killFlagModal } from '../blocks/flags.js';
import { commandListener, type CommandArgs, type CommandOutcome } from './respond.js';

const USAGE = [
  'Usage: `/flag list [env]` · `/flag <key>` · `/flag create <key> <type> "<description>"` · `/flag <key> on|off <env>`',
  '`/flag <key> 25% <env>` · `/flag <key> set <value> <env>` · `/flag kill <key> <env>` · `/flag archive <key>` · `/flag history <key>`',
].join('\n');

/** Words, with "double quoted" (or Slack's “curly quoted”) phrases kept whole. */
export function words(text: string): string[] {
  return [...text.trim().matchAll(/"([^"]*)"|“([^”]*)”|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** `25%` → 25; anything else that looks like a percentage but is not one → a clear refusal. */
function percentage(word: string): number | undefined {
  if (!word.endsWith('%')) return undefined;
  const n = Number(word.slice(0, -1));
  if (word.length < 2 || !Number.isFinite(n) || n < 0 || n > 100) throw new UserInputError(`\`${word.slice(0, 20)}\` is not a percentage: use a number from 0 to 100 followed by %, e.g. \`25%\`.`, USAGE);
  return n;
}

/**
 * Runs one change inside the commit deadline and words the answer. Applied but not yet announced, or not
 * confirmed by Redis in time: the answer says so, and `after` (past the ack) tells the outcome through the
 * response_url once Redis answers — so the person never hears "not changed" about a change that was made.
 */
async function commitChange(deps: Deps, respond: CommandArgs['respond'], input: Parameters<Deps['flags']['change']>[0], say: (out: Extract<ChangeOutcome, { applied: unknown }>) => string): Promise<CommandOutcome> {
  const changeId = randomUUID();
  const tellLater = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text }).then(() => undefined);
  try {
    const out = await deps.flags.change({ ...input, changeId });
    if ('pending' in out) return { reply: `:lock: Changing \`${input.key}\` in ${input.env} needs ${deps.flags.approvalsNeeded(out.pending)} sign-off(s), as deploys there do; the request is posted. Nothing changed yet.` };
    if (out.announced !== false) return { reply: say(out) };
    return {
      reply: `${say(out)} (Its announcement follows when Shipmate's database answers again.)`,
      after: async () => void (await deps.flags.confirm(input.key, input.env, changeId, 0, input.channel)),
    };
  } catch (err) {
    if (!(err instanceof FlagChangeUnconfirmedError)) throw err;
    return {
      reply: err.message,
      after: async () => {
        const outcome = await deps.flags.confirm(err.key, err.env, changeId, err.validUntil, input.channel);
        if (!outcome) await tellLater(`:warning: Shipmate's database still does not answer; \`${err.key}\` in ${err.env} may or may not have changed. Check \`/flag ${err.key}\` before trying again.`);
        else if (outcome.applied) await tellLater(`:white_check_mark: It took effect after all: \`${err.key}\` in ${err.env}: ${outcome.applied.before ?? '—'} → *${outcome.applied.after ?? '—'}* (once).`);
        else await tellLater(`:x: \`${err.key}\` was *not* changed in ${err.env}: the database answered too late for the change to count. Nothing was changed — try again.`);
      },
    };
  }
}

export function createFlagCommand(deps: Deps) {
  const envNames = () => deps.config.environments.map((e) => e.name);
  return commandListener('/flag', deps, async ({ command, client, respond }, log, signal): Promise<CommandOutcome> => {
    const w = words(command.text);
    const user = command.user_id;
    const channel = command.channel_id;
    const [first = '', second, third] = w;
    switch (first.toLowerCase()) {
      case 'list': {
        if (w.length > 2) throw new UserInputError('`/flag list` takes at most one environment.', USAGE);
        const only = second ? [requireEnvironment(deps.config, second, USAGE).name] : envNames();
        return { reply: flagList(await deps.flags.list(), only) };
      }
      case 'create': {
        if (w.length === 1) {
          // No arguments: ask in a modal (it needs the command's trigger, which is good for 3 s).
          return {
            reply: 'Opening the form to create a flag…',
            after: async () => {
              await client.views.open({ trigger_id: command.trigger_id, view: createFlagModal(Object.keys(deps.config.flags.types), channel) });
            },
          };
        }
        if (w.length !== 4 || !second || !third) throw new UserInputError('`/flag create` needs a key, a type and a description in quotes.', USAGE);
        const [type = '', valueType] = third.split(':');
        if (valueType !== undefined && !(VALUE_TYPES as readonly string[]).includes(valueType)) throw new UserInputError(`\`${valueType.slice(0, 20)}\` is not a value type: use ${VALUE_TYPES.join(', ')}.`, USAGE);
        const flag = await deps.flags.create({ key: second, type, description: w[3] ?? '', user, valueType: valueType as ValueType | undefined, signal });
        return { reply: { ...flagCard(flag, envNames(), deps.now()), text: `Created flag \`${flag.key}\` (${flag.type}, ${flag.valueType}), off everywhere; you own it.` } };
      }
      case 'kill': {
        if (!second || !third || w.length > 4) throw new UserInputError('`/flag kill` needs a flag and an environment: `/flag kill <key> <env>`.', USAGE);
        const flag = await deps.flags.require(second);
        const env = requireEnvironment(deps.config, third, USAGE);
        const allowed = await deps.flags.mayChange(flag, env.name, user);
        if (!allowed.ok) {
          // The same refusal (and audit entry) a change gets; nothing is asked.
          await deps.flags.change({ key: flag.key, env: env.name, user, change: { kind: 'off' }, channel, kill: true });
        }
        const reason = w[3];
        if (reason && reason.trim().length >= 5) {
          return commitChange(deps, respond, { key: flag.key, env: env.name, user, change: { kind: 'off' }, channel, kill: true, reason, signal }, (out) => `:octagonal_sign: \`${flag.key}\` is off in ${env.name} (was ${out.before}); its stakeholders are told why.`);
        }
        return {
          reply: `Say why \`${flag.key}\` must go off in ${env.name} (a form opens); it goes off as soon as you submit.`,
          after: async () => {
            await client.views.open({ trigger_id: command.trigger_id, view: killFlagModal(flag.key, env.name, channel) });
          },
        };
      }
      case 'archive': {
        if (!second || w.length > 2) throw new UserInputError('`/flag archive` needs one flag: `/flag archive <key>`.', USAGE);
        const flag = await deps.flags.archive(second, user, signal);
        return { reply: `Archived \`${flag.key}\`: services now get FLAG_NOT_FOUND (and their code default) for it.` };
      }
      case 'history': {
        if (!second || w.length > 2) throw new UserInputError('`/flag history` needs one flag: `/flag history <key>`.', USAGE);
        const flag = await deps.flags.require(second);
        return { reply: flagHistory(flag.key, await deps.flags.flags.history(flag.key, 20)) };
      }
    }
    // `/flag <key> …`
    const flag = await deps.flags.require(first);
    if (w.length === 1) return { reply: flagCard(flag, envNames(), deps.now(), (await deps.flags.flags.history(flag.key, 1))[0]) };
    const verb = (second ?? '').toLowerCase();
    let change: FlagChange;
    let envWord: string | undefined;
    if (verb === 'on' || verb === 'off') {
      if (w.length !== 3) throw new UserInputError(`Name one environment: \`/flag ${flag.key} ${verb} <env>\`.`, USAGE);
      change = { kind: verb };
      envWord = third;
    } else if (verb === 'set') {
      if (w.length < 4) throw new UserInputError(`\`set\` needs a value and an environment: \`/flag ${flag.key} set <value> <env>\`.`, USAGE);
      envWord = w.at(-1);
      // The value is everything between `set` and the environment (a JSON object may hold spaces).
      const raw = command.text.trim();
      const from = raw.toLowerCase().indexOf(' set ') + 5;
      const to = raw.lastIndexOf(envWord ?? '');
      change = { kind: 'set', text: raw.slice(from, to).trim() };
    } else {
      const p = percentage(second ?? '');
      if (p === undefined) throw new UserInputError(`\`${(second ?? '').slice(0, 30)}\` is not something a flag can be set to: use on, off, a percentage such as 25%, or set <value>.`, USAGE);
      if (w.length !== 3) throw new UserInputError(`Name one environment: \`/flag ${flag.key} ${second} <env>\`.`, USAGE);
      change = { kind: 'percent', percentage: p };
      envWord = third;
    }
    const env = requireEnvironment(deps.config, envWord ?? '', USAGE);
    return commitChange(deps, respond, { key: flag.key, env: env.name, user, change, channel, signal }, (out) => {
      log.info({ flag: flag.key, env: env.name }, 'flag change applied');
      return `\`${flag.key}\` in ${env.name}: ${out.before} → *${out.after}*.`;
    });
  }, { helpWhenEmpty: true });
}
