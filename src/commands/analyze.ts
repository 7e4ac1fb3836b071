import {readFileSync} from 'node:fs'

import {Args, Flags} from '@oclif/core'

import {LvscopeCommand} from '../cli/base.js'
import {writeFileAtomic} from '../cli/output.js'
import {expandInputs} from '../cli/inputs.js'
import {parsePlacement, placementFlags} from '../cli/placement-flags.js'
import {diagnoseIncident, type Incident} from '../diagnose/index.js'
import {parseConfig} from '../ipvs/config/index.js'
import {kernelTraits} from '../ipvs/kernel.js'
import {resolveTimeouts} from '../ipvs/timeouts.js'
import {buildReport} from '../report/build.js'
import {addTimelineEvents} from '../report/events.js'
import {renderHtml} from '../report/html.js'
import {renderJson} from '../report/json.js'
import {renderMarkdown} from '../report/markdown.js'
import {renderTerminal} from '../report/terminal.js'
import {LvscopeError, UsageError} from '../util/errors.js'
import {escapeTerminal} from '../util/escape.js'
import {correlate} from '../vantage/correlate/index.js'
import {scanCaptures, type CaptureScan} from '../vantage/scan.js'
import {buildTopology} from '../vantage/topology.js'

export default class Analyze extends LvscopeCommand {
  static override description =
    'Explain every RST, stall, re-schedule and failover in the captures of an LVS incident against the IPVS connection and persistence timelines.'
  static override examples = [
    '<%= config.bin %> analyze samples/idle-expiry-mysql',
    '<%= config.bin %> analyze director.pcap rs1.pcap --config ipvsadm-Ln.txt --config keepalived.conf',
    '<%= config.bin %> analyze director.pcap rs1.pcap --timeouts 7200,120,300 --format json',
  ]
  static override strict = false
  static override args = {
    captures: Args.string({description: 'capture files of the incident (director, real servers, client), or directories of them', required: true}),
  }
  static override flags = {
    format: Flags.string({
      description: 'output format (md: Markdown for a ticket; html: one self-contained page with ladder diagrams)',
      options: ['terminal', 'json', 'md', 'html'],
      default: 'terminal',
    }),
    out: Flags.string({char: 'o', description: 'write the report to FILE (atomically: a temporary file renamed on success)'}),
    json: Flags.boolean({description: 'same as --format json'}),
    timeouts: Flags.string({description: 'IPVS timeouts TCP,TCPFIN,UDP in seconds as set by ipvsadm --set (0 = unknown)'}),
    persistence: Flags.integer({description: 'persistence timeout of the service in seconds (ipvsadm -p)', min: 1}),
    'persistence-mask': Flags.string({description: 'persistence netmask (ipvsadm -M)'}),
    config: Flags.string({description: 'ipvsadm -Ln/-Lnc/--timeout/-S output, /proc/net/ip_vs*, or keepalived.conf (repeatable; recognised by content)', multiple: true}),
    'keepalived-version': Flags.string({description: 'keepalived version (decides whether lvs_timeouts apply without lvs_sync_daemon)'}),
    kernel: Flags.string({description: 'director kernel version, e.g. 5.4 or 6.1 (expire_nodest_conn behaves differently before 5.9)', default: '6.1'}),
    threads: Flags.integer({
      description: 'threads per capture, each scanning a share of its flows (default: the cores shared among the captures, for captures over 64 MiB)',
      min: 1,
      max: 16,
    }),
    ...placementFlags,
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Analyze)
    const {roles, offsets} = parsePlacement(flags)
    const files = expandInputs([...new Set([...(argv as string[]), ...roles.keys()])])
    const configs = (flags.config ?? []).map((f) => {
      let text: string
      try {
        text = readFileSync(f, 'utf8')
      } catch (err) {
        throw new LvscopeError('io', `${f}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
      }
      return parseConfig(text, f)
    })

    // The correlation reads every capture again after the scan.
    if (files.includes('-')) throw new UsageError('analyze reads each capture twice (scan, then correlation): give files, not stdin')
    const scans: CaptureScan[] = []
    for (const r of await scanCaptures(files, flags.threads)) {
      if (!(r instanceof LvscopeError)) scans.push(r)
      else if (files.length === 1) throw r
      else this.logToStderr(`lvscope: ${r.message} (skipped)`)
    }
    if (scans.length === 0) throw new LvscopeError('not-a-capture', 'no readable capture among the inputs')
    for (const s of scans) for (const w of s.summary.warnings) this.logToStderr(`lvscope: warning: ${escapeTerminal(w.message)}`)
    // Roles and clocks come from matching the same packets across captures (flags override both).
    const corr = await correlate(scans.map((sc) => ({file: sc.file, role: roles.get(sc.file), clockOffsetSeconds: offsets.get(sc.file)})))
    for (const c of corr.captures) for (const w of c.warnings) if (w.code.startsWith('clock') || w.code.startsWith('no-')) this.logToStderr(`lvscope: warning: ${escapeTerminal(w.message)}`)
    const placed = scans.map((sc) => corr.captures.find((c) => c.file === sc.file))
    const captures = scans.map((scan, i) => ({scan, role: placed[i]?.role ?? 'unknown', offset: placed[i]?.clockOffsetSeconds ?? 0}))
    const topology = buildTopology(captures)
    const timeoutFlags = {timeouts: flags.timeouts, persistence: flags.persistence, persistenceMask: flags['persistence-mask']}
    const timeouts = resolveTimeouts({flags: timeoutFlags, configs, keepalivedVersion: flags['keepalived-version']})
    const inc: Incident = {captures, topology, timeouts, persistenceKnown: timeouts.persistence !== null, kernel: kernelTraits(flags.kernel)}
    const diag = diagnoseIncident(inc, (observations) =>
      resolveTimeouts({flags: timeoutFlags, configs, keepalivedVersion: flags['keepalived-version'], observations}),
    )
    const built = buildReport(
      inc,
      diag,
      placed.map((p, i) => ({
        file: scans[i].file,
        roleReason: p?.roleReason ?? '',
        clockOffsetUncertainty: p?.clockOffsetUncertainty ?? 0,
        clockDriftPpm: p?.clockDriftPpm ?? null,
        clockSource: p?.clockSource ?? 'none',
      })),
      {reference: corr.reference, flows: corr.flows},
      this.config.version,
    )
    const report = await addTimelineEvents(built)
    const format = flags.json ? 'json' : flags.format
    const text =
      format === 'json' ? renderJson(report) : format === 'md' ? renderMarkdown(report) : format === 'html' ? renderHtml(report) : `${renderTerminal(report)}\n`
    if (flags.out) writeFileAtomic(flags.out, text, {inputs: [...files, ...(flags.config ?? [])]})
    else process.stdout.write(text)
  }
}
