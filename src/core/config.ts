// Shipmate's config file (shipmate.yml): one zod schema, checked at start-up.
// An invalid file stops the process with the path of the bad field and why.
import { readFileSync } from 'node:fs';
import ms from 'ms';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { approvalsProblem, promotionCycle } from './config-rules.js';
import { refProblem } from './refs.js';
import { commitVariables, knownVariables, templateProblems } from './template.js';
import { repositoryProblem } from '../versions/repository.js';
import { VALUE_TYPES } from '../flags/evaluation.js';
import { localProblem, ruleProblem, timeZoneProblem } from '../schedule/time-rules.js';

/** Durations are written as seconds (number) or as "30s", "10m", "2h", "7d"; stored as milliseconds. */
export const duration = z.union([z.number().positive(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return Math.round(value * 1000);
  // ms() throws on an empty or very long string instead of answering "not a duration".
  let parsed: number | undefined;
  try {
    parsed = value.trim() && value.length <= 100 ? ms(value as ms.StringValue) : undefined;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (use e.g. 30s, 10m, 2h)` });
    return z.NEVER;
  }
  return parsed;
});

const SECOND = 1_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * A duration between `min` and `max` ms. Every duration ends up in a timer somewhere, and Node fires a
 * timer above 2^31-1 ms (24.8 days) at once, so 30d would time a step out after a few ms; a duration
 * below `min` (0.0001 s) cannot be meant either.
 */
function durationWithin(min: number, max: number) {
  return duration.superRefine((value, ctx) => {
    const show = (n: number) => ms(n, { long: true });
    if (value < min) ctx.addIssue({ code: 'custom', message: `${show(value)} is too short: use at least ${show(min)}` });
    if (value > max) ctx.addIssue({ code: 'custom', message: `${show(value)} is too long: use at most ${show(max)}` });
  });
}
/** A step or check timeout. */
const timeout = durationWithin(SECOND, DAY);
/** One HTTP request, or the pause between two. */
const requestTimeout = durationWithin(100, HOUR);

const slackUserId = z.string().regex(/^[UW][A-Z0-9]+$/, 'a Slack user id looks like U0123ABCD');
const slackGroupId = z.string().regex(/^S[A-Z0-9]+$/, 'a Slack user-group id looks like S0123ABCD');
const slackChannelId = z.string().regex(/^[CGD][A-Z0-9]+$/, 'a Slack channel id looks like C0123ABCD');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name: letters, digits and _');
const identifier = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'use lower-case letters, digits, - and _');

export const roleSchema = z.strictObject({
  /** How the role is shown on buttons: "Tech Lead". Defaults to the role's key, title-cased. */
  label: z.string().min(1).max(40).optional(),
  users: z.array(slackUserId).default([]),
  /** Slack user groups whose members hold the role (resolved with usergroups.users.list). */
  groups: z.array(slackGroupId).default([]),
});

/** An argv entry; YAML reads `30` or `true` as numbers/booleans, which are meant as the text they show. */
const arg = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const runStep = z.strictObject({
  name: z.string().min(1).max(80),
  /** argv, never a shell string: ["npm", "run", "deploy", "--", "{{version}}"]. */
  run: z.array(arg).min(1),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).default({}),
  timeout: timeout.default(600_000),
  /** The step may be run again after a crash (it is idempotent); the deploy resumes at it. */
  retrySafe: z.boolean().default(false),
});

const httpStep = z.strictObject({
  name: z.string().min(1).max(80),
  http: z.strictObject({
    url: z.string().min(1),
    method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
    expectStatus: z.number().int().min(100).max(599).default(200),
    /** A JSON field (dot path) that must equal a value: { path: "status", equals: "healthy" }. */
    json: z.strictObject({ path: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean()]) }).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    retries: z.number().int().min(0).max(100).default(0),
    retryDelay: requestTimeout.default(2_000),
    timeout: requestTimeout.default(10_000),
  }),
  retrySafe: z.boolean().default(true),
});

/** Dispatches a GitHub Actions workflow and follows its run to the end (src/steps/github-workflow.ts). */
const githubWorkflowStep = z.strictObject({
  name: z.string().min(1).max(80),
  workflow: z.strictObject({
    /** The workflow file in .github/workflows, e.g. deploy.yml. */
    file: z.string().regex(/^[\w.-]+\.ya?ml$/, 'a workflow file name such as deploy.yml'),
    /** Branch or tag the workflow runs from (GitHub dispatches on those, not on a SHA). */
    ref: z.string().min(1).default('{{ref}}'),
    inputs: z.record(z.string(), arg).default({}),
    /**
     * A workflow_dispatch input that gets a value unique to this step of this deploy; when the workflow shows it
     * in its `run-name`, Shipmate finds its run even if others start at the same moment.
     */
    correlationInput: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/).optional(),
  }),
  timeout: timeout.default(3_600_000),
  /** A restarted worker re-attaches to the stored run; it never dispatches twice, so the step is safe to resume. */
  retrySafe: z.boolean().default(true),
});

// ── Canary and monitor steps (src/canary): a watch of Prometheus queries, with traffic weights for a canary ──

/**
 * One metric the watch evaluates every interval. Exactly one threshold: `max`/`min` absolute, `maxIncrease` relative
 * to the value measured before the deploy (0.5 = at most 50 % worse), `maxAboveStable` against the stable version's
 * series at the same moment (the query runs twice, `{{track}}` = canary and stable).
 */
const metricSchema = z
  .strictObject({
    name: z.string().min(1).max(60),
    /** PromQL, with the deploy's {{variables}} and `{{track}}` (canary | stable). */
    query: z.string().min(1).max(2000),
    max: z.number().optional(),
    min: z.number().optional(),
    maxIncrease: z.number().nonnegative().optional(),
    maxAboveStable: z.number().nonnegative().optional(),
    /** A breach counts only once it has lasted this long (a shorter spike does not roll back); 0 = at once. */
    for: z.union([z.literal(0), duration]).default(0),
    /** How values are shown: percent (0.012 → 1.2 %), ms (seconds → ms), or plain. */
    unit: z.enum(['percent', 'ms', 'plain']).default('plain'),
  })
  .refine((m) => [m.max, m.min, m.maxIncrease, m.maxAboveStable].filter((t) => t !== undefined).length === 1, 'give exactly one threshold: max, min, maxIncrease or maxAboveStable');

const watchFields = {
  /** Prometheus' base URL (its HTTP API is under /api/v1); write `\${PROMETHEUS_URL}` to take it from the environment. */
  prometheus: z.url({ protocol: /^https?$/ }),
  /** How often the queries are evaluated. */
  interval: durationWithin(100, HOUR).default(30_000),
  metrics: z.array(metricSchema).min(1).max(20),
  /** The command that takes the new version out again (weight 0, `kubectl rollout undo`); run on a sustained breach or Abort. */
  abort: z.strictObject({ run: z.array(arg).min(1), timeout: timeout.default(600_000) }).optional(),
  /** Prometheus unreachable or a query without data: pause and ask a person (never promote), or fail the deploy. */
  onInconclusive: z.enum(['pause', 'fail']).default('pause'),
  /**
   * Who an inconclusive pause asks (mentioned in the deploy's thread with Resume / Abort): roles by name or Slack
   * user ids. Default: the environment's deployers.
   */
  askOnInconclusive: z.array(z.union([slackUserId, identifier])).min(1).max(20).optional(),
  /**
   * On a sustained breach: `abort` runs the abort command (if any) and fails the deploy; `rollback` also queues the
   * environment's rollback job (its `rollback.steps`, to the last good version, ahead of the queue), which locks it.
   */
  onBreach: z.enum(['abort', 'rollback']).default('abort'),
};

/** A canary's setWeight as a GitHub Actions workflow (dispatched and followed like a github-workflow step), {{weight}} in its inputs. */
const weightWorkflow = z.strictObject({
  workflow: githubWorkflowStep.shape.workflow,
  timeout: timeout.default(600_000),
});

const canaryStep = z.strictObject({
  name: z.string().min(1).max(80),
  canary: z.strictObject({
    ...watchFields,
    /** Sets the share of traffic on the new version: argv with {{weight}} (a percentage), or a workflow with {{weight}} in its inputs. */
    setWeight: z.union([z.strictObject({ run: z.array(arg).min(1), timeout: timeout.default(600_000) }), weightWorkflow]),
    /** In order; each sets its weight, then holds it while the metrics stay healthy. The last one usually has no hold. */
    phases: z.array(z.strictObject({ weight: z.number().min(0).max(100), hold: durationWithin(100, 7 * DAY).optional() })).min(1).max(20),
  }),
  /** The watch's state lives in the deploy record: a restarted worker resumes the hold where it stood. */
  retrySafe: z.boolean().default(true),
});

const monitorStep = z.strictObject({
  name: z.string().min(1).max(80),
  monitor: z.strictObject({
    ...watchFields,
    /** How long to watch (Ontos: 1 h after a deploy). */
    duration: durationWithin(100, 7 * DAY),
  }),
  retrySafe: z.boolean().default(true),
});

export const stepSchema = z.union([runStep, httpStep, githubWorkflowStep, canaryStep, monitorStep]);

/** An automatic checklist item is ticked by the bot when its check passes. */
const checkSchema = z.union([
  z.strictObject({ run: z.array(arg).min(1), timeout: timeout.default(60_000) }),
  z.strictObject({ http: z.string().min(1), expectStatus: z.number().int().default(200), timeout: requestTimeout.default(10_000) }),
  /** From GitHub, for the deploy's commit: its statuses and check runs (all green, or the named ones), its pull request's reviews. */
  z.strictObject({
    github: z
      .strictObject({
        statuses: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]).optional(),
        reviews: z.enum(['approved', 'codeOwners']).optional(),
      })
      .refine((g) => g.statuses !== undefined || g.reviews !== undefined, 'name what to check: statuses and/or reviews'),
  }),
]);

const checklistItem = z.strictObject({
  id: identifier,
  text: z.string().min(1).max(150),
  required: z.boolean().default(true),
  check: checkSchema.optional(),
});

const checklistSection = z.strictObject({
  section: z.string().min(1).max(60),
  items: z.array(checklistItem).min(1),
});

const approvalsSchema = z.strictObject({
  /** How many approvals the deploy needs. */
  required: z.number().int().min(1).max(10),
  /** Roles whose members may approve; an approval counts once per person. */
  roles: z.array(identifier).min(1),
  /** Each approval must come from a different role (the seeds' sign-off table). */
  distinctRoles: z.boolean().default(false),
  /** The requester may approve their own deploy (separation of duties says no). */
  allowRequester: z.boolean().default(false),
  /** Roles that must be among the approvals, whatever the count (e.g. a security review). */
  requireRoles: z.array(identifier).default([]),
  /** Roles that must also approve when the requester marks the deploy `--sensitive` (SarvanOM: security team). */
  sensitiveRequires: z.array(identifier).default([]),
  /** Approvals older than this are dropped. */
  expiresAfter: durationWithin(SECOND, 7 * DAY).optional(),
  /** How approvers are told: a DM to each, or a mention of the roles' user groups. */
  notify: z.enum(['dm', 'group', 'none']).default('dm'),
});

// ── Stakeholder notifications, release announcements and follow-ups (src/notify) ──

/** What a stakeholder notice can be about; `maintenance` is sent by whatever schedules maintenance (notifier.maintenanceAhead). */
export const NOTIFY_EVENTS = ['requested', 'ahead', 'starting', 'succeeded', 'failed', 'rolledBack', 'maintenance'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
/** The {{variables}} notice, announcement and follow-up texts may use (src/notify/templates.ts fills them). */
export const NOTIFY_VARIABLES = ['version', 'environment', 'env', 'who', 'notes', 'links', 'duration', 'deployId', 'ref', 'previous', 'when', 'deploy'] as const;

const noticeText = (max: number) =>
  z.string().min(1).max(max).superRefine((text, ctx) => {
    for (const m of text.matchAll(/\{\{\s*([a-zA-Z]+)\s*\}\}/g)) {
      if (!(NOTIFY_VARIABLES as readonly string[]).includes(m[1] ?? '')) ctx.addIssue({ code: 'custom', message: `unknown variable ${m[0]} (use ${NOTIFY_VARIABLES.map((v) => `{{${v}}}`).join(', ')})` });
    }
  });

/** A message: a header line (Block Kit caps headers at 150 characters, so with variables keep it shorter) and mrkdwn text. */
const messageTemplate = z.strictObject({ title: noticeText(120).optional(), text: noticeText(2500) });
/** Follow-ups may be weeks away: they are BullMQ delayed jobs, not Node timers, so the 24.8-day timer cap does not apply. */
const followUpDelay = durationWithin(SECOND, 400 * DAY);

const notificationsSchema = z.strictObject({
  /** Which events notify the stakeholder channels. */
  events: z.array(z.enum(NOTIFY_EVENTS)).default(['requested', 'starting', 'succeeded', 'failed', 'rolledBack']),
  /** Overrides of the default notice per event (src/notify/templates.ts). */
  templates: z.partialRecord(z.enum(NOTIFY_EVENTS), messageTemplate).default({}),
  /** Named links shown in notices and filled into {{links}}: { app: "https://staging.example.com" }. */
  links: z.record(z.string().min(1).max(40), z.url()).default({}),
  /** A release announcement posted to channels.announcements when a deploy (not a rollback) succeeds here. */
  announcement: messageTemplate.optional(),
  /** Reminders after a deploy succeeds here, into the deploy's channel; production environments default to Ontos' 1 day / 1 week / 1 month. */
  followUps: z.array(z.strictObject({ after: followUpDelay, text: noticeText(2500) })).max(10).optional(),
  /**
   * Notice ahead: a deploy here (not a rollback: that is the fix) starts this long after it is queued, and the
   * stakeholder channels are told when it will start as soon as it is queued (the `ahead` notice). Cancelling it
   * in the meantime removes its delayed job and says so under the notice.
   */
  ahead: durationWithin(SECOND, DAY).optional(),
  /** The reminder after a rollback (or hotfix) here to write the post-mortem. */
  postMortem: z.strictObject({ after: followUpDelay.default(3_600_000), text: noticeText(2500).optional() }).default({ after: 3_600_000 }),
});
export type NotificationsConfig = z.infer<typeof notificationsSchema>;
const notificationsDefault = (): NotificationsConfig => notificationsSchema.parse({});

// ── Time rules: maintenance windows, freezes, the release calendar (src/schedule) ──

const localTime = z.string().superRefine((text, ctx) => {
  const problem = localProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const timeZoneName = z.string().superRefine((tz, ctx) => {
  const problem = timeZoneProblem(tz);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
/** An RRULE body (RFC 5545) without DTSTART: FREQ=WEEKLY;INTERVAL=4;BYDAY=SU. The first occurrence is `start`. */
const recurrence = z.string().superRefine((rule, ctx) => {
  const problem = ruleProblem(rule);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const maintenanceWindowSchema = z.strictObject({
  name: identifier,
  every: recurrence,
  /** The first occurrence's local start, in `timeZone`: 2026-01-04T02:00. */
  start: localTime,
  duration,
  /** Default: schedule.timeZone. */
  timeZone: timeZoneName.optional(),
  /** Environments the window is for; none listed: all. */
  environments: z.array(identifier).default([]),
  /** Tell the environments' stakeholders this long before each window (a `maintenance` notice; a BullMQ delayed job). */
  notifyBefore: followUpDelay.optional(),
});

const freezeSchema = z
  .strictObject({
    /** Shown to everyone whose deploy is refused. */
    reason: z.string().min(1).max(200),
    /** Recurring freezes: an RRULE body; one-off freezes leave it out and give `until`. */
    every: recurrence.optional(),
    start: localTime,
    until: localTime.optional(),
    duration: duration.optional(),
    timeZone: timeZoneName.optional(),
    environments: z.array(identifier).default([]),
    /** Hotfixes pass a freeze unless this is false. */
    allowHotfix: z.boolean().default(true),
  })
  .refine((f) => (f.every ? f.duration !== undefined && f.until === undefined : f.until !== undefined || f.duration !== undefined), 'a recurring freeze needs `duration` (not `until`); a one-off freeze needs `until` or `duration`');

const releaseDaySchema = z.strictObject({
  /** "regular", "major": shown by /deploys windows. */
  name: identifier,
  every: recurrence,
  /** The first release day (local date, optionally with a time). */
  start: localTime,
  /** How long a release "day" lasts from its start; default one day. */
  duration: duration.optional(),
  timeZone: timeZoneName.optional(),
  environments: z.array(identifier).default([]),
  /** Regular (non-hotfix) deploys to these environments only on release days. */
  enforce: z.boolean().default(false),
});

const scheduleSchema = z.strictObject({
  /** The zone rules are written in unless they name their own. */
  timeZone: timeZoneName.default('UTC'),
  maintenanceWindows: z.array(maintenanceWindowSchema).default([]),
  freezes: z.array(freezeSchema).default([]),
  releaseCalendar: z.array(releaseDaySchema).default([]),
});
export type ScheduleConfig = z.infer<typeof scheduleSchema>;
export type MaintenanceWindowConfig = z.infer<typeof maintenanceWindowSchema>;
export type FreezeConfig = z.infer<typeof freezeSchema>;
export type ReleaseDayConfig = z.infer<typeof releaseDaySchema>;

// ── Migrations (src/migrations) ──

const migrationsSchema = z.strictObject({
  /**
   * 'paired' (default): migrate_X.sql runs forward, its paired rollback_X.sql back. 'django': the directory holds a
   * Django app's migrations (NNNN_name.py, ordered by number); forward migrates to the named one ({{target}} is it),
   * back migrates to the one before it ({{target}} = {{previousMigration}}), as `manage.py migrate app 0005_previous`.
   */
  style: z.enum(['paired', 'django']).default('paired'),
  /** The Django app label, as {{app}} (style django). */
  app: identifier.optional(),
  /** Where the paired scripts (or the Django migration files) are: a directory of this environment's checkout. */
  directory: z.string().min(1),
  /** migrate_YYYYMMDD_desc.sql pairs with rollback_YYYYMMDD_desc.sql: the two prefixes and the extension. */
  migratePrefix: z.string().default('migrate_'),
  rollbackPrefix: z.string().default('rollback_'),
  extension: z.string().default('.sql'),
  /** Runs first (a backup); {{migration}}, {{file}}, {{direction}} and the deploy variables may be used. */
  backup: stepSchema,
  /** Runs the script: {{file}} is the migration's (or, with --rollback, the paired rollback's) path. */
  run: stepSchema,
  /** Runs last, to check the result. */
  verify: stepSchema,
  /** Forward migrations only inside one of this environment's maintenance windows. */
  inWindow: z.boolean().default(false),
  /** Outside the window a migration waits for one approval from this role (the deploy sign-off flow). */
  overrideRole: identifier.optional(),
});
export type MigrationsConfig = z.infer<typeof migrationsSchema>;

/**
 * Where versions come from: `owner/name` (GitHub), a git URL, or a local path (starting with / or .); or
 * `{ url, webUrl }` to link commits on another forge. With it every deploy is a commit; without it, a ref name.
 */
const repositorySchema = z
  .union([z.string(), z.strictObject({ url: z.string(), webUrl: z.url({ protocol: /^https?$/ }).optional() })])
  .superRefine((value, ctx) => {
    const spec = typeof value === 'string' ? value : value.url;
    const problem = repositoryProblem(spec);
    if (problem) ctx.addIssue({ code: 'custom', message: `"${spec}" ${problem}` });
  });

export const environmentSchema = z.strictObject({
  name: identifier,
  /** This environment's own repository (else the config's). */
  repository: repositorySchema.optional(),
  aliases: z.array(identifier).default([]),
  /** The ref deployed when /deploy names none. */
  defaultRef: z
    .string()
    .default('main')
    .superRefine((ref, ctx) => {
      const problem = refProblem(ref);
      if (problem) ctx.addIssue({ code: 'custom', message: `"${ref}" ${problem}` });
    }),
  /** Roles allowed to deploy here; empty means everyone in the workspace. */
  deployers: z.array(identifier).default([]),
  channels: z.strictObject({ stakeholders: z.array(slackChannelId).default([]) }).default({ stakeholders: [] }),
  /** Promotion rule: the same version must have succeeded on this environment first. */
  requires: z.strictObject({
    succeededOn: identifier,
    /** Minimum time the version must have been on `succeededOn` (its latest success there) before it may come here: 3d. */
    soakFor: duration.optional(),
  }).optional(),
  checklist: z.array(checklistSection).default([]),
  approvals: approvalsSchema.optional(),
  /** A sign-off recorded after the deploy succeeded (Ontos: product team on staging). */
  postDeploySignoff: z.strictObject({ role: identifier, label: z.string().max(60).optional() }).optional(),
  /** A GitHub Deployment per deploy, its status kept in step (src/github/deployments.ts). */
  githubDeployment: z
    .strictObject({
      /** Commit status contexts GitHub must see green before it accepts the deployment; [] for none. */
      requiredContexts: z.array(z.string().min(1)).default([]),
      /** The GitHub environment's name when it differs from this one's. */
      environment: z.string().min(1).optional(),
    })
    .optional(),
  steps: z.array(stepSchema).min(1),
  /**
   * What `/rollback` runs here (src/deploys/rollback.ts): e.g. `kubectl rollout undo`, a redeploy of the previous
   * SHA, a data restore. {{version}}/{{sha}} are the version put back, {{rollbackFrom}}/{{rollbackFromSha}} the one
   * rolled back from. Without it a rollback runs `steps` with the old version.
   */
  rollback: z.strictObject({ steps: z.array(stepSchema).min(1) }).optional(),
  /** Environment locks (`/deploys lock`, and after every rollback): whether a hotfix may pass one. */
  lock: z.strictObject({ allowHotfix: z.boolean().default(false) }).default({ allowHotfix: false }),
  /** Stakeholder notices, the release announcement and follow-ups for this environment (see NOTIFY_EVENTS). */
  notifications: notificationsSchema.default(notificationsDefault),
  /** `/migrate`: paired migrate/rollback scripts, run through this environment's queue (src/migrations). */
  migrations: migrationsSchema.optional(),
});

/** Deploys started by GitHub webhooks (POST /github/webhook): a push to a branch, or a finished workflow run. */
const autoDeployRule = z.discriminatedUnion('on', [
  z.strictObject({ on: z.literal('push'), branch: z.string().min(1), environment: identifier, channel: slackChannelId.optional() }),
  z.strictObject({
    on: z.literal('workflow_run'),
    /** The workflow's name as GitHub shows it (e.g. CI). */
    workflow: z.string().min(1),
    branch: z.string().min(1),
    conclusion: z.enum(['success', 'failure', 'neutral', 'cancelled', 'skipped', 'timed_out', 'action_required']).default('success'),
    environment: identifier,
    channel: slackChannelId.optional(),
  }),
]);

// ── Feature flags (src/flags): types, who may change them where, sign-offs, OFREP keys, cleanup ──

const flagTypeSchema = z.strictObject({
  /** The value a flag of this type serves: boolean (on/off and percentages), string, number or json (an object). */
  value: z.enum(VALUE_TYPES).default('boolean'),
  description: z.string().max(200).optional(),
  /** Environments where a change to a flag of this type needs a sign-off from the environment's approvals.roles. */
  signoff: z.array(identifier).default([]),
});

const flagsSchema = z.strictObject({
  /** Flag types (SarvanOM: release, experiment, kill switch, configuration). */
  types: z.record(identifier, flagTypeSchema).default({ release: { value: 'boolean', signoff: [] }, experiment: { value: 'boolean', signoff: [] }, 'kill-switch': { value: 'boolean', signoff: [] }, config: { value: 'json', signoff: [] } }),
  /** Per environment, the roles that may change flags there besides the flag's owner; an environment not listed: anyone. */
  changers: z.record(identifier, z.array(identifier)).default({}),
  /** Per environment, the name of the environment variable holding the OFREP API key services of that environment use. */
  apiKeys: z.record(identifier, envName).default({}),
  /** Flags fully on in every environment for longer than this are listed weekly as removal candidates. */
  staleAfter: durationWithin(SECOND, 400 * DAY).default(30 * DAY),
  /** When the removal candidates are listed (cron, UTC). */
  cleanupCron: z.string().min(9).max(100).default('0 9 * * 1'),
  /** Where the weekly list goes (default channels.deployLog). */
  cleanupChannel: slackChannelId.optional(),
});
export type FlagsConfig = z.infer<typeof flagsSchema>;

// ── Releases and hotfixes (src/releases): /release, /hotfix and the release kinds whose rules their deploys follow ──

/** Which bumps (and /hotfix) a release kind governs. */
export const RELEASE_TRIGGERS = ['major', 'minor', 'patch', 'hotfix'] as const;

const releaseKindSchema = z.strictObject({
  /** Shown in gate messages and replies: "Hotfix release". */
  label: z.string().min(1).max(60).optional(),
  /** Why these rules exist, said with them (e.g. "SarvanOM: critical fixes reach production within 4 hours"). */
  why: z.string().min(1).max(300).optional(),
  /** Which releases are of this kind: bumps of /release and /hotfix. */
  for: z.array(z.enum(RELEASE_TRIGGERS)).default([]),
  /** Replaces the approvals of the environments in `appliesTo` for deploys of this kind. */
  approvals: approvalsSchema.optional(),
  /** Replaces the checklist of the environments in `appliesTo` (e.g. Ontos' expedited hotfix checklist). */
  checklist: z.array(checklistSection).optional(),
  /** The environments whose gates the kind's approvals and checklist replace; default: the last environment (production). */
  appliesTo: z.array(identifier).optional(),
  /** Whether production rolls out through a canary (said with the rules; the canary step itself is the environment's). */
  canary: z.boolean().default(false),
  /** Environments a release of this kind may skip (`/hotfix --skip-staging`); each skip is said in the deploy log. */
  maySkip: z.array(identifier).default([]),
  /** From the request to production succeeding; the countdown is shown and passing it is said (SarvanOM: 4 h). */
  deadline: durationWithin(SECOND, 30 * DAY).optional(),
});

const hotfixCriterion = z.strictObject({ id: identifier, text: z.string().min(1).max(120) });
/** Ontos' hotfix criteria: one must apply, else the normal release process is the way. */
export const DEFAULT_HOTFIX_CRITERIA = [
  { id: 'down', text: 'Service is completely down' },
  { id: 'data', text: 'Data corruption risk' },
  { id: 'security', text: 'Security vulnerability' },
  { id: 'critical', text: 'Critical functionality broken for all users' },
];

const releasesSchema = z.strictObject({
  /** The branch releases are cut from and merged back into first. */
  baseBranch: z.string().min(1).default('main'),
  /** Branches a finished release or hotfix is merged back into, in order (FlowSpark: main and develop). Default: baseBranch. */
  mergeBackTo: z.array(z.string().min(1)).optional(),
  /** The environments a release goes through, in order; default: every environment in config order. */
  environments: z.array(identifier).optional(),
  /** Files added in the range that match this regular expression are the notes' "Database changes". */
  migrations: z.string().min(1).default('(^|/)migrations?/|(^|/)migrate_[^/]*\\.sql$').superRefine((re, ctx) => {
    try {
      new RegExp(re);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a regular expression: ${(err as Error).message}` });
    }
  }),
  /** A file the notes are added to (newest first) on the release branch once production succeeded, e.g. CHANGELOG.md. */
  changelog: z.string().regex(/^[\w.-][\w./-]*$/, 'a path inside the repository, e.g. CHANGELOG.md').optional(),
  /** Tag names: "v" + the version by default. */
  tagPrefix: z.string().max(20).default('v'),
  /** How often a release looks at the deploy it waits for (and refreshes its countdown); failed steps are retried from it, doubling. */
  pollInterval: durationWithin(100, HOUR).default(5_000),
  /** How many times a step that failed (GitHub down) is retried before the release stops (`/release resume` goes on). */
  retries: z.number().int().min(0).max(30).default(12),
  /** Hotfix criteria shown as buttons; none chosen means the normal process. */
  hotfixCriteria: z.array(hotfixCriterion).min(1).default(DEFAULT_HOTFIX_CRITERIA),
});
export type ReleasesConfig = z.infer<typeof releasesSchema>;
export type ReleaseKindConfig = z.infer<typeof releaseKindSchema>;

