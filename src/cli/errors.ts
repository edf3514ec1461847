// Exit codes shared by every command, and the one error type the CLI turns into a
// one-line message (bad input, unreachable target) instead of a stack trace.
/** 130: interrupted by SIGINT (Ctrl-C), as a shell reports a process SIGINT ended (128 + 2). */
export const exitCodes = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

export class UsageError extends Error {
  override name = 'UsageError';
}
