/**
 * Public types of cross-capture correlation: what the caller passes in, and what comes back.
 * Times called `epoch` are seconds since 1970 in the reference clock (the reference capture's clock).
 */
import type {CorrelationFlow, ReportCapture, Role} from '../../report/report.js'

export interface CorrelateInput {
  file: string
  /** Role forced by the caller (`--director FILE`, `--real-server FILE`); inferred when absent. */
  role?: Role
  /** Capture time minus reference time (`--clock-offset FILE=SECONDS`); estimated when absent. */
  clockOffsetSeconds?: number
}

/** A frame the caller wants followed across captures ("was director frame N seen at the real server?"). */
export interface FrameQuery {
  file: string
  frame: number
}

export interface CorrelateOptions {
  /** Frames read from the start of each capture to infer roles and a coarse clock offset. Default 100 000. */
  prefixFrames?: number
  /** Longest one-way transit accepted between two capture points, seconds. Default 0.2. */
  maxTransitSeconds?: number
  /** Notable (not delivered) packets listed; the rest are only counted. Default 1000. */
  maxNotable?: number
  /** Flows listed in `flows` (those with problems first). Default 100 000. */
  maxFlows?: number
  /** Frames to answer about in `answers` (bounded by the caller). */
  queries?: FrameQuery[]
  signal?: AbortSignal
  /**
   * Decode each capture in a worker thread (default: when the compiled worker module exists, i.e. when
   * running from dist/). False keeps everything in the calling thread.
   */
  threads?: boolean
}

/** What became of one client packet (or reply) between the capture points. */
export type Fate =
  | 'delivered'
  /** Outbound at a director, never at the real server it was sent to. */
  | 'lost-on-path'
  /** Inbound at a director and never forwarded (dropped, or answered by the director's own stack). */
  | 'not-forwarded'
  /** At a real server with no director capture showing it (arrived through another director). */
  | 'only-at-real-server'
  /** Sent by the client (its own capture) and seen at no director. */
  | 'lost-before-director'
  /** A reply seen leaving the real server and never at the client. */
  | 'reply-lost'

/** Where one capture saw a packet. */
export type Point = 'client-out' | 'director-in' | 'director-out' | 'real-server-in' | 'real-server-out' | 'client-in'

export interface Sighting {
  file: string
  frame: number
  point: Point
  /** Reference-clock time. */
  epoch: number
}

export interface NotablePacket {
  fate: Fate
  /** The frame that proves the fate (director frame for lost/not-forwarded, real-server frame otherwise). */
  file: string
  frame: number
  epoch: number
  flow: {client: string; service: string}
  /** e.g. "PA seq=1234 len=87". */
  what: string
  /** Every capture point that did see it. */
  sightings: Sighting[]
}

export interface FrameAnswer {
  file: string
  frame: number
  /** False when the frame was not a client↔service packet, or not reached (beyond the capture, bad number). */
  found: boolean
  fate: Fate | null
  sightings: Sighting[]
}

export interface CorrelatedCapture extends ReportCapture {
  /** Reference time at which `clockOffsetSeconds` holds (drift applies around it); null when not estimated. */
  clockOffsetAtEpoch: number | null
  /** Matched packets the estimate rests on (0 for reference / flag / none). */
  clockPoints: number
  /** The capture host's own MAC addresses as seen in the capture (director MAC, real-server MACs, client MAC). */
  macs: string[]
}

export interface CorrelationTotals {
  delivered: number
  /** Of `delivered`: matched through TCP byte ranges (TSO/GRO changed frame boundaries). */
  byteRangeMatched: number
  lostOnPath: number
  notForwarded: number
  onlyAtRealServer: number
  lostBeforeDirector: number
  repliesDelivered: number
  replyLost: number
  /** Packets whose fate cannot be judged: the other capture point did not cover that time or that server. */
  unjudged: number
  /** Repeats of a frame within one capture (SPAN / `-i any` on stacked interfaces), ignored. */
  duplicates: number
}

export interface CorrelationResult {
  /** File of the reference capture (clock offset 0), null when there is nothing to correlate. */
  reference: string | null
  captures: CorrelatedCapture[]
  vips: string[]
  services: string[]
  flows: CorrelationFlow[]
  /** Flows not listed because of `maxFlows`. */
  flowsOmitted: number
  totals: CorrelationTotals
  notable: NotablePacket[]
  /** Notable packets counted but not listed because of `maxNotable`. */
  notableOmitted: number
  answers: FrameAnswer[]
}
