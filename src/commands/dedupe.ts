import {basename, dirname, extname, join} from 'node:path'

import {Args, Flags} from '@oclif/core'

import type {CaptureSummary} from '../capture/reader.js'
import type {CaptureRecord} from '../capture/record.js'
import {PcapWriter, PcapngWriter} from '../capture/writer.js'
import {LvscopeCommand} from '../cli/base.js'
import {singleInput} from '../cli/inputs.js'
import {checkOutput, openAtomicOutput, type AtomicOutput} from '../cli/output.js'
import {decodeCapture} from '../decode/stream.js'
import {FlowTracker} from '../flow/tracker.js'
import {ioError, UsageError} from '../util/errors.js'
import {escapeTerminal} from '../util/escape.js'
import {isSet, planDedupe, type Keep} from '../vantage/dedupe.js'

interface Output {
  file: AtomicOutput
  writer: PcapWriter | PcapngWriter
  frames: number
}

/** Same container as the input: pcapng stays pcapng (interfaces kept), pcap keeps its µs/ns precision. */
function openOutput(path: string, s: CaptureSummary, input: string): Output {
  const file = openAtomicOutput(path, {inputs: [input]})
  const fd = file.fd
  const writer =
    s.format === 'pcapng' || s.linktypes.length > 1
      ? new PcapngWriter(fd, {interfaces: s.interfaces, nano: s.precision !== 'micro'})
      : new PcapWriter(fd, {linktype: s.linktypes[0] ?? 1, snaplen: s.interfaces[0]?.snaplen || 262144, nano: s.precision === 'nano', fcsLen: s.interfaces[0]?.fcsLen ?? 0})
  return {file, writer, frames: 0}
}

export default class Dedupe extends LvscopeCommand {
  static override description =
    "Write a capture without the LVS director's forwarded copies (and mirror duplicates), so Wireshark shows only genuine TCP flags."
  static override examples = [
    '<%= config.bin %> dedupe director.pcap -o director.clean.pcap',
    '<%= config.bin %> dedupe director.pcapng -o clean.pcapng --keep outbound --split-by-real-server',
  ]
  static override args = {
    capture: Args.string({description: 'a director capture (pcap, pcapng, gzip); it is read twice, so not stdin', required: true}),
  }
  static override flags = {
    output: Flags.string({char: 'o', description: 'output capture file', required: true}),
    keep: Flags.string({description: 'which copy of each forwarded frame to keep', options: ['inbound', 'outbound'], default: 'inbound'}),
    'split-by-real-server': Flags.boolean({description: 'one output per real server (OUTPUT.<mac>.ext), plus OUTPUT.unassigned.ext for the rest'}),
    json: Flags.boolean({description: 'print what was written as JSON'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Dedupe)
    const input = singleInput(args.capture, false)
    if (flags.output === '-') throw new UsageError('-o -: dedupe writes a capture file, not stdout; give a file name (./- for a file named "-")')
    const keep = flags.keep as Keep
    const split = flags['split-by-real-server']
    const outPath = (key: string): string => {
      const ext = extname(flags.output)
      return split ? join(dirname(flags.output), `${basename(flags.output, ext)}.${key.replace(/:/g, '-')}${ext}`) : flags.output
    }
    // Before the input is read twice: an output that is the input would be truncated before the second read.
    if (!split) checkOutput(outPath('all'), {inputs: [input]})
    const plan = await planDedupe(input, keep)
    this.captureWarnings(plan.summary.warnings)
    const outputs = new Map<string, Output>()
    // The writers write straight to the descriptor: a full disk or a refusing file surfaces as an errno error,
    // named here by the output being written.
    let current: Output | null = null
    const outFor = (key: string): Output => {
      let o = outputs.get(key)
      if (o === undefined) {
        o = openOutput(outPath(key), plan.summary, input)
        outputs.set(key, o)
      }
      return o
    }
    try {
      if (!split) outFor('all')
      const flows = new FlowTracker({idleTimeoutSec: 0})
      const write = (rec: CaptureRecord, key: string): void => {
        const o = outFor(key)
        current = o
        o.writer.write(rec)
        o.frames++
      }
      await decodeCapture(input, (rec, pkt) => {
        const flow = flows.observe(rec, pkt)
        if (isSet(plan.drop, rec.frame)) return
        write(rec, split ? (plan.flowRealServer.get(flow) ?? 'unassigned') : 'all')
      })
      for (const o of outputs.values()) {
        current = o
        await o.writer.end()
      }
    } catch (err) {
      for (const o of outputs.values()) o.file.abort()
      const failing: Output | null = current
      throw (err as NodeJS.ErrnoException).syscall === 'write' ? ioError(failing?.file.path ?? flags.output, err, 'write') : err
    }
    // Only once every output was written in full: each is renamed into place.
    for (const o of outputs.values()) o.file.commit()
    const written = [...outputs.values()].map((o) => ({file: o.file.path, frames: o.frames}))
    if (flags.json) {
      this.printJson({input, packets: plan.summary.packets, dropped: plan.dropped, keep, outputs: written})
      return
    }
    this.log(`${escapeTerminal(input)}: ${plan.summary.packets} frames, ${plan.dropped} removed (${keep === 'inbound' ? 'forwarded copies' : 'inbound originals of forwarded frames'} and mirror duplicates)`)
    for (const w of written) this.log(`  wrote ${escapeTerminal(w.file)}: ${w.frames} frames`)
  }
}
