// Buttons and the modal of releases and hotfixes: the hotfix criterion (none → the normal process, and why),
// "Fix is pushed: deploy it", and "Edit notes" with its modal.
import type { App } from '@slack/bolt';
import { NOTES_BLOCK, NOTES_INPUT, RELEASE_ACTIONS, RELEASE_VIEWS, releaseTitle } from '../../../blocks/release.js';
import { hotfixAskKey, type HotfixAsk } from '../../releases/hotfix-ask.js';
import { ConflictError, UserInputError } from '../../core/errors.js';
import type { Deps } from '../../deps.js';
import { actionListener, viewListener } from './guard.js';

/** Why a problem that meets no criterion is not a hotfix (Ontos: "Otherwise, follow normal release process."). */
export function normalProcessReply(description: string, criteria: Array<{ text: string }>): string {
  return [
    `:no_entry_sign: No hotfix for “${description}”: it meets none of the hotfix criteria (${criteria.map((c) => c.text.toLowerCase()).join('; ')}).`,
    'Follow the normal release process instead: merge the fix to the main branch and ship it with the next `/release patch` — it goes through every environment with its full checklist and approvals.',
    'Why: a hotfix skips steps that catch mistakes (the expedited checklist, a skipped staging); that risk is taken only when waiting costs more.',
  ].join('\n');
}

function releaseId(value: string | undefined): string {
  if (!/^\d{1,12}$/.test(value ?? '')) throw new UserInputError('That button does not name a release.');
  return value as string;
}

export function registerReleaseActions(app: App, deps: Deps): void {
  app.action(
    new RegExp(`^${RELEASE_ACTIONS.hotfixCriterion}:`),
    actionListener(deps, 'hotfix-criterion', async ({ action, body, respond }, { user, tell }) => {
      const m = /^([0-9a-f-]{36}):([a-z][a-z0-9_-]*)$/.exec(action.type === 'button' ? action.value ?? '' : '');
      if (!m?.[1] || !m[2]) throw new UserInputError('That button is not one of mine.');
      const key = hotfixAskKey(deps.prefix, m[1]);
      const raw = await deps.redis.get(key);
      if (!raw) throw new ConflictError('This question has expired or was answered already; run `/hotfix` again.');
      const ask = JSON.parse(raw) as HotfixAsk;
      if (ask.user !== user) throw new ConflictError(`Only <@${ask.user}>, who asked for the hotfix, answers this.`);
      // The answer counts once: whoever deletes the question first acts on it.
      if ((await deps.redis.del(key)) !== 1) throw new ConflictError('This question was answered already.');
      const criteria = deps.config.releases.hotfixCriteria;
      if (m[2] === 'none') {
        deps.log.info({ user, description: ask.description }, 'hotfix refused: no criterion applies');
        if (body.response_url) await respond({ response_type: 'ephemeral', replace_original: true, text: normalProcessReply(ask.description, criteria) });
        else await tell(normalProcessReply(ask.description, criteria));
        return;
      }
      const criterion = criteria.find((c) => c.id === m[2]);
      if (!criterion) throw new UserInputError('That criterion is no longer in the config; run `/hotfix` again.');
      const { record, existing } = await deps.releases.startHotfix({ description: ask.description, criterion: criterion.text, user, channel: ask.channel, skip: ask.skip, delivery: `hotfix-${m[1]}` });
      const text = existing
        ? `${releaseTitle(record)} is already under way; one hotfix at a time.`
        : `:ambulance: Hotfix #${record.id} started (${criterion.text}): Shipmate branches it from the commit production runs and posts its status in <#${record.channel}>. Push the fix to the branch, then click *Fix is pushed: deploy it*.${ask.skip.length ? ` It will skip ${ask.skip.join(', ')}.` : ''}`;
      if (body.response_url) await respond({ response_type: 'ephemeral', replace_original: true, text });
      else await tell(text);
    }),
  );

  app.action(
    RELEASE_ACTIONS.shipHotfix,
    actionListener(deps, 'hotfix-ship', async ({ action }, { user }) => {
      await deps.releases.ship(releaseId(action.type === 'button' ? action.value : undefined), user);
    }),
  );

  app.action(
    RELEASE_ACTIONS.editNotes,
    actionListener(deps, 'release-edit-notes', async (args, { user }) => {
      const view = await deps.releases.notesForEdit(releaseId(args.action.type === 'button' ? args.action.value : undefined), user);
      await args.client.views.open({ trigger_id: args.body.trigger_id, view });
    }),
  );

  app.view(
    RELEASE_VIEWS.editNotes,
    viewListener(deps, 'release-notes', async ({ view }, { user }) => {
      const id = releaseId(view.private_metadata);
      const notes = view.state.values[NOTES_BLOCK]?.[NOTES_INPUT]?.value ?? '';
      if (notes.trim().length < 3) return { errors: { [NOTES_BLOCK]: 'The notes cannot be empty.' } };
      return { after: () => deps.releases.saveNotes(id, user, notes) };
    }),
  );
}
