// The question /hotfix asks (which criterion applies?) is kept in Redis until answered: the buttons carry only its id.
export const HOTFIX_ASK_TTL_S = 3600;

export function hotfixAskKey(prefix: string, id: string): string {
  return `${prefix}:hotfix:ask:${id}`;
}

export interface HotfixAsk {
  description: string;
  user: string;
  channel: string;
  skip: string[];
}
