import {Args, Flags} from '@oclif/core'

import {analysisInputs} from '../cli/analysis-options.js'
import {LvscopeCommand} from '../cli/base.js'
import {decimalFlag, keepalivedVersionFlag, kernelFlag, netmaskFlag, timeoutsFlag} from '../cli/flags.js'
import {placementFlags} from '../cli/placement-flags.js'
import {analyzeCaptures} from '../pipeline/analyze.js'
import {writeFileAtomic} from '../cli/output.js'
import {renderHtml} from '../report/html.js'
import {renderJson} from '../report/json.js'
import {renderMarkdown} from '../report/markdown.js'
import {renderTerminal} from '../report/terminal.js'

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
    const {files, opts} = analysisInputs(argv as string[], flags, this.config.version, (m) => this.warning(m))
    const {report} = await analyzeCaptures(files, opts)
    const format = flags.json ? 'json' : flags.format
    const text =
      format === 'json' ? renderJson(report) : format === 'md' ? renderMarkdown(report) : format === 'html' ? renderHtml(report) : `${renderTerminal(report)}\n`
    if (flags.out) writeFileAtomic(flags.out, text, {inputs: [...files, ...(flags.config ?? [])]})
    else process.stdout.write(text)
  }
}
