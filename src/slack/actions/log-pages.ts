// Older / Newer on a `/deploys log` page: reads the next page from the cursor the button carries (the same bounded
// read as the first page) and replaces the private message with it. Behind the guard like every button.
import type { App } from '@slack/bolt';
import { ACTIONS } from '../../../blocks/action-ids.js';
import { filterLabel, logPageBlocks, parseLogPageValue } from '../../../blocks/insight.js';
import type { Deps } from '../../deps.js';
import { UserInputError } from '../../core/errors.js';
import { FINAL_STATUSES, type DeployStatus } from '../../deploys/deploy-store.js';
import { actionListener } from './guard.js';

export function registerLogPageActions(app: App, deps: Deps): void {
  const listener = actionListener(deps, 'log-page', async ({ action, respond }) => {
    const state = parseLogPageValue(action.type === 'button' ? action.value : undefined);
    const env = state && deps.config.environments.find((e) => e.name === state.env);
    if (!state || !env || (state.status !== undefined && !(FINAL_STATUSES as readonly string[]).includes(state.status))) throw new UserInputError('That button does not name a page of the log.');
    const query = { env: env.name, since: state.since, user: state.user, status: state.status as DeployStatus | undefined };
    const page = await deps.store.logPage({ ...query, cursor: state.cursor, direction: state.dir, size: 10 });
    const since = state.since !== undefined ? new Date(state.since).toISOString().slice(0, 16).replace('T', ' ') : undefined;
    await respond({ response_type: 'ephemeral', replace_original: true, ...logPageBlocks(page, query, filterLabel(query, since)) });
  });
  app.action(ACTIONS.logOlder, listener);
  app.action(ACTIONS.logNewer, listener);
}
