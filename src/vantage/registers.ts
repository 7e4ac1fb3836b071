import type {CaptureRecord} from '../capture/record.js'
import type {Packet} from '../decode/packet.js'
import {grown} from '../util/columns.js'
import type {ClientPacket} from './ledger.js'

/**
 * A few remembered client packets per flow slot, as columns of numbers: writing one is a handful of stores,
 * and an object is built only when a finding needs it (`get`). Register i of slot s lives at s * perSlot + i.
 */
export class PacketRegisters {
  private cap = 0
  private present = new Uint8Array(0)
  private frame = new Float64Array(0)
  private sec = new Float64Array(0)
  private nsec = new Uint32Array(0)
  private flags = new Uint8Array(0)
  private seq = new Uint32Array(0)
  private ack = new Uint32Array(0)
  private len = new Int32Array(0)
  private ipId = new Int32Array(0)
  private fwd = new Uint8Array(0)

  constructor(readonly perSlot: number) {}

  ensureSlots(slots: number): void {
    const n = slots * this.perSlot
    if (n <= this.cap) return
    this.present = grown(this.present, n)
    this.frame = grown(this.frame, n)
    this.sec = grown(this.sec, n)
    this.nsec = grown(this.nsec, n)
    this.flags = grown(this.flags, n)
    this.seq = grown(this.seq, n)
    this.ack = grown(this.ack, n)
    this.len = grown(this.len, n)
    this.ipId = grown(this.ipId, n)
    this.fwd = grown(this.fwd, n)
    this.cap = n
  }

  set(i: number, rec: CaptureRecord, pkt: Packet): void {
    this.present[i] = 1
    this.frame[i] = rec.frame
    this.sec[i] = rec.tsSec
    this.nsec[i] = rec.tsNsec
    this.flags[i] = pkt.tcpFlags
    this.seq[i] = pkt.seq
    this.ack[i] = pkt.ack
    this.len[i] = pkt.payloadLen
    this.ipId[i] = pkt.ipId
    this.fwd[i] = 0
  }

  copy(dst: number, src: number): void {
    this.present[dst] = this.present[src]
    this.frame[dst] = this.frame[src]
    this.sec[dst] = this.sec[src]
    this.nsec[dst] = this.nsec[src]
    this.flags[dst] = this.flags[src]
    this.seq[dst] = this.seq[src]
    this.ack[dst] = this.ack[src]
    this.len[dst] = this.len[src]
    this.ipId[dst] = this.ipId[src]
    this.fwd[dst] = this.fwd[src]
  }

  clear(i: number): void {
    this.present[i] = 0
  }

  has(i: number): boolean {
    return this.present[i] === 1
  }

  frameOf(i: number): number {
    return this.present[i] === 1 ? this.frame[i] : -1
  }

  flagsOf(i: number): number {
    return this.flags[i]
  }

  seqOf(i: number): number {
    return this.seq[i]
  }

  markForwarded(i: number): void {
    this.fwd[i] = 1
  }

  /** Seconds from register a to register b (exact on the integer parts). */
  gap(a: number, b: number): number {
    return this.sec[b] - this.sec[a] + (this.nsec[b] - this.nsec[a]) / 1e9
  }

  get(i: number): ClientPacket | null {
    if (this.present[i] !== 1) return null
    return {
      ref: {frame: this.frame[i], sec: this.sec[i], nsec: this.nsec[i]},
      flags: this.flags[i],
      seq: this.seq[i],
      ack: this.ack[i],
      len: this.len[i],
      ipId: this.ipId[i],
      forwarded: this.fwd[i] === 1 ? true : null,
    }
  }
}