export const configSchema = z
  .strictObject({
    /** The repository deploys come from (see repositorySchema); environments may name their own. */
    repository: repositorySchema.optional(),
    /** Environment variable names whose values are masked everywhere; steps and checks get them too. */
    secrets: z.array(envName).default([]),
    /** More of Shipmate's environment variables every step and check gets (beyond PATH, HOME, LANG, TZ, …). */
    passEnv: z.array(envName).default([]),
    roles: z.record(identifier, roleSchema).default({}),
    channels: z
      .strictObject({ deployLog: slackChannelId.optional(), announcements: slackChannelId.optional() })
      .default({}),
    environments: z.array(environmentSchema).min(1),
    /** GitHub webhooks that start deploys; the team is told in `channel` (default: channels.deployLog). */
    autoDeploy: z.array(autoDeployRule).default([]),
    /** Feature flags (src/flags); the defaults give the four seed types and let anyone change anything. */
    flags: flagsSchema.default(() => flagsSchema.parse({})),
    /** /release and /hotfix (src/releases). */
    releases: releasesSchema.default(() => releasesSchema.parse({})),
    /** Release kinds and their rules, by name (Ontos: normal, hotfix; SarvanOM: hotfix, feature, major). */
    releaseKinds: z.record(identifier, releaseKindSchema).default({}),
    /** Maintenance windows, deploy freezes and the release calendar (src/schedule). */
    schedule: scheduleSchema.default({ timeZone: 'UTC', maintenanceWindows: [], freezes: [], releaseCalendar: [] }),
    /** Deployment-log retention (src/insight): entries kept per environment, and for how long (each deploy's audit stream too). */
    log: z
      .strictObject({ keep: z.number().int().min(10).max(1_000_000).default(5000), keepFor: duration.default(400 * DAY) })
      .default({ keep: 5000, keepFor: 400 * DAY }),
  })
  .superRefine((config, ctx) => {
    config.autoDeploy.forEach((rule, i) => {
      if (!config.environments.some((e) => e.name === rule.environment || e.aliases.includes(rule.environment))) {
        ctx.addIssue({ code: 'custom', path: ['autoDeploy', i, 'environment'], message: `environment "${rule.environment}" is not defined` });
      }
      if (!rule.channel && !config.channels.deployLog) {
        ctx.addIssue({ code: 'custom', path: ['autoDeploy', i, 'channel'], message: 'say where the team is told: set channel here or channels.deployLog' });
      }
    });
    // Flags: every environment and role named exists; a sign-off needs the environment's approvals.
    const hasEnv = (name: string) => config.environments.some((e) => e.name === name);
    for (const [env, roles] of Object.entries(config.flags.changers)) {
      if (!hasEnv(env)) ctx.addIssue({ code: 'custom', path: ['flags', 'changers', env], message: `environment "${env}" is not defined` });
      roles.forEach((r, k) => {
        if (!Object.hasOwn(config.roles, r)) ctx.addIssue({ code: 'custom', path: ['flags', 'changers', env, k], message: `role "${r}" is not defined under roles` });
      });
    }
    for (const env of Object.keys(config.flags.apiKeys)) {
      if (!hasEnv(env)) ctx.addIssue({ code: 'custom', path: ['flags', 'apiKeys', env], message: `environment "${env}" is not defined` });
    }
    for (const [type, t] of Object.entries(config.flags.types)) {
      t.signoff.forEach((env, k) => {
        const e = config.environments.find((x) => x.name === env);
        if (!e) ctx.addIssue({ code: 'custom', path: ['flags', 'types', type, 'signoff', k], message: `environment "${env}" is not defined` });
        else if (!e.approvals) ctx.addIssue({ code: 'custom', path: ['flags', 'types', type, 'signoff', k], message: `environment "${env}" has no approvals: say who signs off there (approvals.roles)` });
      });
    }
    const seen = new Map<string, string>();
    config.environments.forEach((env, i) => {
      for (const [j, name] of [env.name, ...env.aliases].entries()) {
        const owner = seen.get(name);
        if (owner) {
          ctx.addIssue({
            code: 'custom',
            path: ['environments', i, j === 0 ? 'name' : 'aliases'],
            message: `"${name}" is already used by environment "${owner}"`,
          });
        }
        seen.set(name, env.name);
      }
      const roleRefs: Array<[string, (string | number)[]]> = [
        ...env.deployers.map((r, k): [string, (string | number)[]] => [r, ['deployers', k]]),
        ...(env.approvals?.roles ?? []).map((r, k): [string, (string | number)[]] => [r, ['approvals', 'roles', k]]),
        ...(env.approvals?.requireRoles ?? []).map((r, k): [string, (string | number)[]] => [r, ['approvals', 'requireRoles', k]]),
        ...(env.approvals?.sensitiveRequires ?? []).map((r, k): [string, (string | number)[]] => [r, ['approvals', 'sensitiveRequires', k]]),
        ...(env.postDeploySignoff ? [[env.postDeploySignoff.role, ['postDeploySignoff', 'role']] as [string, (string | number)[]]] : []),
        ...watchRoleRefs(env.steps),
      ];
      env.steps.forEach((step, k) => {
        const watch = 'canary' in step ? step.canary : 'monitor' in step ? step.monitor : undefined;
        // Without rollback steps a rollback re-runs these steps (this watch included) with the old version.
        if (watch?.onBreach === 'rollback' && !env.rollback) ctx.addIssue({ code: 'custom', path: ['environments', i, 'steps', k, 'canary' in step ? 'canary' : 'monitor', 'onBreach'], message: 'onBreach: rollback needs rollback.steps on this environment (what the rollback job runs)' });
      });
      for (const [role, path] of roleRefs) {
        // hasOwn: "constructor" or "toString" must not count as defined through the object's prototype.
        if (!Object.hasOwn(config.roles, role)) {
          ctx.addIssue({ code: 'custom', path: ['environments', i, ...path], message: `role "${role}" is not defined under roles` });
        }
      }
      // {{variables}} are checked here, so a typo stops start-up instead of failing a deploy half-way.
      const commits = (env.repository ?? config.repository) !== undefined;
      const commitProblems = (text: string) => (commits ? [] : commitVariables(text).map((v) => `${v} needs \`repository\` in the config (versions are commits only then)`));
      const stepLists: Array<[readonly StepConfig[], string[]]> = [[env.steps, ['steps']], ...(env.rollback ? [[env.rollback.steps, ['rollback', 'steps']] as [readonly StepConfig[], string[]]] : [])];
      for (const [steps, where] of stepLists) steps.forEach((step, k) => {
        const texts: Array<[string, (string | number)[]]> =
          'run' in step
            ? [...step.run.map((a, n): [string, (string | number)[]] => [a, ['run', n]]), ...Object.entries(step.env).map(([key, v]): [string, (string | number)[]] => [v, ['env', key]])]
            : 'workflow' in step
              ? [[step.workflow.ref, ['workflow', 'ref']], ...Object.entries(step.workflow.inputs).map(([key, v]): [string, (string | number)[]] => [v, ['workflow', 'inputs', key]])]
              : 'http' in step
                ? [[step.http.url, ['http', 'url']], ...Object.entries(step.http.headers).map(([key, v]): [string, (string | number)[]] => [v, ['http', 'headers', key]])]
                : watchTexts(step);
        for (const [text, path] of texts) {
          for (const problem of [...templateProblems(text), ...commitProblems(text)]) ctx.addIssue({ code: 'custom', path: ['environments', i, ...where, k, ...path], message: `${problem} (use ${knownVariables(commits)})` });
        }
      });
      env.checklist.forEach((section, s) =>
        section.items.forEach((item, k) => {
          const texts = item.check ? ('run' in item.check ? item.check.run : 'http' in item.check ? [item.check.http] : []) : [];
          for (const text of texts) {
            for (const problem of [...templateProblems(text), ...commitProblems(text)]) ctx.addIssue({ code: 'custom', path: ['environments', i, 'checklist', s, 'items', k, 'check'], message: problem });
          }
        }),
      );
      const rules = env.approvals;
      if (rules) {
        [...rules.requireRoles, ...rules.sensitiveRequires].forEach((r) => {
          if (!rules.roles.includes(r)) ctx.addIssue({ code: 'custom', path: ['environments', i, 'approvals'], message: `required role "${r}" must also be listed in approvals.roles` });
        });
        if (new Set([...rules.requireRoles, ...rules.sensitiveRequires]).size > rules.required) {
          ctx.addIssue({ code: 'custom', path: ['environments', i, 'approvals', 'required'], message: 'is smaller than the number of roles that must approve' });
        }
        const never = approvalsProblem(rules, config.roles);
        if (never) ctx.addIssue({ code: 'custom', path: ['environments', i, 'approvals', 'required'], message: never });
      }
      const ids = new Set<string>();
      env.checklist.forEach((section, s) =>
        section.items.forEach((item, k) => {
          if (ids.has(item.id)) {
            ctx.addIssue({ code: 'custom', path: ['environments', i, 'checklist', s, 'items', k, 'id'], message: `checklist item id "${item.id}" is used twice` });
          }
          ids.add(item.id);
        }),
      );
    });
    const envNames = new Set(config.environments.map((e) => e.name));
    for (const [i, name] of (config.releases.environments ?? []).entries()) {
      if (!envNames.has(name)) ctx.addIssue({ code: 'custom', path: ['releases', 'environments', i], message: `environment "${name}" is not defined` });
    }
    const triggers = new Map<string, string>();
    for (const [kind, rules] of Object.entries(config.releaseKinds)) {
      for (const [i, name] of [...(rules.appliesTo ?? []), ...rules.maySkip].entries()) {
        if (!envNames.has(name)) ctx.addIssue({ code: 'custom', path: ['releaseKinds', kind], message: `environment "${name}" (${i < (rules.appliesTo?.length ?? 0) ? 'appliesTo' : 'maySkip'}) is not defined` });
      }
      for (const t of rules.for) {
        const other = triggers.get(t);
        if (other) ctx.addIssue({ code: 'custom', path: ['releaseKinds', kind, 'for'], message: `"${t}" is already governed by release kind "${other}"` });
        triggers.set(t, kind);
      }
      for (const role of [...(rules.approvals?.roles ?? []), ...(rules.approvals?.requireRoles ?? [])]) {
        if (!Object.hasOwn(config.roles, role)) ctx.addIssue({ code: 'custom', path: ['releaseKinds', kind, 'approvals'], message: `role "${role}" is not defined under roles` });
      }
    }
    const envDefined = (name: string) => config.environments.some((e) => e.name === name);
    (['maintenanceWindows', 'freezes', 'releaseCalendar'] as const).forEach((kind) =>
      config.schedule[kind].forEach((rule, i) =>
        rule.environments.forEach((name, k) => {
          if (!envDefined(name)) ctx.addIssue({ code: 'custom', path: ['schedule', kind, i, 'environments', k], message: `environment "${name}" is not defined` });
        }),
      ),
    );
    config.environments.forEach((env, i) => {
      const m = env.migrations;
      if (!m) return;
      if (m.overrideRole && !Object.hasOwn(config.roles, m.overrideRole)) ctx.addIssue({ code: 'custom', path: ['environments', i, 'migrations', 'overrideRole'], message: `role "${m.overrideRole}" is not defined under roles` });
      if (m.inWindow && !config.schedule.maintenanceWindows.some((w) => w.environments.length === 0 || w.environments.includes(env.name))) {
        ctx.addIssue({ code: 'custom', path: ['environments', i, 'migrations', 'inWindow'], message: `no maintenance window under schedule.maintenanceWindows covers ${env.name}` });
      }
      const commits = (env.repository ?? config.repository) !== undefined;
      (['backup', 'run', 'verify'] as const).forEach((which) => {
        const step = m[which];
        const texts = 'run' in step ? [...step.run, ...Object.values(step.env)] : 'workflow' in step ? [step.workflow.ref, ...Object.values(step.workflow.inputs)] : 'http' in step ? [step.http.url, ...Object.values(step.http.headers)] : [];
        for (const text of texts) {
          for (const problem of migrationTemplateProblems(text, commits)) ctx.addIssue({ code: 'custom', path: ['environments', i, 'migrations', which], message: problem });
          if (!m.app && /\{\{\s*app\s*\}\}/.test(text)) ctx.addIssue({ code: 'custom', path: ['environments', i, 'migrations', which], message: '{{app}} is used but migrations.app (the Django app label) is not set' });
        }
      });
    });
    config.environments.forEach((env, i) => {
      if (env.requires && !config.environments.some((e) => e.name === env.requires?.succeededOn)) {
        ctx.addIssue({ code: 'custom', path: ['environments', i, 'requires', 'succeededOn'], message: `environment "${env.requires.succeededOn}" is not defined` });
      }
      const cycle = promotionCycle(config.environments, env.name);
      if (cycle) {
        const message = cycle.length === 2 ? `"${env.name}" requires itself` : `promotion cycle ${cycle.join(' -> ')}: no version could ever reach ${env.name}`;
        ctx.addIssue({ code: 'custom', path: ['environments', i, 'requires', 'succeededOn'], message });
      }
    });
  });

