import {Args, Flags} from '@oclif/core'

import {mergeLines} from '../../batch/merge.js'
import {NdjsonSink, writeCsv} from '../../batch/output.js'
import {exitCodeOf, FAIL_ON, isIncident, renderSummary, sortLines, type FailOn} from '../../batch/summary.js'
import {LvscopeCommand} from '../../cli/base.js'
import {UsageError} from '../../util/errors.js'

export default class BatchMerge extends LvscopeCommand {
  static override description = "Combine the NDJSON of `batch --shard` runs into the summary, NDJSON, CSV and exit code of one unsharded run."
  static override examples = ['<%= config.bin %> batch merge shard-*.ndjson --ndjson all.ndjson --csv all.csv']
  static override strict = false
  static override args = {
    files: Args.string({description: 'NDJSON files written by batch --ndjson'}),
  }
  static override flags = {
    ndjson: Flags.string({description: 'write the merged lines (sorted); - for stdout'}),
    csv: Flags.string({description: 'write the summary as CSV; - for stdout'}),
    'fail-on': Flags.string({description: 'exit 1 when a finding is at or above this level', options: [...FAIL_ON], default: 'warning'}),
    quiet: Flags.boolean({description: 'no summary table'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(BatchMerge)
    const files = argv as string[]
    if (files.length === 0) throw new UsageError('batch merge wants the NDJSON files of the shards')
    const {lines, warnings} = mergeLines(files)
    for (const w of warnings) this.logToStderr(`lvscope: warning: ${w}`)
    if (flags.ndjson === '-' && flags.csv === '-') throw new UsageError('--ndjson - and --csv - cannot both take stdout')
    const sink = new NdjsonSink(flags.ndjson)
    for (const l of sortLines(lines)) sink.write(l)
    await sink.close()
    writeCsv(flags.csv, lines)
    if (!flags.quiet) {
      const text = renderSummary(lines)
      if (sink.toStdout || flags.csv === '-') process.stderr.write(text)
      else process.stdout.write(text)
    }
    const code = exitCodeOf(lines, flags['fail-on'] as FailOn, lines.some(isIncident))
    if (code !== 0) this.exit(code)
  }
}
