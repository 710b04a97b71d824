// Insight's service: DORA numbers of an environment read from the stored log, and the files it uploads to Slack
// (the chart PNG, log exports). Uploads never run inside a Slack request: the request is stored in Redis and a job
// on the delivery queue (jobs/workers.ts, job name 'upload') renders the file and calls files.uploadV2, retried with
// backoff when Slack fails, and marked done so a retry after success never uploads twice.
import type { WebClient } from '@slack/web-api';
import type { DeployStatus, LogEntry } from '../deploys/deploy-store.js';
import type { Deps } from '../deps.js';
import { chartPng } from './charts.js';
import { chartHash, chartUploaded } from './home-chart.js';
import { series, stats, type Series, type Stats } from './dora.js';
import { periodLabel } from './summary.js';

export const DAY = 24 * 3_600_000;

/** What the numbers need of the log: the two periods, and one more before them so a rollback early in the window knows what it undid. */
export async function environmentStats(deps: Pick<Deps, 'store'>, env: string, now: number, periodMs: number): Promise<{ stats: Stats; series: Series; entries: LogEntry[] }> {
  const entries = await deps.store.logSince(env, now - 3 * periodMs);
  return { stats: stats(env, entries, now, periodMs), series: series(entries, now - periodMs, now), entries };
}

export interface LogFilter {
  since?: number;
  user?: string;
  status?: DeployStatus;
}

export type UploadRequest =
  | { kind: 'chart'; env: string; periodMs: number; now: number; channel: string; threadOf?: string; comment?: string }
  /** App Home's chart (src/insight/home-chart.ts): the app's own file, shared nowhere. */
  | { kind: 'home-chart'; env: string; periodMs: number; now: number; channel?: undefined; threadOf?: undefined; comment?: undefined }
  | { kind: 'export'; env: string; filter: LogFilter; format: 'csv' | 'json'; channel: string; threadOf?: string; comment?: string };

const uploadKey = (prefix: string, id: string) => `${prefix}:upload:${id}`;
const UPLOAD_TTL_S = 24 * 3600;

/**
 * Queues an upload under an idempotent id (a command Slack redelivers asks for the same id: one upload). The job id
 * is the upload id, so BullMQ adds it once.
 */
export async function requestUpload(deps: Pick<Deps, 'redis' | 'prefix' | 'queues'>, id: string, req: UploadRequest): Promise<void> {
  const set = await deps.redis.set(uploadKey(deps.prefix, id), JSON.stringify(req), 'EX', UPLOAD_TTL_S, 'NX');
  if (set !== 'OK') return;
  await deps.queues.deliver.add('upload', { channel: id, gen: 0 }, {
    jobId: `upload-${id.replace(/[^\w.-]/g, '_')}`, attempts: 8, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: { age: 3600 }, removeOnFail: { count: 100 },
  });
}

const CSV_COLUMNS = ['date', 'environment', 'kind', 'version', 'sha', 'deployed_by', 'status', 'duration_s', 'deploy_id', 'notes'] as const;

