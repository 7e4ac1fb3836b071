import {Command, Errors} from '@oclif/core'

import {EXIT, errnoReason, LvscopeError, type CaptureWarning} from '../util/errors.js'
import {escapeTerminal} from '../util/escape.js'

/** errno codes that are the environment's doing (disk full, permissions, a bad path), not a bug: exit 1. */
const IO_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENOTDIR', 'ENOENT', 'ELOOP', 'EINVAL', 'EFBIG', 'ENAMETOOLONG', 'EMFILE', 'ENFILE', 'ENXIO', 'ETXTBSY', 'EBADF'])

/**
 * A failed write to stdout (`> /dev/full`, a closed pipe) is reported as an output error, exit 1 (EPIPE: the
 * reader left, exit 0). oclif's own handler rethrows every error but EPIPE as an uncaught exception, whose stack
 * trace would reach the user, so it is replaced.
 */
process.stdout.removeAllListeners('error')
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok)
  process.stderr.write(`lvscope: stdout: cannot write: ${escapeTerminal(errnoReason(err))}\n`)
  process.exit(EXIT.noOutput)
})

/**
 * Every command extends this: it maps typed errors to one-line messages and exit codes, so a user never
 * sees a stack trace, and every line it prints on stderr (errors, warnings) goes through `say`, which escapes
 * it for the terminal: file names and capture text can hold escape sequences.
 */
export abstract class LvscopeCommand extends Command {
  /**
   * The one way to stderr: `lvscope: <text>`, escaped for the terminal (control bytes, line breaks included,
   * become \xNN, so a file name cannot forge a line or a terminal sequence).
   */
  protected say(text: string): void {
    this.logToStderr(`lvscope: ${escapeTerminal(text)}`)
  }

  /** A problem that did not stop the run (a damaged record, a skipped directory entry). */
  protected warning(message: string): void {
    this.say(`warning: ${message}`)
  }

  /** Reader and correlation warnings, every command the same way: the message names the file and byte offset. */
  protected captureWarnings(warnings: readonly CaptureWarning[]): void {
    for (const w of warnings) this.warning(w.message)
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err
    if (err instanceof LvscopeError) {
      this.say(err.message)
      return this.exit(err.exitCode)
    }
    // oclif's own parse errors (unknown flag, missing argument, a flag type's refusal) are usage errors; their
    // whole message is the reason ("Parsing --limit" alone says nothing).
    if (err instanceof Errors.CLIError) {
      const lines = err.message.trim().replace(/\n\s*See more help with --help\s*$/, '').split('\n')
      this.say(lines.map((l) => l.trim()).filter((l) => l !== '').join(': ').replace(/:\s*:/g, ':'))
      this.logToStderr(`See: lvscope ${this.id ?? ''} --help`)
      return this.exit(EXIT.usage)
    }
    const e = err as NodeJS.ErrnoException
    if (e.code === 'EPIPE') return this.exit(EXIT.ok)
    if (typeof e.code === 'string' && IO_CODES.has(e.code) && typeof e.syscall === 'string') {
      // Without a path, a failed write is stdout's (every file the commands write names its path).
      this.say(`${e.path ?? (e.syscall === 'write' ? 'stdout' : 'a file')}: cannot ${e.syscall}: ${errnoReason(e)}`)
      return this.exit(EXIT.noOutput)
    }
    this.say(`internal error: ${err.message}`)
    if (process.env.LVSCOPE_DEBUG) for (const line of (err.stack ?? '').split('\n')) this.logToStderr(escapeTerminal(line))
    return this.exit(EXIT.internal)
  }

  /** Print a JSON document. */
  protected printJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
  }
}
