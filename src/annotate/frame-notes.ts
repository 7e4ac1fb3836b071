/**
 * What each frame's comment says. Two sources: the report's findings (every evidence frame, by capture), and a
 * pass over the capture with the same DR pairer and Wireshark views the scan uses (artifacts.ts), which names
 * each forwarded copy's original and real server, and each genuine retransmission's first transmission.
 */
import type {CaptureSummary} from '../capture/reader.js'
import type {FrameAnnotations} from '../capture/pcapng-writer.js'
import {decodeCapture} from '../decode/stream.js'
import {ipv4ToString} from '../decode/format.js'
import {IPPROTO_TCP, TCP_FIN, TCP_SYN} from '../decode/packet.js'
import {TCP_A_ANY_RETRANSMISSION} from '../flow/tcp-analysis.js'
import type {Finding, Report} from '../report/report.js'
import {escapeTerminal} from '../util/escape.js'
import {ArtifactScanner} from '../vantage/artifacts.js'
import {FrameClass, macNumberToString} from '../vantage/dr-pairs.js'
import {RetransmissionOrigins} from './origins.js'

/** Every comment lvscope writes starts with this, so `frame.comment contains "lvscope"` finds them all. */
export const PREFIX = 'lvscope'
export const DR_COPY = `${PREFIX}: DR copy`
export const MIRROR_DUPLICATE = `${PREFIX}: mirror duplicate`
export const GENUINE_RETRANSMISSION = `${PREFIX}: genuine retransmission`

/** The tag that starts every comment of finding `index` (0-based); the trailing space keeps #1 apart from #10. */
export function findingTag(index: number, f: Finding): string {
  return `${PREFIX} #${index + 1} ${f.kind}`
}

/** As in artifacts.ts: a longer IP packet was merged (GRO) or not yet split (TSO) by the capturing host. */
const ETHERNET_MTU = 1500

/** A frame lvscope explains, as the note pass found it. */
const Note = {
  /** DR copy: a = original frame, b = real server MAC (as number). */
  CopyToMac: 1,
  /** NAT/TUN copy: b = the real server's IPv4 address. */
  CopyToAddress: 2,
  /** Mirror duplicate: a = the frame it repeats. */
  Duplicate: 3,
  /** Genuine retransmission: a = the first transmission (0 unknown). */
  Retransmission: 4,
} as const
type Note = (typeof Note)[keyof typeof Note]

/** Frames of one capture that the pass explains: 4 numbers each (frame, note, a, b), in frame order. */
export interface CaptureNotes {
  file: string
  summary: CaptureSummary
  drCopies: number
  duplicates: number
  retransmissions: number
  /** The notes; 4 numbers per frame noted. Memory: 32 bytes per copy or retransmission. */
  notes: Float64Array
  count: number
}

/** The note pass: one streaming read of the capture. */
export async function noteCapture(file: string): Promise<CaptureNotes> {
  const art = new ArtifactScanner({keepFlows: false})
  const pairer = art.pairer
  const origins = new RetransmissionOrigins()
  let notes = new Float64Array(4 * 1024)
  let count = 0
  let drCopies = 0
  let duplicates = 0
  let retransmissions = 0
  const add = (frame: number, note: Note, a: number, b: number): void => {
    if ((count + 1) * 4 > notes.length) {
      const grown = new Float64Array(notes.length * 2)
      grown.set(notes)
      notes = grown
    }
    const o = count++ * 4
    notes[o] = frame
    notes[o + 1] = note
    notes[o + 2] = a
    notes[o + 3] = b
  }
  const {summary} = await decodeCapture(file, (rec, pkt) => {
    const cls = art.observe(rec, pkt)
    if (cls === FrameClass.DrCopy) {
      drCopies++
      if (pairer.pairRealServerId >= 0) add(rec.frame, Note.CopyToMac, pairer.pairFrame, pairer.pairRealServer)
      else add(rec.frame, Note.CopyToAddress, pairer.pairFrame, pairer.pairRealServer)
      return
    }
    if (cls === FrameClass.SpanDuplicate) {
      duplicates++
      add(rec.frame, Note.Duplicate, pairer.pairFrame, 0)
      return
    }
    if (pkt.proto !== IPPROTO_TCP || art.lastFlow < 0) return
    // The scan's rule (artifacts.ts): a genuine retransmission is a TCP frame the copy-free view flags so, unless
    // it is an offloaded giant (IP length over the MTU), whose flags are the offload's.
    const retransmission = (art.lastGenuine & TCP_A_ANY_RETRANSMISSION) !== 0 && pkt.ipTotalLen <= ETHERNET_MTU
    const seqLen = pkt.payloadLen + (pkt.tcpFlags & TCP_SYN ? 1 : 0) + (pkt.tcpFlags & TCP_FIN ? 1 : 0)
    const first = origins.observe(art.lastSlot, art.lastFlow, art.lastIsOrig, pkt.seq, seqLen, rec.frame, retransmission)
    if (retransmission) {
      retransmissions++
      add(rec.frame, Note.Retransmission, first, 0)
    }
  })
  art.finish()
  // The same pairer and views as the scan: a count that differs means the two passes disagree, which is a bug.
  const counted = art.summary()
  if (counted.drCopies !== drCopies || counted.spanDuplicates !== duplicates || counted.genuineRetransmissions !== retransmissions) {
    throw new Error(`${file}: note pass counts (${drCopies}, ${duplicates}, ${retransmissions}) differ from the artifact summary's`)
  }
  return {file, summary, drCopies, duplicates, retransmissions, notes, count}
}

