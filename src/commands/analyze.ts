import {readFileSync} from 'node:fs'

import {Args, Flags} from '@oclif/core'

import {LvscopeCommand} from '../cli/base.js'
import {expandInputs} from '../cli/inputs.js'
import {diagnose, type Incident} from '../diagnose/index.js'
import {parseConfig} from '../ipvs/config/index.js'
import type {GapObservation} from '../ipvs/bounds.js'
import {kernelTraits} from '../ipvs/kernel.js'
import {resolveTimeouts} from '../ipvs/timeouts.js'
import {buildReport} from '../report/build.js'
import type {Role} from '../report/report.js'
import {renderTerminal} from '../report/terminal.js'
import {LvscopeError, UsageError} from '../util/errors.js'
import {escapeTerminal} from '../util/escape.js'
import {correlate} from '../vantage/correlate/index.js'
import {scanCaptures, type CaptureScan} from '../vantage/scan.js'
import {buildTopology} from '../vantage/topology.js'

function parseOffsets(list: string[] | undefined): Map<string, number> {
  const m = new Map<string, number>()
  for (const item of list ?? []) {
    const i = item.lastIndexOf('=')
    const v = Number(item.slice(i + 1))
    if (i <= 0 || !Number.isFinite(v)) throw new UsageError(`--clock-offset wants FILE=SECONDS, got "${item}"`)
    m.set(item.slice(0, i), v)
  }
  return m
}

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
    format: Flags.string({description: 'output format', options: ['terminal', 'json'], default: 'terminal'}),
    json: Flags.boolean({description: 'same as --format json'}),
    timeouts: Flags.string({description: 'IPVS timeouts TCP,TCPFIN,UDP in seconds as set by ipvsadm --set (0 = unknown)'}),
    persistence: Flags.integer({description: 'persistence timeout of the service in seconds (ipvsadm -p)', min: 1}),
    'persistence-mask': Flags.string({description: 'persistence netmask (ipvsadm -M)'}),
    config: Flags.string({description: 'ipvsadm -Ln/-Lnc/--timeout/-S output, /proc/net/ip_vs*, or keepalived.conf (repeatable; recognised by content)', multiple: true}),
    'keepalived-version': Flags.string({description: 'keepalived version (decides whether lvs_timeouts apply without lvs_sync_daemon)'}),
    kernel: Flags.string({description: 'director kernel version, e.g. 5.4 or 6.1 (expire_nodest_conn behaves differently before 5.9)', default: '6.1'}),
    director: Flags.string({description: 'this capture is a director\'s (repeatable)', multiple: true}),
    'real-server': Flags.string({description: 'this capture is a real server\'s (repeatable)', multiple: true}),
    client: Flags.string({description: 'this capture is the client\'s (repeatable)', multiple: true}),
    'clock-offset': Flags.string({description: 'FILE=SECONDS: capture time minus reference time (overrides the estimate)', multiple: true}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Analyze)
    const roles = new Map<string, Role>()
    for (const f of flags.director ?? []) roles.set(f, 'director')
    for (const f of flags['real-server'] ?? []) roles.set(f, 'real-server')
    for (const f of flags.client ?? []) roles.set(f, 'client')
    const files = expandInputs([...new Set([...(argv as string[]), ...roles.keys()])])
    const offsets = parseOffsets(flags['clock-offset'])
    const configs = (flags.config ?? []).map((f) => {
      let text: string
      try {
        text = readFileSync(f, 'utf8')
      } catch (err) {
        throw new LvscopeError('io', `${f}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
      }
      return parseConfig(text, f)
    })

    const scans: CaptureScan[] = []
    for (const r of await scanCaptures(files)) {
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
    let timeouts = resolveTimeouts({flags: timeoutFlags, configs, keepalivedVersion: flags['keepalived-version']})
    const inc: Incident = {captures, topology, timeouts, persistenceKnown: timeouts.persistence !== null, kernel: kernelTraits(flags.kernel)}
    let diag = diagnose(inc)
    // What the captures prove about the real timeout: survived silences and idle-expiry kills bound it.
    const observations: GapObservation[] = []
    for (const c of captures) {
      const s = c.scan.ledger.longestSurvived
      if (s) observations.push({gap: s.gap, state: 'ES', survived: true, where: `${c.scan.file}:${s.next.ref.frame}`})
    }
    for (const k of diag.killedGaps) observations.push({gap: k.gap, state: k.fin ? 'FW' : 'ES', survived: false, where: k.where})
    if (observations.length > 0) {
      timeouts = resolveTimeouts({flags: timeoutFlags, configs, keepalivedVersion: flags['keepalived-version'], observations})
      if (timeouts.tcp !== inc.timeouts.tcp || timeouts.tcpfin !== inc.timeouts.tcpfin) {
        inc.timeouts = timeouts
        diag = diagnose(inc)
      } else inc.timeouts = timeouts
    }
    const report = buildReport(
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
    if (flags.json || flags.format === 'json') this.printJson(report)
    else this.log(renderTerminal(report))
  }
}
