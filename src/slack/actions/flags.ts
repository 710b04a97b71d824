// Flag card buttons and modals: a step button moves one environment's percentage (once per card state: the
// button carries the flag revision it was drawn from, so a double click applies once), the sign-off message's
// Approve-as-role and Reject buttons (the deploy gates' rules; a redelivered click is dropped by the guard and a
// second approval by the same person is refused), the create modal makes a flag, the kill modal switches one off.
import type { App } from '@slack/bolt';
import { FLAG_ACTIONS, FLAG_CREATE_BLOCKS, FLAG_KILL_REASON, FLAG_REJECT_REASON, FLAG_VIEWS, flagCard, parseFlagApproveValue, parseStepValue, rejectFlagModal } from '../../../blocks/flags.js';
import { UserInputError } from '../../core/errors.js';
import type { Deps } from '../../deps.js';
import { actionListener, inlineError, viewListener, type ViewArgs } from './guard.js';

function input(args: ViewArgs, block: string, action = 'value'): string {
  const v = args.view.state.values[block]?.[action] as { value?: string | null; selected_option?: { value?: string } | null } | undefined;
  return (v?.selected_option?.value ?? v?.value ?? '').trim();
}

export function registerFlagActions(app: App, deps: Deps): void {
  const envNames = () => deps.config.environments.map((e) => e.name);

  app.action(
    new RegExp(`^${FLAG_ACTIONS.step}:`),
    actionListener(deps, 'flag-step', async (args, { user, tell }) => {
      const step = args.action.type === 'button' ? parseStepValue(args.action.value) : undefined;
      if (!step) throw new UserInputError('That button does not say which flag to change. Run `/flag <key>` again.');
      const channel = args.body.channel?.id ?? user;
      const out = await deps.flags.change({ key: step.key, env: step.env, user, change: step.to === 0 ? { kind: 'off' } : { kind: 'percent', percentage: step.to }, channel, expectRev: step.rev });
      if ('pending' in out) {
        await tell(`:lock: Changing \`${step.key}\` in ${step.env} needs ${deps.flags.approvalsNeeded(out.pending)} sign-off(s), as deploys there do; the request is posted. Nothing changed yet.`);
        return;
      }
      const card = flagCard(out.applied, envNames(), deps.now(), (await deps.flags.flags.history(step.key, 1))[0]);
      if (args.body.response_url) await args.respond({ replace_original: true, ...card });
      else await tell(`\`${step.key}\` in ${step.env}: ${out.before} → ${out.after}.`);
    }),
  );

  app.action(
    new RegExp(`^${FLAG_ACTIONS.approve}:`),
    actionListener(deps, 'flag-approve', async (args, { user, tell }) => {
      const parsed = args.action.type === 'button' ? parseFlagApproveValue(args.action.value) : undefined;
      if (!parsed) throw new UserInputError('That approval button does not say which change it signs.');
      const out = await deps.flags.approve(parsed.id, user, parsed.role);
      if (out.applied) await tell(`Signed off: \`${out.applied.applied.key}\` in ${out.pending.env} ${out.applied.before} → ${out.applied.after}.`);
      else if (out.problem) await tell(`Signed off, but the change could not be applied: ${out.problem}`);
      else await tell(`Approved. It still needs ${deps.flags.approvalsNeeded(out.pending)} more.`);
    }),
  );

  app.action(
    FLAG_ACTIONS.reject,
    actionListener(deps, 'flag-reject', async (args, { user }) => {
      const id = args.action.type === 'button' ? (args.action.value ?? '') : '';
      if (!/^[0-9a-f-]{36}$/.test(id)) throw new UserInputError('That reject button does not say which change it rejects.');
      const pending = await deps.flags.checkMayReject(id, user);
      await args.client.views.open({ trigger_id: args.body.trigger_id, view: rejectFlagModal(pending) });
    }),
  );

  app.view(
    FLAG_VIEWS.reject,
    viewListener(deps, 'flag-reject', async (args, { user }) => {
      const id = args.view.private_metadata;
      const reason = input(args, FLAG_REJECT_REASON.block, FLAG_REJECT_REASON.input);
      if (reason.length < 5) return { errors: { [FLAG_REJECT_REASON.block]: 'Say why in a few words, so the requester knows what to fix.' } };
      try {
        await deps.flags.checkMayReject(id, user);
      } catch (err) {
        return { errors: { [FLAG_REJECT_REASON.block]: inlineError(err) } };
      }
      return { after: async () => void (await deps.flags.reject(id, user, reason)) };
    }),
  );

  app.view(
    FLAG_VIEWS.create,
    viewListener(deps, 'flag-create', async (args, { user }) => {
      const key = input(args, FLAG_CREATE_BLOCKS.key);
      try {
        const flag = await deps.flags.create({ key, type: input(args, FLAG_CREATE_BLOCKS.type), description: input(args, FLAG_CREATE_BLOCKS.description), user });
        return { after: () => deps.delivery.send({ key: `flag:created:${flag.key}:${user}`, channel: user, ...flagCard(flag, envNames(), deps.now()), text: `Created flag \`${flag.key}\`, off everywhere; you own it.` }) };
      } catch (err) {
        if (err instanceof UserInputError || (err as Error).name === 'ConflictError') return { errors: { [FLAG_CREATE_BLOCKS.key]: inlineError(err) } };
        throw err;
      }
    }),
  );

  app.view(
    FLAG_VIEWS.kill,
    viewListener(deps, 'flag-kill', async (args, { user }) => {
      const [key = '', env = '', channel = user] = args.view.private_metadata.split('|');
      const reason = input(args, FLAG_KILL_REASON.block, FLAG_KILL_REASON.input);
      if (reason.length < 5) return { errors: { [FLAG_KILL_REASON.block]: 'Say why in a few words (at least 5 characters).' } };
      // The kill takes effect before the modal closes: the ack waits for the write, not for the notices.
      const out = await deps.flags.change({ key, env, user, change: { kind: 'off' }, channel, kill: true, reason });
      return { after: async () => void ('applied' in out ? deps.log.info({ flag: key, env }, 'flag killed') : undefined) };
    }),
  );
}
