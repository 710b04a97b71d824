// The OFREP routes on Shipmate's own HTTP server: answers validated against OFREP's OpenAPI description (read
// from ../shared/ofrep/openapi.yaml beside the clone, with ajv), API keys per environment (never logged), ETag /
// If-None-Match → 304, and a real OpenFeature client (@openfeature/server-sdk + @openfeature/ofrep-provider)
// reading Shipmate's flags, a change visible to its next evaluation. Fault: Redis restarted → an error shape,
// then answers again.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { ErrorCode, OpenFeature } from '@openfeature/server-sdk';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { RestartableRedis } from '../helpers/chaos.js';
import { CHANNEL, eventually, startTestBot, type TestBot } from '../helpers/harness.js';
import { FLAGS_YAML, FLAG_ENV } from './config.js';

// OFREP's published description, beside the clone (CI puts ../shared next to it); not copied into the repository.
const spec = parseYaml(readFileSync(resolve(process.cwd(), '../shared/ofrep/openapi.yaml'), 'utf8')) as { paths: Record<string, { post: { responses: Record<string, { content?: Record<string, { schema: object }> }> } }> };
/**
 * One repair, in memory: evaluationSuccess picks its value shape with `oneOf`, but `codeDefaultFlag` (meant as
 * "no value") constrains nothing and matches every object, and every integer is also a `floatFlag`; read
 * literally, no answer that carries a value could pass. The intent — exactly one of the value shapes — is
 * kept by saying what codeDefaultFlag and floatFlag mean: no `value`, and a number that is not an integer.
 */
type Schemas = Record<string, Record<string, unknown>>;
const schemas = (spec as unknown as { components: { schemas: Schemas } }).components.schemas;
schemas.codeDefaultFlag = { ...schemas.codeDefaultFlag, not: { required: ['value'] } };
schemas.floatFlag = { ...schemas.floatFlag, properties: { value: { type: 'number', not: { type: 'integer' } } } };
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema({ ...spec, $id: 'ofrep' } as object);
const validators = new Map<string, ValidateFunction | null>();

/** Checks a response against the description: its status is one the path declares, its body the declared schema (or none). */
function conforms(path: string, status: number, body: string): string[] {
  const responses = spec.paths[path]?.post.responses ?? {};
  if (!responses[String(status)]) return [`status ${status} is not declared for ${path}`];
  const id = `${path} ${status}`;
  if (!validators.has(id)) {
    const hasSchema = !!responses[String(status)]?.content?.['application/json'];
    const pointer = `#/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/post/responses/${status}/content/application~1json/schema`;
    validators.set(id, hasSchema ? ajv.compile({ $ref: `ofrep${pointer}` }) : null);
  }
  const validate = validators.get(id);
  if (!validate) return body === '' ? [] : [`status ${status} must have no body, got ${body.slice(0, 80)}`];
  if (validate(JSON.parse(body))) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

const redis = new RestartableRedis();
let bot: TestBot;
let base: string;

beforeAll(async () => {
  await redis.start();
  bot = await startTestBot({ configYaml: FLAGS_YAML, env: FLAG_ENV, redisUrl: redis.url });
  base = bot.url.replace(/\/slack\/events$/, '');
  const flags = bot.shipmate.deps.flags;
  await flags.create({ key: 'new_query_ui', type: 'experiment', description: 'New query UI', user: 'U0ALICE' });
  await flags.create({ key: 'max_rows', type: 'limit', description: 'Rows', user: 'U0ALICE' });
  await flags.create({ key: 'theme', type: 'config', description: 'Theme', user: 'U0ALICE' });
  await flags.change({ key: 'max_rows', env: 'production', user: 'U0ALICE', change: { kind: 'set', text: '500' }, channel: CHANNEL });
  await flags.change({ key: 'theme', env: 'production', user: 'U0ALICE', change: { kind: 'set', text: '{"color": "blue"}' }, channel: CHANNEL });
});

afterAll(async () => {
  await OpenFeature.close();
  await bot?.stop();
  await redis.stop();
});

const SINGLE = '/ofrep/v1/evaluate/flags/{key}';
const BULK = '/ofrep/v1/evaluate/flags';

async function post(path: string, body: unknown, headers: Record<string, string> = { 'x-api-key': FLAG_ENV.OFREP_KEY_PROD }) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined, etag: res.headers.get('etag') };
}

