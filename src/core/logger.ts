// The pino logger: JSON lines, with tokens, signatures and response URLs redacted wherever they appear.
// `pretty` (on a terminal) renders the same lines with pino-pretty, in-process, for people reading along.
import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export const REDACT_PATHS = [
  'token', '*.token', 'botToken', '*.botToken', 'appToken', 'signingSecret', '*.signingSecret',
  'headers["x-slack-signature"]', '*.headers["x-slack-signature"]', 'headers.authorization', '*.headers.authorization',
  'response_url', '*.response_url', 'responseUrl', '*.responseUrl', 'body.response_url',
  'password', '*.password', 'secret', '*.secret',
];

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream; pretty?: boolean } = {}): Logger {
  const destination = opts.pretty
    ? pinoPretty({ destination: opts.destination ?? 1, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,app', sync: true })
    : (opts.destination as pino.DestinationStream | undefined);
  return pino({ level: opts.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { app: 'shipmate' } }, destination);
}

export type { Logger };
