import {Args, Flags} from '@oclif/core'

import {LvscopeCommand} from '../cli/base.js'
import {decimalFlag, keepalivedVersionFlag, kernelFlag, netmaskFlag, timeoutsFlag} from '../cli/flags.js'
import {placeInputs, placementFlags} from '../cli/placement-flags.js'
import {diagnoseIncident, type Incident} from '../diagnose/index.js'
import {readConfigFile} from '../ipvs/config/read.js'
import {kernelTraits} from '../ipvs/kernel.js'
import {resolveTimeouts} from '../ipvs/timeouts.js'
import {buildReport} from '../report/build.js'
import {renderMarkdown} from '../report/markdown.js'
import {renderTerminal} from '../report/terminal.js'
import {LvscopeError} from '../util/errors.js'
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
    format: Flags.string({description: 'output format (md: Markdown for a ticket)', options: ['terminal', 'json', 'md'], default: 'terminal'}),
    json: Flags.boolean({description: 'same as --format json'}),
    timeouts: timeoutsFlag(),
    persistence: decimalFlag({description: 'persistence timeout of the service in seconds (ipvsadm -p)', min: 1, max: 2678400})(),
    'persistence-mask': netmaskFlag(),
    config: Flags.string({description: 'ipvsadm -Ln/-Lnc/--timeout/-S output, /proc/net/ip_vs*, or keepalived.conf (repeatable; recognised by content)', multiple: true}),
    'keepalived-version': keepalivedVersionFlag({description: 'keepalived version, e.g. 2.2.8 (decides whether lvs_timeouts apply without lvs_sync_daemon)'}),
    kernel: kernelFlag({description: 'director kernel version, e.g. 5.4 or 6.1 (expire_nodest_conn behaves differently before 5.9)', default: '6.1'}),
    threads: decimalFlag({
      description: 'threads per capture, each scanning a share of its flows (default: the cores shared among the captures, for captures over 64 MiB)',
      min: 1,
      max: 16,
    })(),
    ...placementFlags,
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Analyze)
    const configs = (flags.config ?? []).map((f) => readConfigFile(f))
    // Files, not stdin: the correlation reads every capture again after the scan.
    const {files, roles, offsets} = placeInputs(argv as string[], flags, (m) => this.warning(m))
    const scans: CaptureScan[] = []
    for (const r of await scanCaptures(files, flags.threads)) {
      if (!(r instanceof LvscopeError)) scans.push(r)
      else if (files.length === 1) throw r
      else this.say(`${r.message} (skipped)`)
    }
    if (scans.length === 0) throw new LvscopeError('not-a-capture', 'no readable capture among the inputs')
    for (const s of scans) this.captureWarnings(s.summary.warnings)
    // Roles and clocks come from matching the same packets across captures (flags override both).
    const corr = await correlate(scans.map((sc) => ({file: sc.file, role: roles.get(sc.file), clockOffsetSeconds: offsets.get(sc.file)})))
    for (const c of corr.captures) this.captureWarnings(c.warnings.filter((w) => w.code.startsWith('clock') || w.code.startsWith('no-')))
    const placed = scans.map((sc) => corr.captures.find((c) => c.file === sc.file))
    const captures = scans.map((scan, i) => ({scan, role: placed[i]?.role ?? 'unknown', offset: placed[i]?.clockOffsetSeconds ?? 0}))
    const topology = buildTopology(captures)
    const timeoutFlags = {timeouts: flags.timeouts, persistence: flags.persistence, persistenceMask: flags['persistence-mask']}
    const timeouts = resolveTimeouts({flags: timeoutFlags, configs, keepalivedVersion: flags['keepalived-version']})
    const inc: Incident = {captures, topology, timeouts, persistenceKnown: timeouts.persistence !== null, kernel: kernelTraits(flags.kernel)}
    const diag = diagnoseIncident(inc, (observations) =>
      resolveTimeouts({flags: timeoutFlags, configs, keepalivedVersion: flags['keepalived-version'], observations}),
    )
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
    else if (flags.format === 'md') process.stdout.write(renderMarkdown(report))
    else this.log(renderTerminal(report))
  }
}
