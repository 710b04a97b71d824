// The default texts of stakeholder notices and follow-ups (taken from the seed teams' processes), and the
// {{variable}} filling shared by notices, announcements and follow-ups. Config overrides any of them; unknown
// variables are refused when the config loads (config.ts, NOTIFY_VARIABLES).
import type { NOTIFY_VARIABLES, NotifyEvent } from '../core/config.js';

export interface MessageTemplate {
  title?: string;
  text: string;
}
export type NoticeVars = Record<(typeof NOTIFY_VARIABLES)[number], string>;

/** Stakeholder notices, one per event (Ontos "Notify stakeholders", SarvanOM's internal status updates). */
export const DEFAULT_NOTICES: Record<NotifyEvent, MessageTemplate> = {
  requested: { title: ':inbox_tray: {{environment}}: {{version}} requested', text: '{{who}} asked to deploy `{{version}}` to *{{environment}}* ({{deploy}}). {{when}}' },
  ahead: { title: ':alarm_clock: {{environment}}: {{version}} goes out {{when}}', text: '{{who}} will deploy `{{version}}` to *{{environment}}* {{when}} ({{deploy}}). If that is a bad moment, say so in this thread before then.' },
  starting: { title: ':rocket: Deploying {{version}} to {{environment}}', text: '{{who}} is deploying `{{version}}` to *{{environment}}* now ({{deploy}}). We will post here when it is done.' },
  succeeded: { title: ':white_check_mark: {{version}} is live on {{environment}}', text: '`{{version}}` was deployed to *{{environment}}* by {{who}} in {{duration}} ({{deploy}}).' },
  failed: { title: ':x: Deploy of {{version}} to {{environment}} failed', text: 'The deploy of `{{version}}` to *{{environment}}* by {{who}} did not finish ({{deploy}}): {{notes}}\nThe team is looking at it; we will post here when it is resolved.' },
  rolledBack: { title: ':rewind: {{environment}} rolled back to {{version}}', text: '*{{environment}}* was rolled back from `{{previous}}` to `{{version}}` by {{who}} ({{deploy}}). A post-mortem follows.' },
  maintenance: { title: ':construction: Maintenance on {{environment}} {{when}}', text: '*{{environment}}* has scheduled maintenance {{when}}: {{notes}}\nExpect it to be unavailable or slow during the window.' },
};

/** Ontos' "Schedule Follow-ups" (production checklist): the default for production environments. */
export const DEFAULT_FOLLOW_UPS: ReadonlyArray<{ after: number; text: string }> = [
  { after: 86_400_000, text: ':calendar: *1-day check-in* for `{{version}}` on {{environment}} ({{deploy}}): verify stability — errors, latency and alerts since the release.' },
  { after: 7 * 86_400_000, text: ':bar_chart: *1-week review* for `{{version}}` on {{environment}} ({{deploy}}): performance analysis against the week before.' },
  { after: 30 * 86_400_000, text: ':chart_with_upwards_trend: *1-month review* for `{{version}}` on {{environment}} ({{deploy}}): usage metrics of what shipped.' },
];

export const DEFAULT_POST_MORTEM = ':memo: *Post-mortem reminder*: {{environment}} went back from `{{previous}}` to `{{version}}` ({{deploy}}). Write down the root cause and how to prevent it, and schedule the post-mortem meeting.';

/** Production environments get the default follow-ups: named or aliased production/prod. */
export function isProduction(env: { name: string; aliases: readonly string[] }): boolean {
  return [env.name, ...env.aliases].some((n) => n === 'production' || n === 'prod');
}

/** Fills {{variables}}; values are already mrkdwn-safe (the notifier escapes what came from people). */
export function fill(template: string, vars: NoticeVars): string {
  return template.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (match, name: string) => (Object.hasOwn(vars, name) ? vars[name as keyof NoticeVars] : match));
}
