// The server under load for the acknowledgement benchmark, in its own process so the load generator does not
// share its event loop: `shipmate` is Shipmate's real Bolt receiver (role app: the receiver process; deploys it
// queues wait for workers elsewhere), `floor` a minimal Bolt app that acks any command empty. Both use the same
// signing secret and the Slack stand-in. Prints `READY {json}` when listening; SIGTERM stops it.
import { createWriteStream } from 'node:fs';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { createShipmate } from '../../src/app.js';
import { parseConfig } from '../../src/core/config.js';
import { createLogger } from '../../src/core/logger.js';
import { startSlackStandin } from '../../playground/slack-standin/server.js';
import { BOT_TOKEN, SIGNING_SECRET } from '../../tests/helpers/harness.js';

interface TargetArgs {
  kind: 'shipmate' | 'floor';
  redisUrl: string;
  prefix: string;
  configYaml: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as TargetArgs;
const slack = await startSlackStandin({ token: BOT_TOKEN });
let stop: () => Promise<void>;
let port: number;

if (args.kind === 'floor') {
  const receiver = new HTTPReceiver({ signingSecret: SIGNING_SECRET, endpoints: '/slack/events', processBeforeResponse: false, logLevel: LogLevel.ERROR });
  const app = new App({ token: BOT_TOKEN, receiver, clientOptions: { slackApiUrl: slack.url }, logLevel: LogLevel.ERROR });
  app.command(/.*/, async ({ ack }) => {
    await ack();
  });
  const server = (await receiver.start({ port: 0, host: '127.0.0.1' })) as import('node:http').Server;
  port = (server.address() as import('node:net').AddressInfo).port;
  stop = () => receiver.stop();
} else {
  const config = parseConfig(args.configYaml, 'bench.yml', {});
  const shipmate = await createShipmate({
    config, role: 'app', redisUrl: args.redisUrl, prefix: args.prefix,
    slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: slack.url },
    port: 0, host: '127.0.0.1', // Logged at the default level (info), as in production; the lines go nowhere.
    log: createLogger({ level: 'info', destination: createWriteStream('/dev/null') }), env: { PATH: process.env.PATH },
  });
  port = (await shipmate.start()).port;
  stop = () => shipmate.stop();
}

process.on('SIGTERM', () => {
  void stop().finally(() => slack.close()).finally(() => process.exit(0));
});
process.stdout.write(`READY ${JSON.stringify({ port, url: `http://127.0.0.1:${port}/slack/events`, responseUrl: slack.responseUrlFor({ user: 'U0ALICE', channel: 'C0RELEASES' }) })}\n`);
