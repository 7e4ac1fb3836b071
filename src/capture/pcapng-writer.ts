/**
 * A pcapng copy of a pcapng capture with comments added: every block is copied as it is (interfaces, name
 * resolution, statistics, decryption secrets, custom blocks, their options and comments), in its section's byte
 * order, except that
 * - each SHB gets the caller's shb_comment options (and an unknown section length, since blocks grow),
 * - a packet block to comment gets opt_comment options before its end of options (existing options kept),
 * - the obsolete Packet Block becomes an Enhanced Packet Block (same fields; its drops count as epb_dropcount),
 * - a Simple Packet Block to comment becomes an EPB on interface 0 with time 0 (an SPB has no options);
 *   uncommented SPBs stay, so "no timestamp" stays too,
 * - a frame to drop is left out.
 * Frames are numbered as the reader numbers them: packet blocks in file order, sections of an unreadable
 * version (copied but not counted) excepted.
 */
import {createReadStream} from 'node:fs'
import {open} from 'node:fs/promises'
import type {Readable} from 'node:stream'
import {createGunzip} from 'node:zlib'

import {LvscopeError} from '../util/errors.js'
import {hex32, u16, u32} from './bytes.js'
import {MAX_BLOCK, SHB} from './pcapng.js'

const IDB = 1
const PB = 2
const SPB = 3
const EPB = 6
const BOM = 0x1a2b3c4d
const OPT_COMMENT = 1
const EPB_DROPCOUNT = 4
const STAGE = 1024 * 1024
/** An option's length field is 16 bits. */
const MAX_OPTION = 0xfffc

export interface FrameAnnotations {
  /** shb_comment options for every section header. */
  readonly section: readonly string[]
  /** Comments for frame n (1-based), empty for none; asked once per frame, in increasing order. */
  frame(n: number): readonly string[]
  /** True: leave frame n out. */
  drop(n: number): boolean
}

export interface CopyResult {
  /** Frames read from the input / written to the output. */
  frames: number
  written: number
  commented: number
  /** Damage that ended the copy early, in words ("<file>: …"); null when the whole input was copied. */
  damage: string | null
}

const utf8 = new TextEncoder()

/** One option's value bytes, cut to what a 16-bit length can hold (at a character boundary). */
export function optionBytes(text: string): Uint8Array {
  let b = utf8.encode(text)
  if (b.length > MAX_OPTION) {
    let n = MAX_OPTION
    while (n > 0 && (b[n] & 0xc0) === 0x80) n--
    b = b.subarray(0, n)
  }
  return b
}

function pad4(n: number): number {
  return (n + 3) & ~3
}

/** Space the encoded options take (header + padded value each). */
function optionsSize(opts: readonly Uint8Array[]): number {
  let n = 0
  for (const o of opts) n += 4 + pad4(o.length)
  return n
}

/** Buffered synchronous writes to a file descriptor, in either byte order. */
export class BlockSink {
  private readonly buf = Buffer.alloc(STAGE)
  private len = 0
  bytesWritten = 0

  constructor(private readonly write: (b: Uint8Array) => void) {}

  private room(n: number): void {
    if (this.len + n > this.buf.length) this.flush()
  }
  u16(v: number, le: boolean): void {
    this.room(2)
    if (le) this.buf.writeUInt16LE(v, this.len)
    else this.buf.writeUInt16BE(v, this.len)
    this.len += 2
    this.bytesWritten += 2
  }
  u32(v: number, le: boolean): void {
    this.room(4)
    if (le) this.buf.writeUInt32LE(v >>> 0, this.len)
    else this.buf.writeUInt32BE(v >>> 0, this.len)
    this.len += 4
    this.bytesWritten += 4
  }
  bytes(src: Uint8Array, off: number, n: number): void {
    if (n > this.buf.length - this.len) {
      this.flush()
      if (n > this.buf.length) {
        this.write(src.subarray(off, off + n))
        this.bytesWritten += n
        return
      }
    }
    this.buf.set(src.subarray(off, off + n), this.len)
    this.len += n
    this.bytesWritten += n
  }
  zero(n: number): void {
    for (let i = 0; i < n; i++) {
      this.room(1)
      this.buf[this.len++] = 0
    }
    this.bytesWritten += n
  }
  /** One option: code, length, value padded to 4 bytes. */
  option(code: number, value: Uint8Array, le: boolean): void {
    this.u16(code, le)
    this.u16(value.length, le)
    this.bytes(value, 0, value.length)
    this.zero(pad4(value.length) - value.length)
  }
  flush(): void {
    if (this.len === 0) return
    this.write(this.buf.subarray(0, this.len))
    this.len = 0
  }
}

