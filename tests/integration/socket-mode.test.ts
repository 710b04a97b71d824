// Socket Mode (SLACK_APP_TOKEN): the same commands over a WebSocket, with apps.connections.open going to
// SLACK_API_URL; /healthz still served on PORT.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShipmate, type Shipmate } from '../../src/app.js';
import { parseConfig } from '../../src/core/config.js';
import { freePort, startEmbeddedRedis, type EmbeddedRedis } from '../../src/core/redis.js';
import { startSlackStandin, type SlackStandin } from '../../playground/slack-standin/server.js';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { BOT_TOKEN, CHANNEL, allText, eventually, headerText, memoryLog } from '../helpers/harness.js';
import { startSocketModeServer, type SocketModeServer } from '../helpers/socket-mode-server.js';

const APP_TOKEN = 'xapp-1-A0SHIPMATE-test';
let redis: EmbeddedRedis;
let slack: SlackStandin;
let socket: SocketModeServer;
let shipmate: Shipmate;
let port: number;

beforeAll(async () => {
  redis = await startEmbeddedRedis({ dir: mkdtempSync(join(tmpdir(), 'shipmate-sm-')) });
  slack = await startSlackStandin({ token: BOT_TOKEN, appToken: APP_TOKEN });
  socket = await startSocketModeServer();
  slack.setSocketModeUrl(socket.url);
  port = await freePort();
  shipmate = await createShipmate({
    config: parseConfig(PIPELINE_YAML, 't.yml', {}),
    redisUrl: redis.url,
    prefix: `sm${Date.now()}`,
    slack: { botToken: BOT_TOKEN, appToken: APP_TOKEN, apiUrl: slack.url },
    port,
    host: '127.0.0.1',
    log: memoryLog().log,
    env: { PATH: process.env.PATH },
  });
  await shipmate.start();
  await socket.connected();
});
afterAll(async () => {
  await shipmate?.stop();
  await socket?.close();
  await slack?.close();
  await redis?.stop();
});

describe('Socket Mode', () => {
  it('opens its connection through SLACK_API_URL with the app token', () => {
    const open = slack.callsTo('apps.connections.open');
    expect(open.length).toBeGreaterThanOrEqual(1);
    expect(open[0]!.response).toEqual({ ok: true, url: socket.url });
  });

  it('runs /deploy from a slash_commands envelope: private ack, then the deploy', async () => {
    const ack = await socket.send('slash_commands', {
      token: 'x', team_id: 'T0SHIPMATE', team_domain: 'shipmate', channel_id: CHANNEL, channel_name: 'releases', user_id: 'U0ALICE', user_name: 'alice',
      command: '/deploy', text: 'stage v7.0.0', api_app_id: 'A0SHIPMATE', is_enterprise_install: 'false', response_url: slack.responseUrlFor({ user: 'U0ALICE', channel: CHANNEL }), trigger_id: '1.2.3',
    });
    expect(ack.payload).toMatchObject({ response_type: 'ephemeral' });
    expect(String(ack.payload?.text)).toContain('Deploying `v7.0.0` to *staging*');
    const msg = await eventually(() => {
      const m = slack.messages(CHANNEL).find((x) => headerText(x).includes('v7.0.0 → staging'));
      return m && allText(m).includes('Succeeded') ? m : undefined;
    }, 15_000, 'the deploy to succeed');
    // step output is delivered after the status edit that says Succeeded: wait for all three replies
    await eventually(() => slack.thread(CHANNEL, msg.ts).length === 4, 5_000, 'the three step outputs in the thread');
  });

  it('refuses bad input privately over the socket too', async () => {
    const ack = await socket.send('slash_commands', { team_id: 'T0SHIPMATE', channel_id: CHANNEL, user_id: 'U0ALICE', command: '/deploy', text: 'qa', api_app_id: 'A0SHIPMATE', response_url: slack.responseUrlFor({ user: 'U0ALICE' }), trigger_id: '1.2.3' });
    expect(String(ack.payload?.text)).toContain('There is no environment `qa`');
  });

  it('serves /healthz on PORT', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  });
});
