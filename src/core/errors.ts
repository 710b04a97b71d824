// Typed errors: each maps to a private reply that tells the person what to do next.

/** The input was wrong; the message says what and how to fix it. */
export class UserInputError extends Error {
  constructor(message: string, readonly usage?: string) {
    super(message);
    this.name = 'UserInputError';
  }
}

/** The person may not do this; the attempt is logged and audited. */
export class NotAuthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAuthorizedError';
  }
}

/** The request is valid but conflicts with the current state (already cancelled, finished, …). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** Text for the private reply a person gets for an error thrown while handling their request. */
export function replyForError(err: unknown): string {
  if (err instanceof UserInputError) return `:warning: ${err.message}${err.usage ? `\n${err.usage}` : ''}`;
  if (err instanceof NotAuthorizedError) return `:no_entry: ${err.message}`;
  if (err instanceof ConflictError) return `:information_source: ${err.message}`;
  return ':x: Something went wrong on Shipmate’s side; nothing was changed. The error is in the logs — try again, or ask whoever runs Shipmate.';
}
