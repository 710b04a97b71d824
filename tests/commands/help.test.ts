// Help on every command: `help` (and an empty /deploy or /rollback) answers with the usage and examples from the
// loaded config, never "There is no environment `help`"; /shipmate lists every command, what it does and who may.
import { beforeEach, describe, expect, it } from 'vitest';
import { COMMAND_HELP } from '../../commands/help.js';
import { SLASH_COMMANDS } from '../../commands/index.js';
import { PIPELINE_YAML } from '../helpers/configs.js';
import { type TestBot, useTestBot } from '../helpers/harness.js';

const useBot = useTestBot({ configYaml: PIPELINE_YAML });
let bot: TestBot;
beforeEach(() => {
  bot = useBot();
});

async function reply(command: string, text: string, user = 'U0MALLORY'): Promise<string> {
  const res = await bot.command(command, text, user);
  expect(res.status).toBe(200);
  expect(res.json.response_type).toBe('ephemeral');
  return res.json.text as string;
}

async function nothingHappened(): Promise<void> {
  expect(await bot.shipmate.deps.store.active()).toEqual([]);
  expect(bot.slack.callsTo('chat.postMessage')).toEqual([]);
}

describe('help on every command', () => {
  it.each([
    ['/deploy', 'help'], ['/deploy', ''], ['/deploy', '--help'], ['/deploy', ' HELP '],
    ['/rollback', 'help'], ['/rollback', ''], ['/rollback', '?'],
    ['/deploys', 'help'], ['/shipmate', 'help'],
  ])('%s %j gives its usage and examples from the config', async (command, text) => {
    const answer = await reply(command, text);
    expect(answer).toContain(`*\`${command} ${COMMAND_HELP[command as keyof typeof COMMAND_HELP].hint}\`*`);
    expect(answer).toContain('*Examples:*');
    expect(answer).not.toMatch(/There is no environment|:warning:/);
    await nothingHappened();
  });

  it('/deploy help: examples name the config\'s environments, and who may deploy where by role label', async () => {
    const answer = await reply('/deploy', 'help');
    expect(answer).toContain('• `/deploy staging v1.4.0` — deploy tag v1.4.0 to staging');
    expect(answer).toContain('• `/deploy long v1.4.0 --dry-run`');
    expect(answer).toContain('*Who:* staging, slow, long: everyone · production: people with the Deployers role.');
    expect(answer).toContain('• *production* (prod) — only people with the Deployers role');
  });

  it('/rollback help: examples from the config and who may roll back', async () => {
    const answer = await reply('/rollback', 'help');
    expect(answer).toContain('• `/rollback long` — put back long\'s previous good version');
    expect(answer).toContain('production: people with the Deployers role');
  });

  it('/deploys with no text is still the overview, not the help', async () => {
    const res = await bot.command('/deploys', '', 'U0MALLORY');
    expect(JSON.stringify(res.json)).toContain('Deployment log');
    expect(res.json.text).not.toContain('*Examples:*');
  });
});

describe('/shipmate', () => {
  it('lists every registered command with what it does and who may use it', async () => {
    const answer = await reply('/shipmate', '');
    for (const command of SLASH_COMMANDS) {
      const help = COMMAND_HELP[command];
      expect(answer).toContain(`• \`${command} ${help.hint}\` — ${help.does}`);
    }
    expect(answer).toContain('_Who: staging, slow, long: everyone · production: people with the Deployers role._');
    expect(answer).toContain('`/deploy help`');
    await nothingHappened();
  });

  it('/shipmate <command> gives that command\'s help; an unknown one says so and lists them all', async () => {
    expect(await reply('/shipmate', 'rollback')).toContain('*`/rollback <env> [version] [reason]`*');
    expect(await reply('/shipmate', '/deploys')).toContain('*`/deploys [env] | windows [env] | lock <env> "reason" | unlock <env> | stats <env> [30d] | log <env> [--since 7d] [--user @x] [--status failed] [--export csv|json]`*');
    const unknown = await reply('/shipmate', 'launch');
    expect(unknown).toMatch(/^:warning: Shipmate has no command `launch`\.\n\*Shipmate runs your release process/);
  });
});
