// The playground keeps its channels: the Slack stand-in, given a file, shows the same history after a restart
// (messages, threads, edits), and new messages get timestamps after the restored ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebClient } from '@slack/web-api';
import { afterAll, describe, expect, it } from 'vitest';
import { startSlackStandin } from '../../playground/slack-standin/server.js';

const dir = mkdtempSync(join(tmpdir(), 'shipmate-standin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Slack stand-in persistence', () => {
  it('shows the same channel history after a restart', async () => {
    const file = join(dir, 'data', 'playground-slack.json');
    const first = await startSlackStandin({ token: 'xoxb-a', persistFile: file });
    const web = new WebClient('xoxb-a', { slackApiUrl: first.url });
    const parent = await web.chat.postMessage({ channel: 'C0RELEASES', text: 'Deploy #1 running' });
    await web.chat.postMessage({ channel: 'C0RELEASES', thread_ts: parent.ts, text: 'step output' });
    await web.chat.update({ channel: 'C0RELEASES', ts: parent.ts ?? '', text: 'Deploy #1 succeeded' });
    await first.close();

    // Another token, as the playground makes a new one each start.
    const second = await startSlackStandin({ token: 'xoxb-b', persistFile: file });
    const again = new WebClient('xoxb-b', { slackApiUrl: second.url });
    const history = await again.conversations.history({ channel: 'C0RELEASES' });
    expect(history.messages?.map((m) => [m.ts, m.text, m.reply_count])).toEqual([[parent.ts, 'Deploy #1 succeeded', 1]]);
    const replies = await again.conversations.replies({ channel: 'C0RELEASES', ts: parent.ts ?? '' });
    expect(replies.messages?.map((m) => m.text)).toEqual(['Deploy #1 succeeded', 'step output']);
    const later = await again.chat.postMessage({ channel: 'C0RELEASES', text: 'Deploy #2' });
    expect(Number(later.ts)).toBeGreaterThan(Number(parent.ts));
    await second.close();
  });

  it('without a file, a restart starts empty (as tests expect)', async () => {
    const one = await startSlackStandin({ token: 'xoxb-c' });
    await new WebClient('xoxb-c', { slackApiUrl: one.url }).chat.postMessage({ channel: 'C0X', text: 'hi' });
    await one.close();
    const two = await startSlackStandin({ token: 'xoxb-c' });
    expect(two.messages('C0X')).toEqual([]);
    await two.close();
  });
});
