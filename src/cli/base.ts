import {Command, Errors} from '@oclif/core'

import {EXIT, LvscopeError} from '../util/errors.js'

/**
 * Every command extends this: it maps typed errors to one-line messages and exit codes, so a user never
 * sees a stack trace.
 */
export abstract class LvscopeCommand extends Command {
  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err
    if (err instanceof LvscopeError) {
      this.logToStderr(`lvscope: ${err.message}`)
      return this.exit(err.exitCode)
    }
    // oclif's own parse errors (unknown flag, missing argument) are usage errors.
    if (err instanceof Errors.CLIError) {
      this.logToStderr(`lvscope: ${err.message.split('\n')[0]}`)
      this.logToStderr(`See: lvscope ${this.id ?? ''} --help`)
      return this.exit(EXIT.usage)
    }
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EPIPE') return this.exit(EXIT.ok)
    this.logToStderr(`lvscope: internal error: ${err.message}`)
    if (process.env.LVSCOPE_DEBUG) this.logToStderr(err.stack ?? '')
    return this.exit(EXIT.internal)
  }

  /** Print a JSON document. */
  protected printJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
  }
}
