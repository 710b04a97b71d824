// The pino logger: JSON lines, with tokens, signatures and response URLs redacted wherever they appear,
// and every line passed through the secret maskers Shipmate adds once its config is known.
// `pretty` (on a terminal) renders the same lines with pino-pretty, in-process, for people reading along.
import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { Masker } from './mask.js';

export const REDACT_PATHS = [
  'token', '*.token', 'botToken', '*.botToken', 'appToken', 'signingSecret', '*.signingSecret',
  'headers["x-slack-signature"]', '*.headers["x-slack-signature"]', 'headers.authorization', '*.headers.authorization',
  'response_url', '*.response_url', 'responseUrl', '*.responseUrl', 'body.response_url',
  'password', '*.password', 'secret', '*.secret',
];

const MASKERS = Symbol('shipmate.logMaskers');
type MaskedLogger = Logger & { [MASKERS]?: Set<Masker> };

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream; pretty?: boolean } = {}): Logger {
  const destination = opts.pretty
    ? pinoPretty({ destination: opts.destination ?? 1, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,app', sync: true })
    : (opts.destination as pino.DestinationStream | undefined);
  // The logger exists before the config (and so the secrets) is read: maskers are added later, and the
  // streamWrite hook, shared by every child logger, reads the set at each line.
  const maskers = new Set<Masker>();
  const log: MaskedLogger = pino(
    {
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { app: 'shipmate' },
      hooks: { streamWrite: (line) => [...maskers].reduce((s, mask) => mask(s), line) },
    },
    destination,
  );
  log[MASKERS] = maskers;
  return log;
}

/**
 * Masks every line this logger (and each of its children, made before or after) writes from now on.
 * Kept for the logger's life: a late line (a step ending after shutdown) must be masked too.
 */
export function addLogMasker(log: Logger, mask: Masker): void {
  const maskers = (log as MaskedLogger)[MASKERS];
  if (!maskers) throw new Error('addLogMasker needs a logger made by createLogger (or one of its children)');
  maskers.add(mask);
}

export type { Logger };
