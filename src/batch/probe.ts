/**
 * The cheap first pass over one capture: a walk over the record headers (time span, link types, damage), a
 * decoded sample of the frames (the first ones and one in SAMPLE_EVERY after) for the TCP connections and
 * endpoints the grouping needs, and the role as `analyze` decides it (correlate's prefix passes on this file
 * alone). No flow table, no ledger: bounded memory whatever the size.
 */
import {createHash} from 'node:crypto'
import {open} from 'node:fs/promises'

import {readCapture} from '../capture/reader.js'
import {decodeRecord} from '../decode/decode.js'
import {dstAddrString, endpointString, srcAddrString} from '../decode/format.js'
import {IPPROTO_TCP, Packet, Stop, TCP_ACK, TCP_SYN} from '../decode/packet.js'
import {LvscopeError} from '../util/errors.js'
import {captureRoles} from '../vantage/correlate/index.js'
import type {FileProblem, Probe, WalkedCapture} from './types.js'

/** Frames decoded from the start of each file, then one in SAMPLE_EVERY. */
const SAMPLE_HEAD = 20_000
const SAMPLE_EVERY = 256
/** Bounds on what a probe keeps: the main thread holds every file's probe until the incidents are planned. */
const MAX_FLOWS = 512
const MAX_SERVICES = 64
/** Frames the role decision looks at (correlate uses 100,000 over all captures). */
const ROLE_FRAMES = 20_000
const MIB = 1024 * 1024

/** SHA-256 over the size, the first and the last MiB: cheap, and changes when a file is rewritten or grows. */
export async function quickHash(path: string, size: number): Promise<string> {
  const h = createHash('sha256')
  h.update(`${size}\n`)
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(Math.min(MIB, size))
    const a = await fh.read(buf, 0, buf.length, 0)
    h.update(buf.subarray(0, a.bytesRead))
    if (size > MIB) {
      const b = await fh.read(buf, 0, buf.length, Math.max(MIB, size - MIB))
      h.update(buf.subarray(0, b.bytesRead))
    }
  } finally {
    await fh.close()
  }
  return h.digest('hex')
}

export async function probeCapture(file: WalkedCapture): Promise<Probe | FileProblem> {
  const {path} = file
  const pkt = new Packet()
  const flows = new Set<string>()
  const services = new Set<string>()
  let min = Infinity
  let max = -Infinity
  let n = 0
  let summary
  let hash: string
  try {
    hash = await quickHash(path, file.size)
    summary = await readCapture(path, (rec) => {
      if (rec.hasTs) {
        const t = rec.tsSec + rec.tsNsec / 1e9
        if (t < min) min = t
        if (t > max) max = t
      }
      if (n++ >= SAMPLE_HEAD && n % SAMPLE_EVERY !== 0) return
      decodeRecord(rec, pkt)
      if (pkt.stop !== Stop.Ok || pkt.proto !== IPPROTO_TCP || pkt.ipVersion === 0) return
      const a = endpointString(srcAddrString(pkt), pkt.sport)
      const b = endpointString(dstAddrString(pkt), pkt.dport)
      if (flows.size < MAX_FLOWS) flows.add(a < b ? `${a}|${b}` : `${b}|${a}`)
      // The service side: a SYN's destination; mid-connection, the lower port (a capture may start after the SYNs).
      if (services.size < MAX_SERVICES) services.add((pkt.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN || pkt.dport < pkt.sport ? b : a)
    })
  } catch (e) {
    if (!(e instanceof LvscopeError)) throw e
    return {file: path, code: e.code, message: e.message, offset: null}
  }
  // A capture with a header and no readable record has nothing to group or analyse: it is a bad file.
  if (summary.packets === 0) {
    const w = summary.warnings[0]
    return {file: path, code: w?.code ?? 'empty-capture', message: w?.message ?? `${path}: no packet records`, offset: w !== undefined && w.offset >= 0 ? w.offset : null}
  }
  let role: Probe['role'] = 'unknown'
  let roleReason = ''
  try {
    ;[{role, reason: roleReason}] = await captureRoles([{file: path}], ROLE_FRAMES)
  } catch (e) {
    if (!(e instanceof LvscopeError)) throw e
    roleReason = e.message
  }
  return {
    ...file,
    quickHash: hash,
    first: Number.isFinite(min) ? min : null,
    last: Number.isFinite(max) ? max : null,
    packets: summary.packets,
    linktypes: summary.linktypes,
    warnings: summary.warnings,
    flows: [...flows].sort(),
    services: [...services].sort(),
    role,
    roleReason,
  }
}