function noteText(note: number, a: number, b: number): string {
  switch (note) {
    case Note.CopyToMac:
      return `${DR_COPY} of #${a} (forwarded to ${macNumberToString(b)})`
    case Note.CopyToAddress:
      return `${DR_COPY} of #${a} (forwarded to ${ipv4ToString(b)})`
    case Note.Duplicate:
      return `${MIRROR_DUPLICATE} of #${a}`
    default:
      return a > 0 ? `${GENUINE_RETRANSMISSION} of #${a}` : `${GENUINE_RETRANSMISSION} (no earlier transmission among the flow's last 32 segments in this capture)`
  }
}

/** Comments of the report's findings on one capture's frames: frame → comments, in finding order. */
export function findingComments(report: Report, file: string): Map<number, string[]> {
  const byFrame = new Map<number, string[]>()
  report.findings.forEach((f, i) => {
    const tag = findingTag(i, f)
    let first = true
    for (const e of f.evidence) {
      if (e.file !== file) continue
      const list = byFrame.get(e.frame) ?? []
      // The first frame of a finding in each capture also carries the finding's one-line verdict.
      if (first) list.push(`${tag} (${f.cause}, ${f.confidence} confidence): ${f.summary}`)
      list.push(`${tag}: ${e.what}`)
      byFrame.set(e.frame, list)
      first = false
    }
  })
  for (const list of byFrame.values()) for (let i = 0; i < list.length; i++) list[i] = escapeTerminal(list[i])
  return byFrame
}

/** The per-capture shb_comment lines: role, clock, version, and what a dropped copy does to frame numbers. */
export function sectionComments(report: Report, file: string, copies: 'keep' | 'drop'): string[] {
  const c = report.captures.find((x) => x.file === file)
  const lines = [`${PREFIX}: annotated copy of ${file}, written by ${report.generatedBy}`]
  if (c !== undefined) {
    lines.push(`${PREFIX}: role ${c.role}${c.roleReason ? ` (${c.roleReason})` : ''}`)
    const sign = c.clockOffsetSeconds >= 0 ? '+' : '-'
    const offset = `${sign}${Math.abs(c.clockOffsetSeconds).toFixed(6)} s`
    const clock =
      c.clockSource === 'reference'
        ? 'clock reference (offset 0)'
        : c.clockSource === 'none'
          ? 'clock offset unknown'
          : `clock offset ${offset}${c.clockOffsetUncertainty > 0 ? ` ± ${c.clockOffsetUncertainty.toFixed(6)} s` : ''} against ${report.correlation.reference ?? 'the reference'} (${c.clockSource})`
    lines.push(`${PREFIX}: ${clock}`)
  }
  if (copies === 'drop') lines.push(`${PREFIX}: forwarded copies and mirror duplicates left out (--copies drop); frame numbers in comments are those of ${file}`)
  return lines.map(escapeTerminal)
}

/** The annotations one capture's output gets; frames are asked in increasing order. */
export function frameAnnotations(notes: CaptureNotes, findings: Map<number, string[]>, section: string[], copies: 'keep' | 'drop'): FrameAnnotations {
  const n = notes.notes
  let cursor = 0
  /** Index of frame's note, -1 if none; moves the cursor forward. */
  const noteOf = (frame: number): number => {
    while (cursor < notes.count && n[cursor * 4] < frame) cursor++
    return cursor < notes.count && n[cursor * 4] === frame ? cursor : -1
  }
  const none: string[] = []
  return {
    section,
    drop(frame) {
      if (copies === 'keep' || findings.has(frame)) return false
      const i = noteOf(frame)
      return i >= 0 && n[i * 4 + 1] !== Note.Retransmission
    },
    frame(frame) {
      const i = noteOf(frame)
      const own = findings.get(frame)
      if (i < 0) return own ?? none
      const text = noteText(n[i * 4 + 1], n[i * 4 + 2], n[i * 4 + 3])
      return own === undefined ? [text] : [...own, text]
    },
  }
}