/** End of the well-formed options in b[o, end): at opt_endofopt, at the end, or before an option that overruns. */
function optionsEnd(b: Uint8Array, o: number, end: number, le: boolean): number {
  while (o + 4 <= end) {
    const code = u16(b, o, le)
    const olen = u16(b, o + 2, le)
    if (code === 0) return o
    if (o + 4 + olen > end) return o
    o += 4 + pad4(olen)
  }
  return Math.min(o, end)
}

async function decompressed(source: string): Promise<Readable> {
  let head: Buffer
  try {
    const fh = await open(source, 'r')
    try {
      head = (await fh.read(Buffer.alloc(2), 0, 2, 0)).buffer
    } finally {
      await fh.close()
    }
  } catch (e) {
    throw new LvscopeError('io', `${source}: cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
  const raw = createReadStream(source, {highWaterMark: 1024 * 1024})
  if (head[0] !== 0x1f || head[1] !== 0x8b) return raw
  const z = createGunzip()
  raw.on('error', (e) => z.destroy(e))
  return raw.pipe(z)
}

/**
 * Copy the pcapng capture `source` (plain or gzip) to `write`, annotated; see the module comment. `write` gets views
 * of a reused buffer: it must consume (or copy) the bytes before it returns.
 */
export async function copyPcapngAnnotated(source: string, write: (b: Uint8Array) => void, ann: FrameAnnotations): Promise<CopyResult> {
  const out = new BlockSink(write)
  const shbComments = ann.section.map(optionBytes)
  const res: CopyResult = {frames: 0, written: 0, commented: 0, damage: null}
  let le = true
  let skipping = false
  let sawShb = false
  /** Snaplen of interface 0 in this section (an SPB's data is cut there), -1 before its IDB. */
  let snaplen0 = -1
  let at = 0
  let pending: Buffer = Buffer.alloc(0)
  const stop = (what: string): void => {
    res.damage = `${source}: ${what}; the rest of the file is not copied`
  }

  const comments = (n: number): Uint8Array[] => {
    const c = ann.frame(n)
    return c.length === 0 ? [] : c.map(optionBytes)
  }

  const shb = (b: Uint8Array, p: number, len: number): void => {
    const major = u16(b, p + 12, le)
    const minor = u16(b, p + 14, le)
    skipping = !(major === 1 && (minor === 0 || minor === 2))
    snaplen0 = -1
    if (skipping || len < 28) {
      out.bytes(b, p, len)
      return
    }
    const oEnd = optionsEnd(b, p + 24, p + len - 4, le)
    const kept = oEnd - (p + 24)
    const total = 24 + kept + optionsSize(shbComments) + 4 + 4
    out.u32(SHB, le)
    out.u32(total, le)
    out.bytes(b, p + 8, 8) // byte-order magic, version
    out.u32(0xffffffff, le) // section length: unknown, since blocks change size
    out.u32(0xffffffff, le)
    out.bytes(b, p + 24, kept)
    for (const c of shbComments) out.option(OPT_COMMENT, c, le)
    out.u32(0, le)
    out.u32(total, le)
  }

  /** An EPB (or PB converted to one) with comments; `obsolete` for a PB. */
  const timed = (b: Uint8Array, p: number, len: number, obsolete: boolean, notes: Uint8Array[]): void => {
    const caplen = u32(b, p + 20, le)
    const dataEnd = p + 28 + pad4(caplen)
    const oEnd = optionsEnd(b, dataEnd, p + len - 4, le)
    const kept = oEnd - dataEnd
    const drops = obsolete ? u16(b, p + 10, le) : 0xffff
    const dropOpt = obsolete && drops !== 0xffff ? 12 : 0
    const total = 28 + pad4(caplen) + kept + dropOpt + optionsSize(notes) + 4 + 4
    out.u32(EPB, le)
    out.u32(total, le)
    out.u32(obsolete ? u16(b, p + 8, le) : u32(b, p + 8, le), le)
    out.bytes(b, p + 12, 16 + pad4(caplen)) // timestamp, lengths, data
    out.bytes(b, dataEnd, kept)
    if (dropOpt > 0) {
      out.u16(EPB_DROPCOUNT, le)
      out.u16(8, le)
      out.u32(le ? drops : 0, le)
      out.u32(le ? 0 : drops, le)
    }
    for (const c of notes) out.option(OPT_COMMENT, c, le)
    out.u32(0, le)
    out.u32(total, le)
  }

  const simpleAsEpb = (b: Uint8Array, p: number, len: number, notes: Uint8Array[]): void => {
    const origlen = u32(b, p + 8, le)
    let caplen = Math.min(origlen, len - 16)
    if (snaplen0 > 0 && caplen > snaplen0) caplen = snaplen0
    const total = 28 + pad4(caplen) + optionsSize(notes) + 4 + 4
    out.u32(EPB, le)
    out.u32(total, le)
    out.u32(0, le)
    out.u32(0, le)
    out.u32(0, le)
    out.u32(caplen, le)
    out.u32(origlen, le)
    out.bytes(b, p + 12, caplen)
    out.zero(pad4(caplen) - caplen)
    for (const c of notes) out.option(OPT_COMMENT, c, le)
    out.u32(0, le)
    out.u32(total, le)
  }

  const block = (b: Uint8Array, p: number, len: number, type: number): void => {
    if (type === SHB) return shb(b, p, len)
    if (skipping) return out.bytes(b, p, len)
    if (type === IDB) {
      if (snaplen0 < 0 && len >= 20) snaplen0 = u32(b, p + 12, le)
      return out.bytes(b, p, len)
    }
    const packet = type === EPB || type === PB || type === SPB
    if (!packet || len < (type === SPB ? 16 : 32)) return out.bytes(b, p, len)
    const n = ++res.frames
    if (ann.drop(n)) return
    res.written++
    const notes = comments(n)
    if (notes.length > 0) res.commented++
    if (type === SPB) {
      if (notes.length === 0) out.bytes(b, p, len)
      else simpleAsEpb(b, p, len, notes)
    } else if (type === EPB && notes.length === 0) out.bytes(b, p, len)
    else if (u32(b, p + 20, le) > len - 32) out.bytes(b, p, len) // damaged: the reader stops here; copied as is
    else timed(b, p, len, type === PB, notes)
  }

  const stream = await decompressed(source)
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      let p = 0
      while (res.damage === null && pending.length - p >= 12) {
        const b = pending
        const type = u32(b, p, le)
        if (type === SHB) {
          if (u32(b, p + 8, true) === BOM) le = true
          else if (u32(b, p + 8, false) === BOM) le = false
          else {
            stop(`section header block at byte ${at} has a bad byte-order magic`)
            break
          }
          sawShb = true
        } else if (!sawShb) {
          stop(`block at byte ${at} precedes any section header block`)
          break
        }
        const len = u32(b, p + 4, le)
        if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
          stop(`block type ${hex32(type)} at byte ${at} has bad length ${len}`)
          break
        }
        if (b.length - p < len) break
        if (u32(b, p + len - 4, le) !== len) {
          stop(`block type ${hex32(type)} at byte ${at}: trailing length != leading length ${len}`)
          break
        }
        block(b, p, len, type)
        p += len
        at += len
      }
      if (res.damage !== null) break
      pending = p === 0 ? pending : pending.subarray(p)
      // The carried tail is copied out of the stream's chunk (which the stream may reuse) by the next concat.
    }
  } catch (e) {
    if (e instanceof LvscopeError) throw e
    const code = (e as NodeJS.ErrnoException).code
    res.damage = `${source}: ${code === 'Z_BUF_ERROR' ? 'gzip stream truncated' : `read failed (${(e as Error).message})`} after ${at} bytes`
  } finally {
    stream.destroy()
  }
  if (res.damage === null && pending.length > 0) res.damage = `${source}: truncated block at byte ${at} (${pending.length} bytes left)`
  out.flush()
  return res
}