describe('OFREP single evaluation', () => {
  it('answers every case in the shapes OFREP describes', async () => {
    // The check itself refuses what OFREP does not allow.
    expect(conforms(SINGLE, 200, '{"key":"x","reason":"BOGUS","value":true}')).not.toEqual([]);
    expect(conforms(SINGLE, 404, '{"key":"x","errorCode":"TYPO"}')).not.toEqual([]);
    expect(conforms(SINGLE, 200, '{"key":"x","reason":"STATIC","value":[1]}')).not.toEqual([]);
    const cases: Array<[string, unknown, number, Record<string, unknown> | undefined]> = [
      ['new_query_ui', { context: { targetingKey: 'u1' } }, 200, { key: 'new_query_ui', value: false, reason: 'DISABLED' }],
      ['max_rows', { context: { targetingKey: 'u1' } }, 200, { key: 'max_rows', value: 500, reason: 'STATIC' }],
      ['theme', { context: {} }, 200, { value: { color: 'blue' } }],
      ['nope', { context: { targetingKey: 'u1' } }, 404, { key: 'nope', errorCode: 'FLAG_NOT_FOUND' }],
      ['max_rows', '{not json', 400, { key: 'max_rows', errorCode: 'PARSE_ERROR' }],
      ['max_rows', { context: 'u1' }, 400, { key: 'max_rows', errorCode: 'INVALID_CONTEXT' }],
      ['max_rows', { context: { environment: 'dev' } }, 403, undefined],
    ];
    for (const [key, body, status, expected] of cases) {
      const res = await post(`/ofrep/v1/evaluate/flags/${key}`, body);
      expect(res.status, `${key} ${JSON.stringify(body)}`).toBe(status);
      if (expected) expect(res.json).toMatchObject(expected);
      expect(conforms(SINGLE, res.status, res.text), `${key} ${res.text}`).toEqual([]);
    }
  });

  it('needs a targeting key for a percentage rollout, and serves the same answer to the same key', async () => {
    await bot.shipmate.deps.flags.change({ key: 'new_query_ui', env: 'production', user: 'U0ALICE', change: { kind: 'percent', percentage: 25 }, channel: CHANNEL });
    const missing = await post('/ofrep/v1/evaluate/flags/new_query_ui', { context: {} });
    expect(missing).toMatchObject({ status: 400, json: { errorCode: 'TARGETING_KEY_MISSING' } });
    expect(conforms(SINGLE, missing.status, missing.text)).toEqual([]);
    const answers = await Promise.all(Array.from({ length: 400 }, (_, i) => post('/ofrep/v1/evaluate/flags/new_query_ui', { context: { targetingKey: `user-${i}` } })));
    for (const a of answers.slice(0, 20)) expect(conforms(SINGLE, a.status, a.text)).toEqual([]);
    const on = answers.filter((a) => a.json?.value === true).length;
    expect(on).toBeGreaterThan(60);
    expect(on).toBeLessThan(140);
    const again = await post('/ofrep/v1/evaluate/flags/new_query_ui', { context: { targetingKey: 'user-7' } });
    expect(again.json?.value).toBe(answers[7]?.json?.value);
  });

  it('refuses a missing or wrong key with 401 and a key for another environment’s context with 403; keys never reach the logs', async () => {
    expect((await post('/ofrep/v1/evaluate/flags/max_rows', { context: {} }, {})).status).toBe(401);
    expect((await post('/ofrep/v1/evaluate/flags/max_rows', { context: {} }, { 'x-api-key': 'wrong-key-123456' })).status).toBe(401);
    expect((await post('/ofrep/v1/evaluate/flags/max_rows', { context: {} }, { authorization: `Bearer ${FLAG_ENV.OFREP_KEY_DEV}` })).json).toMatchObject({ value: 0, reason: 'DISABLED' });
    expect(conforms(SINGLE, 401, '')).toEqual([]);
    const raw = bot.logs.raw();
    expect(raw).toContain('ofrep request refused');
    expect(raw).not.toContain(FLAG_ENV.OFREP_KEY_PROD);
    expect(raw).not.toContain(FLAG_ENV.OFREP_KEY_DEV);
    expect(raw).not.toContain('wrong-key-123456');
  });
});

