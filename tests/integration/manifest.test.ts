// manifest.yml is a valid Slack app manifest (checked against Slack's published JSON schema)
// and declares every slash command Shipmate registers.
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { COMMAND_HELP } from '../../commands/help.js';
import { SLASH_COMMANDS } from '../../commands/index.js';

const schemaDir = new URL('../../../shared/slack-manifest-schema/', import.meta.url);
const manifestText = readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8');
const manifest = parseYaml(manifestText) as Manifest;

interface Manifest {
  display_information: { name: string; description?: string; background_color?: string };
  features: {
    bot_user: { display_name: string; always_online?: boolean };
    app_home: Record<string, boolean>;
    slash_commands: Array<{ command: string; url?: string; description: string; usage_hint?: string; should_escape?: boolean }>;
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url: string };
    [key: string]: unknown;
  };
}

function readSchema(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, schemaDir), 'utf8')) as Record<string, unknown>;
}

/**
 * The schemas are draft-07 (Ajv's default class). manifest.schema.json picks the version schema by
 * _metadata.major_version and $refs it by its raw.githubusercontent.com URL, so the version files
 * beside it are registered under those URLs. strict: false because the schema uses a non-standard
 * `regex` keyword (on display_information.background_color), which Ajv then ignores.
 */
function compileManifestSchema(): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true, formats: { uri: /^[a-z][a-z0-9+.-]*:\S+$/i } });
  const base = 'https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/';
  for (const version of ['1.0.0', '2.0.0']) {
    ajv.addSchema({ ...readSchema(`manifest.schema.${version}.json`), $id: `${base}manifest.schema.${version}.json` });
  }
  return ajv.compile(readSchema('manifest.schema.json'));
}

const validate = compileManifestSchema();
const placeholder = 'https://example.com/slack/events';

describe('manifest.yml', () => {
  it("is valid against Slack's manifest schema", () => {
    const valid = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is checked for real: the schema rejects a broken manifest', () => {
    const broken = structuredClone(manifest);
    broken.features.slash_commands[0] = { command: 'deploy', description: '' };
    expect(validate(broken)).toBe(false);
    expect(validate({ ...manifest, display_information: undefined })).toBe(false);
    expect(validate({ ...manifest, unknown_section: true })).toBe(false);
  });

  it('has a background colour the schema would accept if Ajv knew its `regex` keyword', () => {
    expect(manifest.display_information.background_color).toMatch(/^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/);
  });

  it('declares exactly the slash commands Shipmate registers (a declared command without a listener would fail in Slack)', () => {
    const declared = manifest.features.slash_commands.map((c) => c.command);
    expect([...declared].sort()).toEqual([...SLASH_COMMANDS].sort());
  });

  it('declares each command with a description and the placeholder URL, unescaped', () => {
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/deploy', '/deploys', '/release', '/hotfix', '/rollback', '/shipmate', '/flag', '/migrate']);
    for (const c of manifest.features.slash_commands) {
      expect(c).toMatchObject({ url: placeholder, should_escape: false });
      expect(c.description.length).toBeGreaterThan(0);
    }
  });

  it("gives each command the usage hint its in-Slack help shows (`/deploy help`, `/shipmate`), so they cannot drift", () => {
    const hints = Object.fromEntries(manifest.features.slash_commands.map((c) => [c.command, c.usage_hint]));
    expect(hints).toEqual(Object.fromEntries(Object.entries(COMMAND_HELP).map(([name, help]) => [name, help.hint])));
  });

  it('sends events and interactions to the same request URL', () => {
    expect(manifest.settings.event_subscriptions).toEqual({ request_url: placeholder, bot_events: ['app_home_opened'] });
    expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: placeholder });
    expect(manifest.settings).toMatchObject({ org_deploy_enabled: false, socket_mode_enabled: false, token_rotation_enabled: false });
  });

  it('asks for the bot scopes Shipmate uses and no others', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(
      ['channels:read', 'chat:write', 'chat:write.public', 'commands', 'files:read', 'files:write', 'groups:read', 'im:write', 'usergroups:read', 'users:read'].sort(),
    );
  });

  it('has a bot user and an App Home with the Home and Messages tabs', () => {
    expect(manifest.display_information.name).toBe('Shipmate');
    expect(manifest.features.bot_user).toEqual({ display_name: 'shipmate', always_online: true });
    expect(manifest.features.app_home).toEqual({ home_tab_enabled: true, messages_tab_enabled: true, messages_tab_read_only_enabled: false });
  });

  it('says in a comment how to replace the URL or use Socket Mode', () => {
    const comments = manifestText.split('\n').filter((l) => l.startsWith('#')).join('\n');
    expect(comments).toContain(placeholder);
    expect(comments).toMatch(/socket_mode_enabled: true/);
  });
});