/** The texts of a canary/monitor step checked for {{variables}}; `{{weight}}` and `{{track}}` are the watch's own. */
function watchTexts(step: z.infer<typeof canaryStep> | z.infer<typeof monitorStep>): Array<[string, (string | number)[]]> {
  const watch = 'canary' in step ? step.canary : step.monitor;
  const key = 'canary' in step ? 'canary' : 'monitor';
  const own = (t: string) => t.replace(/\{\{\s*(weight|track)\s*\}\}/g, '');
  return [
    ...watch.metrics.map((m, n): [string, (string | number)[]] => [own(m.query), [key, 'metrics', n, 'query']]),
    ...(watch.abort?.run ?? []).map((a, n): [string, (string | number)[]] => [a, [key, 'abort', 'run', n]]),
    ...('canary' in step ? weightTexts(step.canary.setWeight).map(([a, path]): [string, (string | number)[]] => [own(a), [key, 'setWeight', ...path]]) : []),
  ];
}

function weightTexts(w: z.infer<typeof canaryStep>['canary']['setWeight']): Array<[string, (string | number)[]]> {
  if ('run' in w) return w.run.map((a, n) => [a, ['run', n]]);
  return [[w.workflow.ref, ['workflow', 'ref']], ...Object.entries(w.workflow.inputs).map(([k, v]): [string, (string | number)[]] => [v, ['workflow', 'inputs', k]])];
}

