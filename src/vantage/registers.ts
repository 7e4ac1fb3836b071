import type {CaptureRecord} from '../capture/record.js'
import type {Packet} from '../decode/packet.js'
import type {ClientPacket} from './ledger.js'

// One register, in 32-bit words: frame and seconds as Float64 (words 0-1, 2-3), then nanoseconds, seq,
// ack, payload length, IP ID and a meta word (TCP flags, present, forwarded).
const W_NSEC = 4
const W_SEQ = 5
const W_ACK = 6
const W_LEN = 7
const W_IPID = 8
const W_META = 9
const STRIDE = 10
const PRESENT = 1 << 8
const FORWARDED = 1 << 9

/**
 * A few remembered client packets per flow slot, as numbers: writing one is a handful of stores, and an
 * object is built only when a finding needs it (`get`). Register i of slot s is s * perSlot + i; each is one
 * 40-byte record, so a slot's registers share a few cache lines instead of one line per field.
 */
export class PacketRegisters {
  private cap = 0
  private u32 = new Uint32Array(0)
  private i32 = new Int32Array(0)
  private f64 = new Float64Array(0)

  constructor(readonly perSlot: number) {}

  ensureSlots(slots: number): void {
    const n = slots * this.perSlot
    if (n <= this.cap) return
    const buf = new ArrayBuffer(n * STRIDE * 4)
    const u32 = new Uint32Array(buf)
    u32.set(this.u32)
    this.u32 = u32
    this.i32 = new Int32Array(buf)
    this.f64 = new Float64Array(buf)
    this.cap = n
  }

  set(i: number, rec: CaptureRecord, pkt: Packet): void {
    const w = i * STRIDE
    this.f64[w >> 1] = rec.frame
    this.f64[(w >> 1) + 1] = rec.tsSec
    this.u32[w + W_NSEC] = rec.tsNsec
    this.u32[w + W_SEQ] = pkt.seq
    this.u32[w + W_ACK] = pkt.ack
    this.i32[w + W_LEN] = pkt.payloadLen
    this.i32[w + W_IPID] = pkt.ipId
    this.u32[w + W_META] = PRESENT | pkt.tcpFlags
  }

  copy(dst: number, src: number): void {
    const u32 = this.u32
    const d = dst * STRIDE
    const s = src * STRIDE
    for (let k = 0; k < STRIDE; k++) u32[d + k] = u32[s + k]
  }

  clear(i: number): void {
    this.u32[i * STRIDE + W_META] = 0
  }

  has(i: number): boolean {
    return (this.u32[i * STRIDE + W_META] & PRESENT) !== 0
  }

  frameOf(i: number): number {
    return this.has(i) ? this.f64[(i * STRIDE) >> 1] : -1
  }

  flagsOf(i: number): number {
    return this.u32[i * STRIDE + W_META] & 0xff
  }

  seqOf(i: number): number {
    return this.u32[i * STRIDE + W_SEQ]
  }

  markForwarded(i: number): void {
    this.u32[i * STRIDE + W_META] |= FORWARDED
  }

  /** Seconds from register a to register b (exact on the integer parts). */
  gap(a: number, b: number): number {
    const fa = (a * STRIDE) >> 1
    const fb = (b * STRIDE) >> 1
    return this.f64[fb + 1] - this.f64[fa + 1] + (this.u32[b * STRIDE + W_NSEC] - this.u32[a * STRIDE + W_NSEC]) / 1e9
  }

  get(i: number): ClientPacket | null {
    if (!this.has(i)) return null
    const w = i * STRIDE
    return {
      ref: {frame: this.f64[w >> 1], sec: this.f64[(w >> 1) + 1], nsec: this.u32[w + W_NSEC]},
      flags: this.u32[w + W_META] & 0xff,
      seq: this.u32[w + W_SEQ],
      ack: this.u32[w + W_ACK],
      len: this.i32[w + W_LEN],
      ipId: this.i32[w + W_IPID],
      forwarded: this.u32[w + W_META] & FORWARDED ? true : null,
    }
  }
}
