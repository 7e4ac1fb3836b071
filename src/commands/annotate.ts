import {Args, Flags} from '@oclif/core'

import {coloringRules} from '../annotate/coloring.js'
import {findingComments, frameAnnotations, noteCapture, sectionComments} from '../annotate/frame-notes.js'
import {outputPaths, writeAnnotated, writeAtomically} from '../annotate/output.js'
import {analysisInputs} from '../cli/analysis-options.js'
import {LvscopeCommand} from '../cli/base.js'
import {analyzeCaptures} from '../pipeline/analyze.js'
import {escapeTerminal} from '../util/escape.js'
import Analyze from './analyze.js'

// analyze's own flags, less its output format: the analysis is the same, only the output differs.
const {format: _format, json: _json, out: _out, ...analysisFlags} = Analyze.flags

export default class Annotate extends LvscopeCommand {
  static override description =
    "Write each capture as pcapng with lvscope's findings as packet comments (DR copies, genuine retransmissions, every finding's evidence frames), for Wireshark's frame.comment; optionally a colouring-rules file."
  static override examples = [
    '<%= config.bin %> annotate samples/idle-expiry-mysql --timeouts 6,3,30 -o annotated',
    '<%= config.bin %> annotate director.pcap rs1.pcap -o out --copies drop --coloring-rules out/colorfilters',
  ]
  static override strict = false
  static override args = Analyze.args
  static override flags = {
    ...analysisFlags,
    output: Flags.string({char: 'o', description: 'output directory (created if missing); one <capture>.pcapng per input', required: true}),
    copies: Flags.string({description: "the director's forwarded copies and mirror duplicates: keep them (commented) or drop them", options: ['keep', 'drop'], default: 'keep'}),
    'coloring-rules': Flags.string({description: 'also write a Wireshark colouring-rules file (install it as colorfilters in a profile)'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Annotate)
    const {files, opts} = analysisInputs(argv as string[], flags, this.config.version, (m) => this.warning(m))
    const copies = flags.copies === 'drop' ? 'drop' : 'keep'
    const {report, scans} = await analyzeCaptures(files, opts)
    const paths = outputPaths(scans.map((s) => s.file), flags.output)
    for (const [i, scan] of scans.entries()) {
      const notes = await noteCapture(scan.file)
      const ann = frameAnnotations(notes, findingComments(report, scan.file), sectionComments(report, scan.file, copies), copies)
      const res = await writeAnnotated(scan.file, notes.summary, paths[i], ann)
      if (res.damage !== null) this.warning(res.damage)
      this.log(
        escapeTerminal(
          `wrote ${paths[i]}: ${res.written} of ${res.frames} frames, ${res.commented} with comments (${notes.drCopies} DR copies, ${notes.duplicates} mirror duplicates, ${notes.retransmissions} genuine retransmissions${copies === 'drop' ? '; copies dropped' : ''})`,
        ),
      )
    }
    const rules = flags['coloring-rules']
    if (rules !== undefined) {
      const text = new TextEncoder().encode(coloringRules(report))
      await writeAtomically(rules, async (write) => write(text))
      this.log(escapeTerminal(`wrote ${rules}: ${report.findings.length + 2} colouring rules`))
    }
  }
}
