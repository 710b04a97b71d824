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

export const stepSchema = z.union([runStep, httpStep, githubWorkflowStep]);

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
export const NOTIFY_EVENTS = ['requested', 'starting', 'succeeded', 'failed', 'rolledBack', 'maintenance'] as const;
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
  /** The reminder after a rollback (or hotfix) here to write the post-mortem. */
  postMortem: z.strictObject({ after: followUpDelay.default(3_600_000), text: noticeText(2500).optional() }).default({ after: 3_600_000 }),
});
export type NotificationsConfig = z.infer<typeof notificationsSchema>;
const notificationsDefault = (): NotificationsConfig => notificationsSchema.parse({});

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
  requires: z.strictObject({ succeededOn: identifier }).optional(),
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
  /** Stakeholder notices, the release announcement and follow-ups for this environment (see NOTIFY_EVENTS). */
  notifications: notificationsSchema.default(notificationsDefault),
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
      ];
      for (const [role, path] of roleRefs) {
        // hasOwn: "constructor" or "toString" must not count as defined through the object's prototype.
        if (!Object.hasOwn(config.roles, role)) {
          ctx.addIssue({ code: 'custom', path: ['environments', i, ...path], message: `role "${role}" is not defined under roles` });
        }
      }
      // {{variables}} are checked here, so a typo stops start-up instead of failing a deploy half-way.
      const commits = (env.repository ?? config.repository) !== undefined;
      const commitProblems = (text: string) => (commits ? [] : commitVariables(text).map((v) => `${v} needs \`repository\` in the config (versions are commits only then)`));
      env.steps.forEach((step, k) => {
        const texts: Array<[string, (string | number)[]]> =
          'run' in step
            ? [...step.run.map((a, n): [string, (string | number)[]] => [a, ['run', n]]), ...Object.entries(step.env).map(([key, v]): [string, (string | number)[]] => [v, ['env', key]])]
            : 'workflow' in step
              ? [[step.workflow.ref, ['workflow', 'ref']], ...Object.entries(step.workflow.inputs).map(([key, v]): [string, (string | number)[]] => [v, ['workflow', 'inputs', key]])]
              : [[step.http.url, ['http', 'url']], ...Object.entries(step.http.headers).map(([key, v]): [string, (string | number)[]] => [v, ['http', 'headers', key]])];
        for (const [text, path] of texts) {
          for (const problem of [...templateProblems(text), ...commitProblems(text)]) ctx.addIssue({ code: 'custom', path: ['environments', i, 'steps', k, ...path], message: `${problem} (use ${knownVariables(commits)})` });
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

export type Config = z.infer<typeof configSchema>;
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
