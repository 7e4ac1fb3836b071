import {readConfigFile} from '../ipvs/config/read.js'
import type {AnalyzeOptions} from '../pipeline/analyze.js'
import type {ClockOffset} from './flags.js'
import {placeInputs} from './placement-flags.js'

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
  'clock-offset'?: ClockOffset[]
}

/** Inputs (placed files included) and AnalyzeOptions from the command line: one reading for every command. */
export function analysisInputs(
  argv: string[],
  flags: AnalysisFlagValues,
  version: string,
  onWarning: (message: string) => void,
): {files: string[]; opts: AnalyzeOptions} {
  const configs = (flags.config ?? []).map((f) => readConfigFile(f))
  // Files, not stdin: the correlation reads every capture again after the scan.
  const {files, roles, offsets} = placeInputs(argv, flags, onWarning)
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
