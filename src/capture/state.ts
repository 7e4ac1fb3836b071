/**
 * What the format readers share while parsing one capture: the reusable record view, the consumer's
 * callback, running totals for the summary, and the warning list. Formats write into it; the push
 * driver (reader.ts) owns the byte stream.
 */
import type {CaptureRecord} from './record.js'
import {newCaptureRecord} from './record.js'
import type {CaptureWarning} from '../util/errors.js'

export interface InterfaceInfo {
  /** Running index over the whole file (what records carry as interfaceId). */
  id: number
  /** 0-based section (SHB) the interface belongs to; 0 for classic pcap. */
  section: number
  linktype: number
  snaplen: number
  tsDigits: number
  fcsLen: number
  name?: string
}

export type RecordHandler = (rec: CaptureRecord) => void

/** Enough to diagnose a damaged file without letting a hostile one fill memory. */
export const MAX_WARNINGS = 100
/** Per pcapng section: a section declaring more interfaces than this is treated as hostile. */
export const MAX_INTERFACES = 65536
/**
 * Over the whole file: interfaces are kept for the summary, so their total is bounded too, well above what
 * valid files hold (a capture concatenated from many sections of one interface each keeps reading).
 */
export const MAX_TOTAL_INTERFACES = 1 << 20

export class ReadState {
  readonly rec: CaptureRecord = newCaptureRecord()
  readonly warnings: CaptureWarning[] = []
  warningsDropped = 0
  readonly interfaces: InterfaceInfo[] = []
  readonly linktypes: number[] = []
  packets = 0
  hasFirst = false
  firstSec = 0
  firstNsec = 0
  lastSec = 0
  lastNsec = 0
  /** Set once the rest of the input must be ignored (fatal structure error). */
  stopped = false
  /** Absolute (decompressed) offset of the first byte handed to the current parse call. */
  base = 0
  /** After a parse call that left bytes over: total bytes the next unit needs, counted from its start. */
  need = 0

  constructor(
    readonly file: string,
    private readonly onRecord: RecordHandler,
  ) {}

  /** Deliver the filled-in record. Hot path: numbers only. */
  emit(): void {
    const rec = this.rec
    rec.frame = ++this.packets
    if (rec.hasTs) {
      if (!this.hasFirst) {
        this.hasFirst = true
        this.firstSec = rec.tsSec
        this.firstNsec = rec.tsNsec
      }
      this.lastSec = rec.tsSec
      this.lastNsec = rec.tsNsec
    }
    this.onRecord(rec)
  }

  /** Record a problem; `what` is phrased to follow "<file>: ". */
  warn(code: string, offset: number, what: string): void {
    if (this.warnings.length >= MAX_WARNINGS) {
      this.warningsDropped++
      return
    }
    this.warnings.push({code, offset, message: `${this.file}: ${what}`})
  }

  /** A structural error after which nothing more can be trusted: warn and ignore the rest. */
  stop(code: string, offset: number, what: string): void {
    this.warn(code, offset, what)
    this.stopped = true
  }

  addInterface(info: InterfaceInfo): boolean {
    if (this.interfaces.length >= MAX_TOTAL_INTERFACES) return false
    this.interfaces.push(info)
    if (!this.linktypes.includes(info.linktype)) this.linktypes.push(info.linktype)
    return true
  }
}
