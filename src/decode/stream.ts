import {readCapture, type CaptureSummary} from '../capture/reader.js'
import type {CaptureRecord} from '../capture/record.js'
import type {CaptureWarning} from '../util/errors.js'
import {decodeRecord} from './decode.js'
import {isDecodableLinktype, linktypeName} from './linktypes.js'
import {Packet, Stop} from './packet.js'
import {shardOf, shardOfRecord, type Shard} from './shard.js'

export type PacketHandler = (rec: CaptureRecord, pkt: Packet) => void

export interface DecodeStats {
  frames: number
  /** Frames whose link type we do not decode, by link type. */
  unsupported: Map<number, number>
  truncated: number
  malformed: number
}

export interface DecodeOptions {
  /**
   * Hand on only this shard's frames (see shardOf): the others are counted in stats.frames alone, and most
   * are not even decoded. Every other count then covers this shard's frames only, so shards' stats add up.
   */
  shard?: Shard
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
  const {index, count} = opts.shard ?? {index: 0, count: 1}
  const summary = await readCapture(file, (rec) => {
    stats.frames++
    if (count > 1) {
      // Most frames tell their shard from their raw bytes; the rest are decoded first.
      const s = shardOfRecord(rec, count)
      if (s >= 0 && s !== index) return
      decodeRecord(rec, pkt)
      if (s < 0 && shardOf(pkt, count) !== index) return
    } else decodeRecord(rec, pkt)
    if (!isDecodableLinktype(rec.linktype)) {
      stats.unsupported.set(rec.linktype, (stats.unsupported.get(rec.linktype) ?? 0) + 1)
    } else if (pkt.stop === Stop.Truncated) stats.truncated++
    else if (pkt.stop === Stop.Malformed) stats.malformed++
    onPacket(rec, pkt)
  })
  summary.warnings.push(...decodeWarnings(file, stats))
  return {summary, stats}
}

export const UNSUPPORTED_LINKTYPE = 'unsupported-linktype'

/** One warning per link type whose frames were counted and skipped. */
export function decodeWarnings(file: string, stats: DecodeStats): CaptureWarning[] {
  return [...stats.unsupported].map(([lt, n]) => ({
    code: UNSUPPORTED_LINKTYPE,
    message: `${file}: ${n} frame(s) of link type ${linktypeName(lt)} (${lt}) not decoded (counted and skipped)`,
    offset: -1,
  }))
}
