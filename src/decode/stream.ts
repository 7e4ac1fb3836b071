import {readCapture, type CaptureSummary} from '../capture/reader.js'
import type {CaptureRecord} from '../capture/record.js'
import type {CaptureWarning} from '../util/errors.js'
import {decodeRecord} from './decode.js'
import {isDecodableLinktype, linktypeName} from './linktypes.js'
import {Packet, Stop} from './packet.js'

export type PacketHandler = (rec: CaptureRecord, pkt: Packet) => void

export interface DecodeStats {
  frames: number
  /** Frames whose link type we do not decode, by link type. */
  unsupported: Map<number, number>
  truncated: number
  malformed: number
}

export interface DecodeOptions {
  /** Decode (and hand on) only the records this accepts; the others are counted in stats.frames alone. */
  want?: (rec: CaptureRecord) => boolean
}

/**
 * Read and decode a capture in one streaming pass, with one reused Packet. Frames of link types we do not
 * decode are counted (and reported as one warning per link type), never fatal.
 */
export async function decodeCapture(
  file: string,
  onPacket: PacketHandler,
  opts: DecodeOptions = {},
): Promise<{summary: CaptureSummary; stats: DecodeStats}> {
  const pkt = new Packet()
  const stats: DecodeStats = {frames: 0, unsupported: new Map(), truncated: 0, malformed: 0}
  const want = opts.want
  const summary = await readCapture(file, (rec) => {
    stats.frames++
    if (want !== undefined && !want(rec)) return
    decodeRecord(rec, pkt)
    if (!isDecodableLinktype(rec.linktype)) {
      stats.unsupported.set(rec.linktype, (stats.unsupported.get(rec.linktype) ?? 0) + 1)
    } else if (pkt.stop === Stop.Truncated) stats.truncated++
    else if (pkt.stop === Stop.Malformed) stats.malformed++
    onPacket(rec, pkt)
  })
  for (const [lt, n] of stats.unsupported) {
    const w: CaptureWarning = {
      code: 'unsupported-linktype',
      message: `${file}: ${n} frame(s) of link type ${linktypeName(lt)} (${lt}) not decoded (counted and skipped)`,
      offset: -1,
    }
    summary.warnings.push(w)
  }
  return {summary, stats}
}
