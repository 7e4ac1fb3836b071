/** Builders for protocol messages and a feeder that tracks sequence numbers like TCP would. */
import {AppStream, Dir} from '../../../src/decode/app/stream.js'

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'))
}

export function ascii(s: string): number[] {
  return [...Buffer.from(s, 'utf8')]
}

/** MySQL packet: 3-byte LE length + sequence id + payload. */
export function myPacket(seqId: number, payload: number[] | Uint8Array): number[] {
  const p = [...payload]
  return [p.length & 0xff, (p.length >> 8) & 0xff, (p.length >> 16) & 0xff, seqId, ...p]
}

export function myQuery(sql: string): number[] {
  return myPacket(0, [0x03, ...ascii(sql)])
}

/** ERR packet with SQL state (protocol 4.1). */
export function myErr(seqId: number, code: number, state: string, msg: string): number[] {
  return myPacket(seqId, [0xff, code & 0xff, code >> 8, 0x23, ...ascii(state), ...ascii(msg)])
}

function be32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
}

/** PostgreSQL typed message: type byte + BE length (including itself) + body. */
export function pgMsg(type: string, body: number[]): number[] {
  return [type.charCodeAt(0), ...be32(body.length + 4), ...body]
}

export function cstr(s: string): number[] {
  return [...ascii(s), 0]
}

export function pgStartup(params: Record<string, string>): number[] {
  const body = [...be32(196608)]
  for (const [k, v] of Object.entries(params)) body.push(...cstr(k), ...cstr(v))
  body.push(0)
  return [...be32(body.length + 4), ...body]
}

export function pgError(fields: Record<string, string>): number[] {
  const body: number[] = []
  for (const [k, v] of Object.entries(fields)) body.push(k.charCodeAt(0), ...cstr(v))
  body.push(0)
  return pgMsg('E', body)
}

/** Feeds a stream as a TCP connection would, tracking each direction's next sequence number. */
export class Conn {
  readonly seq = [1000, 500000]
  frame = 0
  time = 0
  constructor(
    readonly app: AppStream,
    withSyn = true,
  ) {
    if (withSyn) {
      app.syn(Dir.ClientToServer, this.seq[0] - 1)
      app.syn(Dir.ServerToClient, this.seq[1] - 1)
    }
  }

  /** Send bytes from `dir` as one segment; returns the segment's seq for replaying it. */
  send(dir: Dir, bytes: number[] | Uint8Array, dt = 0.001): number {
    const b = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes)
    const s = this.seq[dir]
    this.time += dt
    this.app.segment(dir, b, 0, b.length, s, ++this.frame, this.time)
    this.seq[dir] = (s + b.length) >>> 0
    return s
  }

  /** Re-send an earlier segment (retransmission / DR duplicate): same seq, same bytes. */
  replay(dir: Dir, seq: number, bytes: number[] | Uint8Array): void {
    const b = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes)
    this.app.segment(dir, b, 0, b.length, seq, ++this.frame, this.time)
  }

  /** Lose `n` bytes in `dir` (a capture drop): the next segment starts past them. */
  lose(dir: Dir, n: number): void {
    this.seq[dir] = (this.seq[dir] + n) >>> 0
  }
}
