// Role membership: users from config and Slack user groups, cached so requests never wait on Slack.
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { MembershipUnknownError, RoleDirectory } from '../../src/gates/roles.js';
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

  it('never waits long for a group it has not loaded yet: refuses to guess, and answers once the lookup lands', async () => {
    const cold = parseConfig('roles:\n  ops: { users: [U0DIRECT], groups: [S0COLD] }\nenvironments:\n  - name: prod\n    deployers: [ops]\n    steps: [{ name: x, run: [true] }]\n', 't.yml', {});
    const prod = cold.environments[0]!;
    slack.addUserGroup({ id: 'S0COLD', handle: 'cold', users: ['U0COLD'] });
    slack.failNext('usergroups.users.list', { status: 429, retryAfter: 1 });
    const roles = new RoleDirectory(cold, new WebClient('xoxb-x', { slackApiUrl: slack.url }), memoryLog().log);
    const started = Date.now();
    await expect(roles.mayDeploy(prod, 'U0COLD')).rejects.toBeInstanceOf(MembershipUnknownError);
    expect(Date.now() - started).toBeLessThan(800);
    expect(await roles.mayDeploy(prod, 'U0DIRECT')).toBe(true); // listed by id: no group needed
    await slack.waitFor(() => slack.callsTo('usergroups.users.list').at(-1)?.response.ok, 5_000);
    expect(await roles.mayDeploy(prod, 'U0COLD')).toBe(true);
  });

  it('takes Slack saying the group does not exist as "not a member"', async () => {
    const other = parseConfig('roles:\n  ops: { groups: [S0GONE] }\nenvironments:\n  - name: prod\n    deployers: [ops]\n    steps: [{ name: x, run: [true] }]\n', 't.yml', {});
    const roles = new RoleDirectory(other, new WebClient('xoxb-x', { slackApiUrl: slack.url }), memoryLog().log);
    expect(await roles.mayDeploy(other.environments[0]!, 'U0OLLIE')).toBe(false);
  });
});
