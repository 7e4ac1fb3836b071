import {availableParallelism} from 'node:os'

import {Args, Flags} from '@oclif/core'
import cliProgress from 'cli-progress'

import {OUT_FORMATS, runBatch, type OutFormat, type Progress} from '../batch/run.js'
import {NdjsonSink, writeCsv} from '../batch/output.js'
import {exitCodeOf, FAIL_ON, renderSummary, type FailOn} from '../batch/summary.js'
import {parseInstant, parseService, parseShard} from '../batch/flags.js'
import {DEFAULT_CHAIN_GAP} from '../batch/group.js'
import {LvscopeCommand} from '../cli/base.js'
import {placementOf} from '../cli/placement-flags.js'
import {UsageError} from '../util/errors.js'
import Analyze from './analyze.js'

// analyze's own flags, applied to every incident (a manifest may override them per incident).
const {timeouts, persistence, 'persistence-mask': persistenceMask, config, 'keepalived-version': keepalivedVersion, kernel, director, 'real-server': realServer, client, 'clock-offset': clockOffset} =
  Analyze.flags

export default class Batch extends LvscopeCommand {
  static override description =
    'Turn an archive of director and real-server captures into incidents: recognise captures by content, chain rotated files, group hosts by time and shared connections, analyse each incident as `analyze` does, in parallel.'
  static override examples = [
    '<%= config.bin %> batch /archive/lb --timeouts 900,120,300 --out reports/ --ndjson incidents.ndjson',
    '<%= config.bin %> batch /archive --since 2026-12-01T00:00 --until 2026-12-02T00:00 --service 10.0.0.100:3306',
    '<%= config.bin %> batch /archive --shard 2/8 --ndjson shard-2.ndjson --quiet',
    '<%= config.bin %> batch merge shard-*.ndjson --csv incidents.csv',
  ]
  static override strict = false
  static override args = {
    inputs: Args.string({description: 'directories (walked recursively), capture files or globs'}),
  }
  static override flags = {
    manifest: Flags.string({description: 'JSON file of named incidents: {"incidents": [{"name", "files": [paths or globs], "flags": {analyze flags}}]}'}),
    since: Flags.string({description: 'only captures with packets at or after this time (ISO-8601, UTC unless an offset is given, or epoch seconds)'}),
    until: Flags.string({description: 'only captures with packets at or before this time'}),
    service: Flags.string({description: 'only incidents whose sampled traffic shows this ip:port'}),
    jobs: Flags.integer({description: 'incidents analysed at once, each in a worker thread (default: the cores)', min: 1, max: 64}),
    quiet: Flags.boolean({description: 'no progress and no summary table (exit code, --ndjson, --csv and --out only)'}),
    ndjson: Flags.string({description: 'write one JSON line per incident (lvscope/report@1 with its files and their SHA-256) and per unusable file; - for stdout'}),
    csv: Flags.string({description: 'write the summary as CSV; - for stdout'}),
    out: Flags.string({description: 'write one report per incident into this directory (see --format); a re-run skips incidents whose inputs are unchanged'}),
    format: Flags.string({description: 'report formats written into --out', options: [...OUT_FORMATS], multiple: true, default: ['json', 'md']}),
    'fail-on': Flags.string({description: 'exit 1 when a finding is at or above this level (error: high confidence)', options: [...FAIL_ON], default: 'warning'}),
    shard: Flags.string({description: 'I/N: analyse only the incidents whose key hashes to share I of N (1-based)'}),
    'shard-from-env': Flags.integer({
      description: 'N: take share I of N from JOB_COMPLETION_INDEX (Kubernetes Indexed Job, 0-based) or SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN)',
      min: 1,
      exclusive: ['shard'],
    }),
    'chain-gap': Flags.integer({description: 'longest silence (seconds) between two rotated files of a host that still makes them one capture', default: DEFAULT_CHAIN_GAP, min: 0}),
    timeouts,
    persistence,
    'persistence-mask': persistenceMask,
    config,
    'keepalived-version': keepalivedVersion,
    kernel,
    director,
    'real-server': realServer,
    client,
    'clock-offset': clockOffset,
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Batch)
    const inputs = argv as string[]
    if (inputs.length === 0 && flags.manifest === undefined) throw new UsageError('batch wants directories, files or globs of captures (or --manifest)')
    if (inputs.includes('-')) throw new UsageError('batch reads files, not stdin')
    const {roles, offsets} = placementOf(flags)
    const shard = flags.shard !== undefined ? parseShard(flags.shard) : flags['shard-from-env'] !== undefined ? shardFromEnv(flags['shard-from-env']) : undefined
    if (flags.ndjson === '-' && flags.csv === '-') throw new UsageError('--ndjson - and --csv - cannot both take stdout')
    const ndjson = new NdjsonSink(flags.ndjson)
    const quiet = flags.quiet
    const bar = !quiet && process.stderr.isTTY ? new ProgressView() : null
    const result = await runBatch({
      inputs,
      manifest: flags.manifest,
      since: flags.since !== undefined ? parseInstant('since', flags.since) : undefined,
      until: flags.until !== undefined ? parseInstant('until', flags.until) : undefined,
      service: flags.service !== undefined ? parseService(flags.service) : undefined,
      flags: {
        timeouts: flags.timeouts,
        persistence: flags.persistence,
        persistenceMask: flags['persistence-mask'],
        config: flags.config,
        keepalivedVersion: flags['keepalived-version'],
        kernel: flags.kernel,
      },
      roles,
      offsets,
      jobs: flags.jobs ?? availableParallelism(),
      shard,
      out: flags.out,
      formats: flags.format as OutFormat[],
      version: this.config.version,
      chainGap: flags['chain-gap'],
      onProgress: bar ? (p) => bar.update(p) : undefined,
      onLine: (l) => ndjson.write(l),
    }).finally(() => bar?.stop())
    await ndjson.close()
    writeCsv(flags.csv, result.lines)
    if (!quiet) {
      const text = renderSummary(result.lines)
      const notes = [
        result.resumed > 0 ? `${result.resumed} incident(s) unchanged since the last run in ${flags.out}: not analysed again` : '',
        result.skippedByFilter > 0 ? `${result.skippedByFilter} capture(s)/incident(s) outside --since/--until/--service` : '',
      ].filter((s) => s !== '')
      // stdout belongs to the NDJSON or CSV when either goes there.
      const toStderr = ndjson.toStdout || flags.csv === '-'
      const out = `${text}${notes.map((n) => `${n}\n`).join('')}`
      if (toStderr) process.stderr.write(out)
      else process.stdout.write(out)
    }
    if (!result.readable) this.logToStderr('lvscope: no readable capture among the inputs')
    const code = exitCodeOf(result.lines, flags['fail-on'] as FailOn, result.readable)
    if (code !== 0) this.exit(code)
  }
}