function csvCell(v: string): string {
  // A leading = + - @ would run as a formula in a spreadsheet; quote every cell that needs it.
  const safe = /^[=+\-@]/.test(v) ? `'${v}` : v;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The log as the Ontos deployment-log table (date, version, deployed by, status, notes) plus what Shipmate knows more. */
export function exportLog(entries: LogEntry[], format: 'csv' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(entries, null, 2)}\n`;
  const rows = entries.map((e) => [new Date(e.at).toISOString(), e.env, e.kind ?? 'deploy', e.version, e.sha ?? '', e.deployedBy, e.status, e.durationMs !== undefined ? String(Math.round(e.durationMs / 1000)) : '', e.deployId, e.notes.join(' | ')]);
  return `${[CSV_COLUMNS as readonly string[], ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

/** The job: render the file and upload it into the thread of `threadOf`'s message (once that one is posted). */
export async function runUpload(deps: Pick<Deps, 'redis' | 'prefix' | 'store' | 'delivery' | 'log' | 'messenger'>, slack: WebClient, id: string): Promise<void> {
  const key = uploadKey(deps.prefix, id);
  const [raw, done] = await Promise.all([deps.redis.get(key), deps.redis.get(`${key}:done`)]);
  if (!raw || done) return;
  const req = JSON.parse(raw) as UploadRequest;
  let threadTs: string | undefined;
  if (req.threadOf) {
    const parent = await deps.delivery.tsOf(req.threadOf);
    // The reply is still on its way through the delivery queue: wait for it (the job's backoff), never post unthreaded.
    if (!parent) throw new Error(`waiting for ${req.threadOf} to be posted`);
    threadTs = parent.ts;
  }
  let file: Buffer;
  let filename: string;
  let title: string;
  let drawn: string | undefined;
  if (req.kind === 'home-chart') {
    const { series: s } = await environmentStats(deps, req.env, req.now, req.periodMs);
    drawn = chartHash(req.env, s);
    title = `${req.env} — DORA, ${periodLabel(req.periodMs)}`;
    file = chartPng(title, s);
    filename = `dora-${req.env}-${drawn}.png`;
  } else if (req.kind === 'chart') {
    const { series: s } = await environmentStats(deps, req.env, req.now, req.periodMs);
    title = `${req.env} — DORA, ${periodLabel(req.periodMs)}`;
    file = chartPng(title, s);
    filename = `dora-${req.env}.png`;
  } else {
    const entries = await deps.store.logSince(req.env, req.filter.since ?? 0, { user: req.filter.user, status: req.filter.status });
    file = Buffer.from(exportLog(entries, req.format));
    filename = `deploy-log-${req.env}.${req.format}`;
    title = `Deployment log of ${req.env} (${entries.length} entries)`;
  }
  const fileId = await uploadOnce(deps, slack, key, { channel: req.channel, threadTs, file, filename, title, comment: req.comment });
  if (drawn && req.kind === 'home-chart') await chartUploaded(deps, req.env, drawn, fileId, req.now);
  await deps.redis.set(`${key}:done`, fileId, 'EX', UPLOAD_TTL_S);
  deps.log.info({ upload: id, kind: req.kind, env: req.env, bytes: file.length, file: fileId }, 'file uploaded to slack');
}

export interface FileToUpload {
  /** Where the file is shared; none: the file stays the app's own (e.g. an image for App Home). */
  channel?: string;
  threadTs?: string;
  file: Buffer;
  filename: string;
  title: string;
  comment?: string;
}

/** How long Slack may take to show a completed upload's share (files.info) before Shipmate completes it again. */
export const SHARE_WAIT_MS = 20_000;

/** Whether files.info's answer shows the file shared in `channel` (in the thread `threadTs`, when given). */
function sharedIn(file: Record<string, unknown> | undefined, channel: string, threadTs?: string): boolean {
  const shares = (file?.shares ?? {}) as Record<string, Record<string, Array<{ ts?: string; thread_ts?: string }>> | undefined>;
  const places = [...Object.values(shares.public ?? {}), ...Object.values(shares.private ?? {})];
  const here = [...(shares.public?.[channel] ?? []), ...(shares.private?.[channel] ?? [])];
  if (places.length === 0) return ['channels', 'groups', 'ims'].some((k) => Array.isArray(file?.[k]) && (file[k] as string[]).includes(channel));
  return here.some((s) => !threadTs || s.thread_ts === threadTs);
}

/**
 * files.uploadV2's three steps (get an upload URL, send the bytes, complete), each step's outcome kept in Redis
 * under `key`, so a retried job continues where the last one stopped. Completing is what posts the file: when its
 * answer was lost, the retry asks files.info whether the file was shared before completing again, and gives
 * Slack SHARE_WAIT_MS to show the share (it is made asynchronously). Returns the file's id.
 */
export async function uploadOnce(deps: Pick<Deps, 'redis'>, slack: WebClient, key: string, f: FileToUpload): Promise<string> {
  const stateKey = `${key}:file`;
  const state = await deps.redis.hgetall(stateKey);
  if (state.id && state.completing) {
    const info = await slack.files.info({ file: state.id }).catch((err: { data?: { error?: string } }) => {
      if (err.data?.error === 'file_not_found' || err.data?.error === 'file_deleted') return undefined;
      throw err;
    });
    const file = info?.file as Record<string, unknown> | undefined;
    if (file && (!f.channel || sharedIn(file, f.channel, f.threadTs))) return state.id;
    if (!file) {
      await deps.redis.del(stateKey); // gone on Slack's side: start over
      throw new Error(`file ${state.id} is gone; uploading again`);
    }
    if (Date.now() - Number(state.completing) < SHARE_WAIT_MS) throw new Error(`waiting for Slack to show whether file ${state.id} was shared`);
  }
  let id = state.id;
  if (!id || !state.uploaded) {
    let url = state.url;
    if (!id || !url) {
      const got = await slack.files.getUploadURLExternal({ filename: f.filename, length: f.file.length });
      if (!got.file_id || !got.upload_url) throw new Error('files.getUploadURLExternal answered without a file id');
      id = got.file_id;
      url = got.upload_url;
      await deps.redis.multi().hset(stateKey, { id, url }).expire(stateKey, UPLOAD_TTL_S).exec();
    }
    const sent = await fetch(url, { method: 'POST', body: new Uint8Array(f.file), headers: { 'content-type': 'application/octet-stream' }, signal: AbortSignal.timeout(60_000) });
    if (!sent.ok) throw new Error(`file upload answered ${sent.status}`);
    await deps.redis.hset(stateKey, 'uploaded', '1');
  }
  await deps.redis.hset(stateKey, 'completing', String(Date.now()));
  const where = f.channel ? { channel_id: f.channel, ...(f.threadTs ? { thread_ts: f.threadTs } : {}), ...(f.comment ? { initial_comment: f.comment } : {}) } : {};
  try {
    await slack.files.completeUploadExternal({ files: [{ id, title: f.title }], ...where } as Parameters<WebClient['files']['completeUploadExternal']>[0]);
  } catch (err) {
    // Slack's own answer that it did not complete: nothing was shared, so the next attempt may complete again.
    if ((err as { code?: string }).code === 'slack_webapi_platform_error') await deps.redis.hdel(stateKey, 'completing');
    throw err;
  }
  return id;
}
