// The pino logger: JSON lines, with tokens, signatures and response URLs redacted wherever they appear.
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'token', '*.token', 'botToken', '*.botToken', 'appToken', 'signingSecret', '*.signingSecret',
  'headers["x-slack-signature"]', '*.headers["x-slack-signature"]', 'headers.authorization', '*.headers.authorization',
  'response_url', '*.response_url', 'responseUrl', '*.responseUrl', 'body.response_url',
  'password', '*.password', 'secret', '*.secret',
];

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    { level: opts.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { app: 'shipmate' } },
    opts.destination as pino.DestinationStream | undefined,
  );
}

export type { Logger };
