import {closeSync, openSync} from 'node:fs'
import {basename, dirname, extname, join} from 'node:path'

import {Args, Flags} from '@oclif/core'

import type {CaptureSummary} from '../capture/reader.js'
import type {CaptureRecord} from '../capture/record.js'
import {PcapWriter, PcapngWriter} from '../capture/writer.js'
import {LvscopeCommand} from '../cli/base.js'
import {decodeCapture} from '../decode/stream.js'
import {FlowTracker} from '../flow/tracker.js'
import {LvscopeError, UsageError} from '../util/errors.js'
import {isSet, planDedupe, type Keep} from '../vantage/dedupe.js'

interface Output {
  path: string
  fd: number
  writer: PcapWriter | PcapngWriter
  frames: number
}

/** Same container as the input: pcapng stays pcapng (interfaces kept), pcap keeps its µs/ns precision. */
function openOutput(path: string, s: CaptureSummary): Output {
  let fd: number
  try {
    fd = openSync(path, 'w')
  } catch (err) {
    throw new LvscopeError('io', `${path}: cannot write: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  const writer =
    s.format === 'pcapng' || s.linktypes.length > 1
      ? new PcapngWriter(fd, {interfaces: s.interfaces, nano: s.precision !== 'micro'})
      : new PcapWriter(fd, {linktype: s.linktypes[0] ?? 1, snaplen: s.interfaces[0]?.snaplen || 262144, nano: s.precision === 'nano', fcsLen: s.interfaces[0]?.fcsLen ?? 0})
  return {path, fd, writer, frames: 0}
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
    if (args.capture === '-') throw new UsageError('dedupe reads its input twice: give a file, not stdin')
    const keep = flags.keep as Keep
    const plan = await planDedupe(args.capture, keep)
    const split = flags['split-by-real-server']
    const outputs = new Map<string, Output>()
    const outFor = (key: string): Output => {
      let o = outputs.get(key)
      if (o === undefined) {
        const ext = extname(flags.output)
        const path = split ? join(dirname(flags.output), `${basename(flags.output, ext)}.${key.replace(/:/g, '-')}${ext}`) : flags.output
        o = openOutput(path, plan.summary)
        outputs.set(key, o)
      }
      return o
    }
    if (!split) outFor('all')
    const flows = new FlowTracker({idleTimeoutSec: 0})
    const write = (rec: CaptureRecord, key: string): void => {
      const o = outFor(key)
      o.writer.write(rec)
      o.frames++
    }
    await decodeCapture(args.capture, (rec, pkt) => {
      const flow = flows.observe(rec, pkt)
      if (isSet(plan.drop, rec.frame)) return
      write(rec, split ? (plan.flowRealServer.get(flow) ?? 'unassigned') : 'all')
    })
    for (const o of outputs.values()) {
      await o.writer.end()
      closeSync(o.fd)
    }
    const written = [...outputs.values()].map((o) => ({file: o.path, frames: o.frames}))
    if (flags.json) {
      this.printJson({input: args.capture, packets: plan.summary.packets, dropped: plan.dropped, keep, outputs: written})
      return
    }
    this.log(`${args.capture}: ${plan.summary.packets} frames, ${plan.dropped} removed (${keep === 'inbound' ? 'forwarded copies' : 'inbound originals of forwarded frames'} and mirror duplicates)`)
    for (const w of written) this.log(`  wrote ${w.file}: ${w.frames} frames`)
  }
}