function shardFromEnv(count: number): {index: number; count: number} {
  const k8s = process.env.JOB_COMPLETION_INDEX
  const slurm = process.env.SLURM_ARRAY_TASK_ID
  let index: number
  if (k8s !== undefined && k8s !== '') index = Number(k8s)
  else if (slurm !== undefined && slurm !== '') index = Number(slurm) - Number(process.env.SLURM_ARRAY_TASK_MIN ?? 0)
  else throw new UsageError('--shard-from-env: neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set')
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new UsageError(`--shard-from-env ${count}: index ${index} from the environment is not in 0…${count - 1}`)
  return {index, count}
}

/** Progress on a terminal's stderr: files probed, then incidents analysed, with bytes, rate and ETA. */
class ProgressView {
  private readonly bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{phase} |{bar}| {value}/{total} {what} · {mib}/{mibTotal} MiB · {rate} MiB/s · ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  )
  private phase: Progress['phase'] | null = null
  private readonly started = Date.now()

  update(p: Progress): void {
    const mib = (b: number): string => (b / 1048576).toFixed(0)
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000)
    const payload = {phase: p.phase === 'probe' ? 'probing  ' : 'analysing', what: p.phase === 'probe' ? 'files' : 'incidents', mib: mib(p.bytesDone), mibTotal: mib(p.bytesTotal), rate: (p.bytesDone / 1048576 / secs).toFixed(1)}
    if (this.phase !== p.phase) {
      if (this.phase !== null) this.bar.stop()
      this.phase = p.phase
      this.bar.start(Math.max(1, p.total), p.done, payload)
    } else this.bar.update(p.done, payload)
  }

  stop(): void {
    if (this.phase !== null) this.bar.stop()
  }
}
