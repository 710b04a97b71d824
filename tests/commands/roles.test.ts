// Role membership: users from config and Slack user groups, cached so requests never wait on Slack.
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { RoleDirectory } from '../../src/gates/roles.js';
import { startSlackStandin, type SlackStandin } from '../../playground/slack-standin/server.js';
import { memoryLog } from '../helpers/harness.js';

let slack: SlackStandin;
beforeAll(async () => {
  slack = await startSlackStandin({ usergroups: [{ id: 'S0OPS', handle: 'ops', users: ['U0OLLIE'] }] });
});
afterAll(() => slack.close());

const config = parseConfig('roles:\n  ops: { users: [U0DIRECT], groups: [S0OPS] }\n  dev: { users: [U0DEV] }\nenvironments:\n  - name: prod\n    deployers: [ops]\n    steps: [{ name: x, run: [true] }]\n', 't.yml', {});

describe('RoleDirectory', () => {
  it('knows direct members and group members', async () => {
    const roles = new RoleDirectory(config, new WebClient('xoxb-x', { slackApiUrl: slack.url }), memoryLog().log);
    expect(await roles.rolesOf('U0DIRECT')).toEqual(new Set(['ops']));
    expect(await roles.rolesOf('U0OLLIE')).toEqual(new Set(['ops']));
    expect(await roles.rolesOf('U0DEV')).toEqual(new Set(['dev']));
    expect(await roles.mayDeploy(config.environments[0]!, 'U0DEV')).toBe(false);
  });

  it('answers from the warmed cache, refreshing stale groups in the background', async () => {
    let now = 0;
    const roles = new RoleDirectory(config, new WebClient('xoxb-x', { slackApiUrl: slack.url }), memoryLog().log, () => now);
    await roles.warm();
    const lookups = () => slack.callsTo('usergroups.users.list').length;
    const before = lookups();
    expect(await roles.hasAnyRole('U0OLLIE', ['ops'])).toBe(true);
    expect(lookups()).toBe(before); // cached: no Slack call in the request
    slack.addUserGroup({ id: 'S0OPS', handle: 'ops', users: ['U0NEWBIE'] });
    now = 10 * 60_000; // stale: still answered from cache, refreshed behind the scenes
    expect(await roles.hasAnyRole('U0OLLIE', ['ops'])).toBe(true);
    await slack.waitFor(() => lookups() === before + 1);
    await new Promise((ok) => setTimeout(ok, 50));
    expect(await roles.hasAnyRole('U0NEWBIE', ['ops'])).toBe(true);
    expect(await roles.hasAnyRole('U0OLLIE', ['ops'])).toBe(false);
  });
});
