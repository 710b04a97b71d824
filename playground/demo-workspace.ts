// The playground's pretend workspace: demo users (with the roles the config gives them) and the channels it uses.
import { roleLabel, type Config } from '../src/core/config.js';
import type { StandinChannel, StandinUser } from './slack-standin/server.js';

export interface DemoUser extends StandinUser {
  real_name: string;
  /** Role labels from the config ("Engineer", "Tech Lead"). */
  roles: string[];
}

/** The people shipmate.yml's roles name; any other user id in a config gets a name made from its id. */
const KNOWN_USERS: Record<string, { name: string; real_name: string }> = {
  U0DEMOALEX: { name: 'alex', real_name: 'Alex Morgan' },
  U0DEMOTARA: { name: 'tara', real_name: 'Tara Singh' },
  U0DEMOPRIYA: { name: 'priya', real_name: 'Priya Patel' },
  U0DEMOSAM: { name: 'sam', real_name: 'Sam Okafor' },
  U0DEMOOLLIE: { name: 'ollie', real_name: 'Ollie Berg' },
};

export const DEFAULT_CHANNELS: StandinChannel[] = [
  { id: 'C0RELEASES', name: 'releases' },
  { id: 'C0DEPLOYLOG', name: 'deploy-log' },
  { id: 'C0ANNOUNCE', name: 'announcements' },
];

function nameFromId(id: string): { name: string; real_name: string } {
  const base = id.replace(/^[UW]0?/, '').replace(/^DEMO/, '').toLowerCase() || id.toLowerCase();
  return { name: base, real_name: base.charAt(0).toUpperCase() + base.slice(1) };
}

/** Everyone the config's roles list (or the default demo users when it lists nobody), with their role labels. */
export function demoUsers(config: Config): DemoUser[] {
  const ids: string[] = [];
  for (const role of Object.values(config.roles)) for (const u of role.users) if (!ids.includes(u)) ids.push(u);
  if (ids.length === 0) ids.push(...Object.keys(KNOWN_USERS));
  return ids.map((id) => ({
    id,
    ...(KNOWN_USERS[id] ?? nameFromId(id)),
    roles: Object.entries(config.roles).filter(([, r]) => r.users.includes(id)).map(([key]) => roleLabel(config, key)),
  }));
}

/** #releases, #deploy-log, #announcements, plus every other channel id the config posts to. */
export function demoChannels(config: Config): StandinChannel[] {
  const channels = [...DEFAULT_CHANNELS];
  const ids = [
    config.channels.deployLog, config.channels.announcements,
    ...config.environments.flatMap((e) => e.channels.stakeholders),
  ].filter((id): id is string => !!id && !id.startsWith('D'));
  for (const id of ids) if (!channels.some((c) => c.id === id)) channels.push({ id, name: id.toLowerCase(), is_private: id.startsWith('G') });
  return channels;
}
