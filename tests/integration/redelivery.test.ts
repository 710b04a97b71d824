// Defect 6 (issue 8): a redelivered command has exactly one effect, and a second request for a version
// already pending or queued for an environment answers "already requested: deploy #N" with its link.
import { describe, expect, it } from 'vitest';
import { sendToBot, slashCommandBody } from '../../playground/slack-standin/requests.js';
import { CHANNEL, SIGNING_SECRET, deployIdFrom, eventually, headerText, useTestBot, waitForEnd } from '../helpers/harness.js';

const YAML = `
roles:
  engineers: { users: [U0ALICE, U0BOB] }
  tech_lead: { label: Tech Lead, users: [U0TARA, U0TOM] }
environments:
  - name: staging
    steps:
      - { name: Deploy, run: [node, -e, "console.log('staging up')"] }
  - name: production
    aliases: [prod]
    deployers: [engineers]
    approvals: { required: 1, roles: [tech_lead], notify: dm }
    steps:
      - { name: Deploy, run: [node, -e, "console.log('production up')"] }
  - name: long
    steps:
      - { name: Wait, run: [sleep, "2"] }
`;

const bot = useTestBot({ configYaml: YAML });

/** One signed /deploy body, sent as Slack would send it and, with `retry`, as Slack redelivers it. */
function delivery(text: string, user = 'U0ALICE') {
  const body = slashCommandBody({ command: '/deploy', text, user_id: user, channel_id: CHANNEL, response_url: bot().slack.responseUrlFor({ user, channel: CHANNEL }) });
  return (retry?: number) => sendToBot(bot().url, body, SIGNING_SECRET, retry ? { headers: { 'x-slack-retry-num': String(retry), 'x-slack-retry-reason': 'http_timeout' } } : {});
}

/** Deploy records of `version` (every record, not only the active ones). */
async function recordsOf(version: string) {
  const { redis } = bot().shipmate.deps;
  const ids = (await redis.keys(`${bot().prefix}:deploy:*`)).map((k) => k.split(':').pop() ?? '');
  const records = await bot().shipmate.deps.store.getMany(ids);
  return records.filter((r) => r.version === version);
}

const gateMessages = (id: string) => bot().slack.messages(CHANNEL).filter((m) => headerText(m).includes(`Gates for deploy #${id} `));
const dmsAbout = (id: string) => bot().slack.callsTo('chat.postMessage').filter((c) => String(c.args.channel).startsWith('U') && String(c.args.text).includes(`deploy #${id}:`));

describe('a redelivered /deploy', () => {
  it('runs one deploy when the same signed body comes three times (x-slack-retry-num 1 and 2)', async () => {
    const send = delivery('staging v3.0.0');
    const first = await send();
    const id = deployIdFrom(first.json.text);
    const retries = [await send(1), await send(2)];
    for (const r of retries) {
      expect(r.status).toBe(200);
      expect(r.json.text).toMatch(new RegExp(`^Already handled: deploy #${id} `));
    }
    expect((await waitForEnd(bot(), id)).status).toBe('succeeded');
    await new Promise((ok) => setTimeout(ok, 300));
    expect((await recordsOf('v3.0.0')).map((r) => r.id)).toEqual([id]);
    expect((await bot().shipmate.deps.store.recentLog(50)).filter((e) => e.version === 'v3.0.0')).toHaveLength(1);
  });

  it('posts one gate message and one round of DMs for a gated deploy delivered twice', async () => {
    const send = delivery('prod v4.0.0');
    const first = await send();
    expect(first.json.text).toMatch(/waiting for its gates/);
    const id = deployIdFrom(first.json.text);
    await eventually(() => dmsAbout(id).length === 2, 5_000, 'the approvers’ DMs');
    const again = await send(1);
    expect(again.json.text).toMatch(new RegExp(`^Already handled: deploy #${id} `));
    await new Promise((ok) => setTimeout(ok, 500));
    expect(gateMessages(id)).toHaveLength(1);
    expect(dmsAbout(id).map((c) => c.args.channel).sort()).toEqual(['U0TARA', 'U0TOM']);
    expect(await recordsOf('v4.0.0')).toHaveLength(1);
  });
});

describe('the same version requested again', () => {
  it('answers "already requested: deploy #N" with a link to its gate message while it is pending', async () => {
    const first = await bot().command('/deploy', 'prod v1.1.0', 'U0ALICE');
    const id = deployIdFrom(first.json.text);
    const gate = await eventually(() => gateMessages(id)[0], 5_000, 'the gate message');
    const second = await bot().command('/deploy', 'prod v1.1.0', 'U0BOB');
    expect(second.ms).toBeLessThan(3_000);
    expect(second.json.text).toMatch(new RegExp(`^Already requested: deploy #${id} of \`v1.1.0\` to \\*production\\* by <@U0ALICE> is waiting for its gates`));
    expect(second.json.text).toContain(`<https://shipmate.slack.com/archives/${CHANNEL}/p${gate.ts.replace('.', '')}|`);
    expect(await recordsOf('v1.1.0')).toHaveLength(1);
  });

  it('creates one deploy from two identical requests sent at the same time', async () => {
    const replies = await Promise.all([bot().command('/deploy', 'prod v1.2.0', 'U0ALICE'), bot().command('/deploy', 'prod v1.2.0', 'U0ALICE')]);
    const texts = replies.map((r) => r.json.text as string);
    expect(texts.filter((t) => /waiting for its gates/.test(t) && !t.startsWith('Already'))).toHaveLength(1);
    expect(texts.filter((t) => t.startsWith('Already requested: deploy #'))).toHaveLength(1);
    expect(await recordsOf('v1.2.0')).toHaveLength(1);
  });

  it('answers the same while it is queued behind another deploy, and accepts it again once it has run', async () => {
    const running = deployIdFrom((await bot().command('/deploy', 'long v1')).json.text);
    const queued = deployIdFrom((await bot().command('/deploy', 'long v2')).json.text);
    const again = await bot().command('/deploy', 'long v2');
    expect(again.json.text).toMatch(new RegExp(`^Already requested: deploy #${queued} of \`v2\` to \\*long\\* by <@U0ALICE> is queued`));
    await waitForEnd(bot(), running);
    expect((await waitForEnd(bot(), queued)).status).toBe('succeeded');
    const later = await bot().command('/deploy', 'long v2');
    expect(later.json.text).toMatch(/^Deploying `v2` to \*long\*/);
    await waitForEnd(bot(), deployIdFrom(later.json.text));
  }, 20_000);
});