describe('OFREP bulk evaluation', () => {
  it('answers every flag with an ETag, 304 for the same ETag, a new one after a change', async () => {
    const first = await post(BULK, { context: { targetingKey: 'user-1' } });
    expect(first.status).toBe(200);
    expect(conforms(BULK, first.status, first.text)).toEqual([]);
    expect((first.json?.flags as Array<{ key: string }>).map((f) => f.key).sort()).toEqual(['max_rows', 'new_query_ui', 'theme']);
    expect(first.etag).toMatch(/^".+"$/);
    const same = await post(BULK, { context: { targetingKey: 'user-1' } }, { 'x-api-key': FLAG_ENV.OFREP_KEY_PROD, 'if-none-match': first.etag ?? '' });
    expect(same.status).toBe(304);
    expect(same.text).toBe('');
    await bot.shipmate.deps.flags.change({ key: 'max_rows', env: 'production', user: 'U0ALICE', change: { kind: 'set', text: '750' }, channel: CHANNEL });
    const changed = await post(BULK, { context: { targetingKey: 'user-1' } }, { 'x-api-key': FLAG_ENV.OFREP_KEY_PROD, 'if-none-match': first.etag ?? '' });
    expect(changed.status).toBe(200);
    expect(changed.etag).not.toBe(first.etag);
    expect((changed.json?.flags as Array<{ key: string; value?: unknown }>).find((f) => f.key === 'max_rows')?.value).toBe(750);
    // Without a targeting key the percentage flag is a per-flag failure inside a successful answer.
    const noKey = await post(BULK, { context: {} });
    expect((noKey.json?.flags as Array<{ key: string; errorCode?: string }>).find((f) => f.key === 'new_query_ui')?.errorCode).toBe('TARGETING_KEY_MISSING');
    expect(conforms(BULK, noKey.status, noKey.text)).toEqual([]);
    const bad = await post(BULK, '[');
    expect(bad).toMatchObject({ status: 400, json: { errorCode: 'PARSE_ERROR' } });
    expect(conforms(BULK, bad.status, bad.text)).toEqual([]);
  });
});

describe('a real OpenFeature client (server SDK + OFREP provider)', () => {
  it('reads Shipmate’s flags; a change from Slack is visible to the next evaluation', async () => {
    await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl: base, headers: { 'X-API-Key': FLAG_ENV.OFREP_KEY_PROD } }));
    const client = OpenFeature.getClient();
    await bot.shipmate.deps.flags.create({ key: 'checkout_v2', type: 'experiment', description: 'Checkout', user: 'U0ALICE' });
    expect(await client.getBooleanValue('checkout_v2', true, { targetingKey: 'u1' })).toBe(false);
    const res = await bot.command('/flag', 'checkout_v2 on prod', 'U0ALICE');
    expect(res.json.text).toContain('off → *on*');
    expect(await client.getBooleanValue('checkout_v2', false, { targetingKey: 'u1' })).toBe(true);
    expect(await client.getNumberValue('max_rows', 1, { targetingKey: 'u1' })).toBe(750);
    expect(await client.getObjectValue('theme', {}, { targetingKey: 'u1' })).toEqual({ color: 'blue' });
    const missing = await client.getBooleanDetails('no_such_flag', false, { targetingKey: 'u1' });
    expect(missing).toMatchObject({ value: false, errorCode: ErrorCode.FLAG_NOT_FOUND });
    // TYPE_MISMATCH is the client's finding (OFREP sends the value; the provider compares its type).
    const mismatch = await client.getNumberDetails('checkout_v2', 7, { targetingKey: 'u1' });
    expect(mismatch).toMatchObject({ value: 7, errorCode: ErrorCode.TYPE_MISMATCH });
    const noKey = await client.getBooleanDetails('new_query_ui', false, {});
    expect(noKey).toMatchObject({ value: false, errorCode: ErrorCode.TARGETING_KEY_MISSING });
  });
});

describe('fault: Redis restarted', () => {
  it('answers an OFREP error shape while Redis is away, and flags again once it is back', async () => {
    await redis.kill();
    const down = await post('/ofrep/v1/evaluate/flags/max_rows', { context: { targetingKey: 'u1' } });
    expect(down.status).toBe(500);
    expect(conforms(SINGLE, down.status, down.text)).toEqual([]);
    const downBulk = await post(BULK, { context: { targetingKey: 'u1' } });
    expect(downBulk.status).toBe(500);
    expect(conforms(BULK, downBulk.status, downBulk.text)).toEqual([]);
    // A change typed in Slack meanwhile is refused at once, and nothing happens later.
    const typed = await bot.command('/flag', 'max_rows set 1 production', 'U0ALICE');
    expect(typed.json.text).toContain('can’t reach its database');
    await redis.start();
    const back = await eventually(async () => {
      const r = await post('/ofrep/v1/evaluate/flags/max_rows', { context: { targetingKey: 'u1' } });
      return r.status === 200 ? r : undefined;
    }, 15_000, 'OFREP answering again');
    expect(back.json).toMatchObject({ value: 750 });
    expect(bot.logs.raw()).not.toContain(FLAG_ENV.OFREP_KEY_PROD);
  });
});