/** Roles named in a watch's askOnInconclusive (Slack user ids are not roles). */
function watchRoleRefs(steps: readonly StepConfig[]): Array<[string, (string | number)[]]> {
  return steps.flatMap((step, k) => {
    const watch = 'canary' in step ? step.canary : 'monitor' in step ? step.monitor : undefined;
    const key = 'canary' in step ? 'canary' : 'monitor';
    return (watch?.askOnInconclusive ?? []).flatMap((who, n): Array<[string, (string | number)[]]> => (/^[UW][A-Z0-9]+$/.test(who) ? [] : [[who, ['steps', k, key, 'askOnInconclusive', n]]]));
  });
}

/** The extra {{variables}} migration steps may use (src/migrations fills them). */
export const MIGRATION_VARIABLES = ['migration', 'file', 'direction', 'target', 'previousMigration', 'app'] as const;

function migrationTemplateProblems(text: string, commits: boolean): string[] {
  return [...text.matchAll(/\{\{\s*([a-zA-Z]+)\s*\}\}/g)]
    .filter((m) => !(MIGRATION_VARIABLES as readonly string[]).includes(m[1] ?? '') && templateProblems(m[0]).length > 0)
    .map((m) => `unknown variable ${m[0]} (use ${MIGRATION_VARIABLES.map((v) => `{{${v}}}`).join(', ')} or ${knownVariables(commits)})`);
}

