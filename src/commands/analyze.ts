import {Args, Flags} from '@oclif/core'

import {analysisInputs} from '../cli/analysis-options.js'
import {LvscopeCommand} from '../cli/base.js'
import {placementFlags} from '../cli/placement-flags.js'
import {analyzeCaptures} from '../pipeline/analyze.js'
import {renderMarkdown} from '../report/markdown.js'
import {renderTerminal} from '../report/terminal.js'
import {escapeTerminal} from '../util/escape.js'

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
    const {files, opts} = analysisInputs(argv as string[], flags, this.config.version, (m) => this.logToStderr(`lvscope: ${escapeTerminal(m)}`))
    const {report} = await analyzeCaptures(files, opts)
    if (flags.json || flags.format === 'json') this.printJson(report)
    else if (flags.format === 'md') process.stdout.write(renderMarkdown(report))
    else this.log(renderTerminal(report))
  }
}
