// A step's environment is explicit: the safe base, SHIPMATE_*, the config's secrets, passEnv and the
// step's own env, never Shipmate's own Slack and GitHub credentials. Shown through a real deploy whose
// automatic check and step both look at their environment.
import { describe, expect, it } from 'vitest';
import { baseStepEnv } from '../../src/steps/step-env.js';
import { allText, deployIdFrom, eventually, useTestBot, waitForEnd } from '../helpers/harness.js';

const YAML = `
secrets: [DEPLOY_TOKEN]
passEnv: [EXTRA_VAR]
channels: { deployLog: C0DEPLOYLOG }
environments:
  - name: staging
    checklist:
      - section: Checks
        items:
          - id: env
            text: The check sees only what it should
            check:
              run: [node, -e, "const e = process.env; process.exit(e.SLACK_BOT_TOKEN || e.SLACK_SIGNING_SECRET || e.GITHUB_TOKEN || e.UNLISTED || !e.DEPLOY_TOKEN || !e.EXTRA_VAR || e.SHIPMATE_REF !== 'v1' ? 1 : 0)"]
    steps:
      - name: Env
        run: [env]
        env: { OWN: "{{version}}" }
`;

const bot = useTestBot({
  configYaml: YAML,
  env: {
    SLACK_BOT_TOKEN: 'xoxb-not-for-steps-1234',
    SLACK_SIGNING_SECRET: 'signing-not-for-steps-5678',
    GITHUB_TOKEN: 'ghp_not_for_steps_9012',
    UNLISTED: 'not-asked-for',
    DEPLOY_TOKEN: 'deploy-token-for-steps',
    EXTRA_VAR: 'extra-value',
    LANG: 'C.UTF-8',
  },
});

describe('step environment', () => {
  it('has the base, SHIPMATE_*, secrets, passEnv and the step env, and none of Shipmate’s own tokens', async () => {
    const id = deployIdFrom((await bot().command('/deploy', 'staging v1', 'U0ALICE')).json.text);
    // The automatic check passes only with the right environment, and then the deploy starts by itself.
    const check = await eventually(async () => (await bot().shipmate.deps.store.get(id))?.gates?.items.env?.reason, 10_000, 'the check to run');
    expect(check).toBe('`node` exited 0');
    expect((await waitForEnd(bot(), id)).status).toBe('succeeded');
    const status = await eventually(() => bot().statusMessage(id));
    const output = await eventually(() => bot().slack.thread(status.channel, status.ts).slice(1).map(allText).join('\n') || undefined);
    const names = [...output.matchAll(/(?:^|\\n|\n)([A-Z_]+)=/g)].map((m) => m[1]);
    expect(names).toEqual(expect.arrayContaining(['PATH', 'LANG', 'DEPLOY_TOKEN', 'EXTRA_VAR', 'OWN', 'SHIPMATE_ENV', 'SHIPMATE_VERSION', 'SHIPMATE_REF', 'SHIPMATE_USER', 'SHIPMATE_DEPLOY_ID']));
    for (const hidden of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'GITHUB_TOKEN', 'UNLISTED']) expect(names).not.toContain(hidden);
    expect(output).toContain('EXTRA_VAR=extra-value');
    expect(output).toContain('OWN=v1');
    // The secret reaches the step, and its value is masked in what the thread shows.
    expect(output).toContain('DEPLOY_TOKEN=••••••');
  });

  it('passes Shipmate’s own tokens only when the config names them', () => {
    const source = { PATH: '/bin', HOME: '/home/x', SLACK_BOT_TOKEN: 'xoxb-1', GITHUB_TOKEN: 'ghp-1', OTHER: 'o' };
    expect(baseStepEnv(source, { secrets: [], passEnv: [] })).toEqual({ PATH: '/bin', HOME: '/home/x' });
    expect(baseStepEnv(source, { secrets: ['GITHUB_TOKEN'], passEnv: ['OTHER', 'MISSING'] })).toEqual({ PATH: '/bin', HOME: '/home/x', GITHUB_TOKEN: 'ghp-1', OTHER: 'o' });
  });
});
