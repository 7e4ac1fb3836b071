import {Args, Flags} from '@oclif/core'
import Table from 'cli-table3'

import {readCapture, type CaptureSummary} from '../capture/reader.js'
import {LvscopeCommand} from '../cli/base.js'
import {expandInputs} from '../cli/inputs.js'
import {linktypeName} from '../decode/linktypes.js'
import {EXIT, LvscopeError} from '../util/errors.js'
import {escapeTerminal} from '../util/escape.js'
import {epochNumber, isoTime} from '../util/time.js'

/** Digits of the finest timestamp precision among the capture's interfaces. */
function digitsOf(s: CaptureSummary): number {
  return s.interfaces.reduce((d, i) => Math.max(d, i.tsDigits), s.format === 'pcap' && s.precision === 'nano' ? 9 : 6)
}

/** last − first as exact decimal seconds with `digits` fractional digits. */
function durationText(s: CaptureSummary, digits: number): string {
  if (!s.first || !s.last) return ''
  let sec = s.last.sec - s.first.sec
  let nsec = s.last.nsec - s.first.nsec
  if (nsec < 0) {
    sec -= 1
    nsec += 1e9
  }
  const neg = sec < 0
  if (neg) {
    sec = -sec - 1
    nsec = 1e9 - nsec
    if (nsec === 1e9) {
      sec += 1
      nsec = 0
    }
  }
  return `${neg ? '-' : ''}${sec}.${String(nsec).padStart(9, '0').slice(0, digits)}`
}

export function infoJson(s: CaptureSummary) {
  const digits = digitsOf(s)
  return {
    file: s.file,
    format: s.format,
    precision: s.precision,
    compression: s.compression,
    byteOrder: s.byteOrder,
    sections: s.sections,
    linktypes: s.linktypes.map(linktypeName),
    interfaces: s.interfaces.map((i) => ({
      id: i.id,
      section: i.section,
      linktype: linktypeName(i.linktype),
      snaplen: i.snaplen,
      tsDigits: i.tsDigits,
      ...(i.name === undefined ? {} : {name: i.name}),
    })),
    packets: s.packets,
    first: s.first ? isoTime(s.first.sec, s.first.nsec, digits) : null,
    last: s.last ? isoTime(s.last.sec, s.last.nsec, digits) : null,
    firstEpoch: s.first ? epochNumber(s.first.sec, s.first.nsec) : null,
    lastEpoch: s.last ? epochNumber(s.last.sec, s.last.nsec) : null,
    durationSeconds: s.first && s.last ? Number(durationText(s, 9)) : null,
    bytes: s.bytesRead,
    warnings: s.warnings.map((w) => ({code: w.code, message: w.message, offset: w.offset})),
  }
}

export default class Info extends LvscopeCommand {
  static override description = 'Summarise capture files (like capinfos): format, link types, packets, time span, damage.'
  static override examples = ['<%= config.bin %> info samples/idle-expiry-mysql/director.pcapng', '<%= config.bin %> info --json captures/']
  static override strict = false
  static override args = {
    captures: Args.string({description: 'capture files (pcap, pcapng, gzip), directories of them, or - for stdin', required: true}),
  }
  static override flags = {
    json: Flags.boolean({description: 'print JSON (one array entry per file)'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Info)
    const files = expandInputs(argv as string[], {stdin: true, warn: (m) => this.warning(m)})
    const results: ReturnType<typeof infoJson>[] = []
    const failures: {file: string; error: string}[] = []
    let damagedEmpty = 0
    for (const file of files) {
      try {
        const summary = await readCapture(file, () => {})
        this.captureWarnings(summary.warnings)
        results.push(infoJson(summary))
        // A damaged capture that yielded no packet gave nothing useful, though its summary is still shown.
        if (summary.packets === 0 && summary.warnings.length > 0) damagedEmpty++
      } catch (err) {
        if (!(err instanceof LvscopeError)) throw err
        failures.push({file, error: err.message})
      }
    }
    if (flags.json) {
      this.printJson([...results, ...failures.map((f) => ({file: f.file, error: f.error}))])
    } else {
      for (const r of results) this.log(renderInfo(r))
      for (const f of failures) this.say(f.error)
    }
    // Non-zero only where a file gave nothing useful.
    if (failures.length > 0 || damagedEmpty > 0) this.exit(EXIT.noOutput)
  }
}

function renderInfo(r: ReturnType<typeof infoJson>): string {
  const t = new Table({style: {head: [], border: []}})
  const row = (k: string, v: string) => t.push({[k]: escapeTerminal(v)})
  row('File', r.file)
  row('Format', `${r.format}${r.compression === 'gzip' ? ' (gzip)' : ''}, ${r.byteOrder}-endian, ${r.precision}`)
  if (r.sections > 1) row('Sections', String(r.sections))
  row('Link types', r.linktypes.join(', ') || '-')
  row(
    'Interfaces',
    r.interfaces.map((i) => `#${i.id}${i.name ? ` ${i.name}` : ''} ${i.linktype} snaplen ${i.snaplen}`).join('\n') || '-',
  )
  row('Packets', String(r.packets))
  row('First', r.first ?? '-')
  row('Last', r.last ?? '-')
  row('Duration', r.durationSeconds === null ? '-' : `${r.durationSeconds} s`)
  row('Bytes', String(r.bytes))
  row('Warnings', r.warnings.length === 0 ? 'none' : r.warnings.map((w) => `[${w.code} @${w.offset}] ${w.message}`).join('\n'))
  return t.toString()
}