export type Config = z.infer<typeof configSchema>;
export type CanaryStepConfig = z.infer<typeof canaryStep>;
export type MonitorStepConfig = z.infer<typeof monitorStep>;
export type WatchMetricConfig = z.infer<typeof metricSchema>;
export type WeightWorkflowConfig = z.infer<typeof weightWorkflow>;
export type EnvironmentConfig = Config['environments'][number];
export type StepConfig = z.infer<typeof stepSchema>;
export type RunStepConfig = z.infer<typeof runStep>;
export type HttpStepConfig = z.infer<typeof httpStep>;
export type GithubWorkflowStepConfig = z.infer<typeof githubWorkflowStep>;
export type AutoDeployRule = z.infer<typeof autoDeployRule>;
export type CheckConfig = z.infer<typeof checkSchema>;
export type RoleConfig = z.infer<typeof roleSchema>;
export type ChecklistSection = z.infer<typeof checklistSection>;
export type ChecklistItem = z.infer<typeof checklistItem>;

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`Invalid config ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Replaces ${VAR} and ${VAR:-default} in every string of the parsed file. */
function expandEnv(value: unknown, env: NodeJS.ProcessEnv, missing: string[], seen = new Set<object>()): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, fallback?: string) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      missing.push(name);
      return '';
    });
  }
  if (value && typeof value === 'object') {
    // A YAML alias may point at its own ancestor (`a: &a [*a]`): a cycle no config can mean.
    if (seen.has(value)) throw new ConfigError('', ['a YAML alias refers to a value that contains it (a cycle)']);
    seen.add(value);
    const out = Array.isArray(value)
      ? value.map((v) => expandEnv(v, env, missing, seen))
      : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, missing, seen)]));
    seen.delete(value);
    return out;
  }
  return value;
}

/**
 * One line per problem. A step is a command or an HTTP check; when it is neither, report the reasons of
 * the shape it came closest to (fewest problems) rather than zod's bare "Invalid input".
 */
function describeIssue(issue: z.core.$ZodIssue, base: PropertyKey[]): string[] {
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
    if (closest.length > 0) return closest.flatMap((inner) => describeIssue(inner, path));
  }
  return [`${path.length ? path.map(String).join('.') : '(top level)'}: ${issue.message}`];
}

/** Parses and validates config text; throws ConfigError naming each bad field. */
export function parseConfig(text: string, file = 'shipmate.yml', env: NodeJS.ProcessEnv = process.env): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  const missing: string[] = [];
  let expanded: unknown;
  try {
    expanded = expandEnv(raw, env, missing);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(file, err.problems);
    throw err;
  }
  if (missing.length > 0) {
    throw new ConfigError(file, [...new Set(missing)].map((name) => `environment variable ${name} is not set (write \${${name}:-default} for a default)`));
  }
  const result = configSchema.safeParse(expanded);
  if (!result.success) {
    throw new ConfigError(file, result.error.issues.flatMap((issue) => describeIssue(issue, [])));
  }
  return result.data;
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  return parseConfig(text, file, env);
}

export function roleLabel(config: Config, role: string): string {
  return (Object.hasOwn(config.roles, role) ? config.roles[role]?.label : undefined) ?? role.split(/[_-]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
}
