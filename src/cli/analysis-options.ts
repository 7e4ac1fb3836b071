import {readFileSync} from 'node:fs'

import {parseConfig} from '../ipvs/config/index.js'
import type {AnalyzeOptions} from '../pipeline/analyze.js'
import {LvscopeError} from '../util/errors.js'
import {expandInputs} from './inputs.js'
import {parsePlacement} from './placement-flags.js'

/** The analysis flags as oclif parses them (analyze's, which annotate shares). */
export interface AnalysisFlagValues {
  timeouts?: string
  persistence?: number
  'persistence-mask'?: string
  config?: string[]
  'keepalived-version'?: string
  kernel: string
  threads?: number
  director?: string[]
  'real-server'?: string[]
  client?: string[]
  'clock-offset'?: string[]
}

/** Inputs (placed files included) and AnalyzeOptions from the command line: one reading for every command. */
export function analysisInputs(
  argv: string[],
  flags: AnalysisFlagValues,
  version: string,
  onWarning: (message: string) => void,
): {files: string[]; opts: AnalyzeOptions} {
  const {roles, offsets} = parsePlacement(flags)
  const files = expandInputs([...new Set([...argv, ...roles.keys()])])
  const configs = (flags.config ?? []).map((f) => {
    let text: string
    try {
      text = readFileSync(f, 'utf8')
    } catch (err) {
      throw new LvscopeError('io', `${f}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
    }
    return parseConfig(text, f)
  })
  const opts: AnalyzeOptions = {
    roles,
    offsets,
    timeoutFlags: {timeouts: flags.timeouts, persistence: flags.persistence, persistenceMask: flags['persistence-mask']},
    configs,
    keepalivedVersion: flags['keepalived-version'],
    kernel: flags.kernel,
    threads: flags.threads,
    version,
    onWarning,
  }
  return {files, opts}
}
