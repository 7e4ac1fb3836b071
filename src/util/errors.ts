/**
 * Typed errors and their exit codes, in one place. Commands catch LvscopeError and print
 * `lvscope: <message>` with no stack; anything else is a bug and still gets a one-line message.
 */
export const EXIT = {
  ok: 0,
  /** Some input produced nothing useful (unreadable capture, no packets). */
  noOutput: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** Internal error (a bug). */
  internal: 70,
} as const

export type ErrorCode =
  | 'usage'
  | 'not-a-capture'
  | 'empty-file'
  | 'truncated'
  | 'corrupt'
  | 'unsupported'
  | 'io'

export class LvscopeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly exitCode: number = EXIT.noOutput,
  ) {
    super(message)
    this.name = 'LvscopeError'
  }
}

export class UsageError extends LvscopeError {
  constructor(message: string) {
    super('usage', message, EXIT.usage)
  }
}

/** A problem in a capture that did not stop the read: named by file and byte offset. */
export interface CaptureWarning {
  code: string
  message: string
  /** Byte offset in the (decompressed) capture stream where the problem was found. */
  offset: number
}

/** "ENOSPC: no space left on device, write" → "ENOSPC (no space left on device)"; anything else as text. */
export function errnoReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (typeof e?.code !== 'string') return String((err as Error)?.message ?? err)
  const m = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message ?? '')
  return m ? `${e.code} (${m[1]})` : e.code
}

/** A failed file operation as the user's error: exit 1, the path and the reason, never an internal error. */
export function ioError(path: string, err: unknown, doing: string): LvscopeError {
  if (err instanceof LvscopeError) return err
  return new LvscopeError('io', `${path}: cannot ${doing}: ${errnoReason(err)}`)
}
