/**
 * The capture reader: format by magic bytes (pcap µs/ns/modified, pcapng; gzip around either),
 * incremental parsing of any chunking, and a summary with warnings instead of exceptions for damage
 * found after the file header. Records are views into the chunk being parsed, or into a carry
 * buffer for the few records that straddle two chunks.
 */
import {once} from 'node:events'
import {open} from 'node:fs/promises'
import type {Readable} from 'node:stream'
import {createGunzip} from 'node:zlib'
import {LvscopeError} from '../util/errors.js'
import type {CaptureWarning} from '../util/errors.js'
import {hex32, u32} from './bytes.js'
import {chainMembers, readChain} from './chain.js'
import type {FormatReader} from './format.js'
import {PcapReader, pcapMagic} from './pcap.js'
import {MAX_BLOCK, PcapngReader, SHB} from './pcapng.js'
import type {InterfaceInfo, RecordHandler} from './state.js'
import {MAX_WARNINGS, ReadState} from './state.js'

export type {InterfaceInfo, RecordHandler} from './state.js'
export type {CaptureRecord} from './record.js'

export interface Timestamp {
  sec: number
  nsec: number
}

export interface CaptureSummary {
  file: string
  format: 'pcap' | 'pcapng'
  /** pcap: 'micro' | 'nano'; pcapng: the finest resolution among its interfaces ('micro','nano', or e.g. '2^-30'). */
  precision: string
  compression: 'none' | 'gzip'
  byteOrder: 'little' | 'big' | 'mixed'
  sections: number
  interfaces: InterfaceInfo[]
  /** Distinct link types, in order of first appearance. */
  linktypes: number[]
  /** Packet records delivered. */
  packets: number
  /** First record with a timestamp, in file order (not the minimum). */
  first: Timestamp | null
  /** Last record with a timestamp, in file order (not the maximum). */
  last: Timestamp | null
  /** Decompressed bytes consumed. */
  bytesRead: number
  /** At most MAX_WARNINGS, plus one 'warnings-capped' entry counting the rest. */
  warnings: CaptureWarning[]
}

const MAGIC_LEN = 4

/** Incremental push parser: feed any chunking (even 1 byte at a time) → identical records. */
export class CaptureParser {
  private readonly st: ReadState
  private fmt: FormatReader | null = null
  private carry = new Uint8Array(0)
  private carryLen = 0
  private bytesIn = 0
  private fatal: LvscopeError | null = null
  private ended = false
  /** Set by readCapture when the bytes came out of gunzip. */
  compression: 'none' | 'gzip' = 'none'

  constructor(
    readonly file: string,
    onRecord: RecordHandler,
  ) {
    this.st = new ReadState(file, onRecord)
    this.st.need = MAGIC_LEN
  }

  /** True once the input is known to be unreadable (end() will throw); further input is ignored. */
  get failed(): boolean {
    return this.fatal !== null
  }

  /** True once further input would be ignored (unreadable, or stopped at damage): stop feeding. */
  get done(): boolean {
    return this.fatal !== null || this.st.stopped
  }

  /** Packets delivered so far. */
  get packets(): number {
    return this.st.packets
  }

  /** Bytes pushed so far (decompressed stream offset). */
  get bytesDecompressed(): number {
    return this.bytesIn
  }

  /** Let the byte source (e.g. gunzip) report a problem in the same list as the parser. */
  warnExternal(code: string, offset: number, what: string): void {
    this.st.warn(code, offset, what)
  }

  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('CaptureParser.push after end')
    const st = this.st
    this.bytesIn += chunk.length
    if (st.stopped) return
    let pos = 0
    const end = chunk.length
    // Finish the unit that straddles the previous chunk, copying only as many bytes as it needs.
    while (this.carryLen > 0) {
      const want = st.need - this.carryLen
      if (want > 0) {
        const take = Math.min(want, end - pos)
        this.ensureCarry(this.carryLen + take)
        this.carry.set(chunk.subarray(pos, pos + take), this.carryLen)
        this.carryLen += take
        pos += take
        if (this.carryLen < st.need) return
      }
      const used = this.parse(this.carry, 0, this.carryLen)
      if (st.stopped) {
        this.carryLen = 0
        return
      }
      if (used === this.carryLen) this.carryLen = 0
      else if (used > 0) {
        this.carry.copyWithin(0, used, this.carryLen)
        this.carryLen -= used
      } else if (st.need <= this.carryLen) {
        // A format reader broke its contract; stopping beats looping forever.
        st.stop('internal', st.base, `parser made no progress at byte ${st.base}; stopped reading`)
        this.carryLen = 0
        return
      }
    }
    if (pos >= end) return
    const p = this.parse(chunk, pos, end)
    if (st.stopped || p >= end) return
    this.ensureCarry(end - p)
    this.carry.set(chunk.subarray(p, end), 0)
    this.carryLen = end - p
  }

  /** Flush: report a partial trailing unit, then summarise. Throws LvscopeError if nothing was readable. */
  end(): CaptureSummary {
    this.ended = true
    const st = this.st
    const fmt = this.fmt
    if (this.fatal) throw this.fatal
    if (fmt === null) {
      if (this.bytesIn === 0) throw new LvscopeError('empty-file', `${this.file}: empty file (0 bytes)`)
      throw new LvscopeError(
        'not-a-capture',
        `${this.file}: not a pcap or pcapng capture (only ${this.bytesIn} bytes, too short for a file header)`,
      )
    }
    if (!fmt.headerRead) {
      const w = st.warnings[st.warnings.length - 1]
      if (st.stopped && w !== undefined) throw new LvscopeError('corrupt', w.message)
      throw new LvscopeError('truncated', `${this.file}: ${fmt.truncation(this.carry, this.carryLen)}`)
    }
    if (this.carryLen > 0 && !st.stopped) {
      st.warn('truncated', st.base, fmt.truncation(this.carry, this.carryLen))
    }
    const warnings = st.warnings.slice()
    if (st.warningsDropped > 0) {
      warnings.push({
        code: 'warnings-capped',
        offset: -1,
        message: `${this.file}: ${st.warningsDropped} more warnings not listed (first ${MAX_WARNINGS} kept)`,
      })
    }
    return {
      file: this.file,
      format: fmt.format,
      precision: fmt.precision,
      compression: this.compression,
      byteOrder: fmt.byteOrder,
      sections: fmt.sections,
      interfaces: st.interfaces.slice(),
      linktypes: st.linktypes.slice(),
      packets: st.packets,
      first: st.hasFirst ? {sec: st.firstSec, nsec: st.firstNsec} : null,
      last: st.hasFirst ? {sec: st.lastSec, nsec: st.lastNsec} : null,
      bytesRead: this.bytesIn,
      warnings,
    }
  }

  /** Run the format reader over b[pos, end); advances the stream offset by what it consumed. */
  private parse(b: Uint8Array, pos: number, end: number): number {
    const st = this.st
    if (this.fmt === null) {
      if (end - pos < MAGIC_LEN) {
        st.need = MAGIC_LEN
        return pos
      }
      this.fmt = this.sniff(b, pos)
      if (this.fmt === null) {
        st.stopped = true
        return end
      }
    }
    const p = this.fmt.parse(b, pos, end)
    st.base += p - pos
    return p
  }

  private sniff(b: Uint8Array, p: number): FormatReader | null {
    const magic = pcapMagic(b, p)
    if (magic) return new PcapReader(this.st, magic)
    if (u32(b, p, true) === SHB) return new PcapngReader(this.st)
    const gz = b[p] === 0x1f && b[p + 1] === 0x8b
    this.fatal = new LvscopeError(
      'not-a-capture',
      gz
        ? `${this.file}: gzip data inside gzip (or gzip fed to CaptureParser directly); not a pcap or pcapng capture`
        : `${this.file}: not a pcap or pcapng capture (starts with ${hex32(u32(b, p, false))})`,
    )
    return null
  }

  private ensureCarry(n: number): void {
    if (this.carry.length >= n) return
    // Bounded: a unit is at most MAX_BLOCK (pcapng) or 24 + 256 KiB (pcap); lengths are checked first.
    const size = Math.min(Math.max(n, this.carry.length * 2, 65536), MAX_BLOCK)
    const next = new Uint8Array(Math.max(size, n))
    next.set(this.carry.subarray(0, this.carryLen))
    this.carry = next
  }
}

/** Big reads amortise syscalls; records straddling two reads are rare at this size. */
const READ_SIZE = 4 * 1024 * 1024

export interface ReadOptions {
  signal?: AbortSignal
}

/**
 * Open a path (or '-' for stdin), sniff gzip by magic, stream through large buffers, parse.
 * Rejects with LvscopeError ('io', 'empty-file', 'not-a-capture', 'truncated', 'corrupt') when nothing
 * at all can be read; otherwise resolves with the summary, problems listed in its warnings.
 */
export function readCapture(source: string, onRecord: RecordHandler, opts: ReadOptions = {}): Promise<CaptureSummary> {
  if (source === '-') return readCaptureStream(process.stdin, '<stdin>', onRecord, opts)
  const members = chainMembers(source)
  if (members !== null) return readChain(source, members, onRecord, (m, h) => readCapture(m, h, opts))
  return readChunks(fileChunks(source), source, onRecord, opts)
}

/**
 * True when a second read of `source` costs only the read: a regular file (not stdin, a pipe or a device, which
 * are read once) that is not gzip (reading it again would inflate it again).
 */
export async function cheapToReread(source: string): Promise<boolean> {
  if (source === '-') return false
  const members = chainMembers(source)
  if (members !== null) return (await Promise.all(members.map(cheapToReread))).every(Boolean)
  let fh
  try {
    fh = await open(source, 'r')
    if (!(await fh.stat()).isFile()) return false
    const {buffer, bytesRead} = await fh.read(Buffer.alloc(2), 0, 2, 0)
    return !(bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b)
  } catch {
    // The scan will report why the file cannot be read.
    return false
  } finally {
    await fh?.close()
  }
}

/** The same over any byte stream (stdin, a socket, a test's Readable); `name` labels messages. */
export function readCaptureStream(
  stream: Readable,
  name: string,
  onRecord: RecordHandler,
  opts: ReadOptions = {},
): Promise<CaptureSummary> {
  return readChunks(streamChunks(stream, name), name, onRecord, opts)
}

async function readChunks(
  chunks: AsyncGenerator<Uint8Array, void, undefined>,
  name: string,
  onRecord: RecordHandler,
  opts: ReadOptions,
): Promise<CaptureSummary> {
  const parser = new CaptureParser(name, onRecord)
  const signal = opts.signal
  let gunzip: GunzipPump | null = null
  let first = true
  try {
    for await (const chunk of chunks) {
      signal?.throwIfAborted()
      if (first && chunk.length > 0) {
        first = false
        if (chunk[0] === 0x1f && (chunk.length < 2 || chunk[1] === 0x8b)) {
          gunzip = new GunzipPump(parser)
          parser.compression = 'gzip'
        }
      }
      if (gunzip) await gunzip.write(chunk)
      else parser.push(chunk)
      if (parser.done) break
    }
    if (gunzip) await gunzip.end()
  } finally {
    await chunks.return(undefined)
  }
  signal?.throwIfAborted()
  return parser.end()
}

/**
 * Sequential reads into two reusable buffers: while the parser works on one, the next read fills the other
 * (the parser copies what it keeps, so a buffer is free again by the time it is refilled).
 */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array, void, undefined> {
  let fh
  try {
    fh = await open(path, 'r')
  } catch (e) {
    throw new LvscopeError('io', `${path}: cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
  const failed = (e: unknown): LvscopeError => new LvscopeError('io', `${path}: read failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  let pending: Promise<{bytesRead: number}> | null = null
  try {
    // Small files get small buffers; unzeroed memory is fine because only bytes read are exposed.
    const size = await fh.stat().then((s) => (s.isFile() ? s.size : READ_SIZE), () => READ_SIZE)
    const len = Math.max(65536, Math.min(READ_SIZE, size + 1))
    const bufs = [Buffer.allocUnsafe(len), Buffer.allocUnsafe(len)]
    let i = 0
    pending = fh.read(bufs[0], 0, len, null)
    for (;;) {
      let n: number
      try {
        n = (await pending).bytesRead
      } catch (e) {
        pending = null
        throw failed(e)
      }
      pending = null
      if (n === 0) return
      const cur = bufs[i]
      i ^= 1
      pending = fh.read(bufs[i], 0, len, null)
      // A rejected read-ahead is reported when awaited; until then it must not count as unhandled.
      pending.catch(() => {})
      yield cur.subarray(0, n)
    }
  } finally {
    if (pending !== null) await pending.catch(() => {})
    await fh.close()
  }
}

async function* streamChunks(stream: Readable, name: string): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    for await (const c of stream) yield c as Uint8Array
  } catch (e) {
    throw new LvscopeError('io', `${name}: read failed: ${(e as Error).message}`)
  }
}

/**
 * Feeds compressed chunks through node:zlib and the output into the parser. A corrupt or truncated
 * gzip stream ends the capture with a warning (or an error if nothing was decompressed).
 */
class GunzipPump {
  // zlib drops its pending output chunk when it hits an error, so keep chunks modest.
  private readonly z = createGunzip({chunkSize: 64 * 1024})
  private error: Error | null = null
  private thrown: unknown = null
  private compressedIn = 0
  private readonly done: Promise<void>

  constructor(private readonly parser: CaptureParser) {
    this.z.on('data', (c: Uint8Array) => {
      if (parser.done || this.thrown !== null) return
      try {
        parser.push(c)
      } catch (e) {
        // The consumer's callback threw: stop inflating and rethrow from end().
        this.thrown = e
        this.z.destroy()
      }
    })
    this.done = new Promise<void>((resolve) => {
      this.z.on('error', (e) => {
        this.error = e
        resolve()
      })
      this.z.on('end', () => resolve())
      this.z.on('close', () => resolve())
    })
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.thrown !== null) throw this.thrown
    if (this.error) return
    this.compressedIn += chunk.length
    // gunzip may hold the chunk until it runs; the file reader reuses its buffer, so copy.
    const ok = this.z.write(Uint8Array.prototype.slice.call(chunk))
    if (!ok && !this.error) await Promise.race([once(this.z, 'drain'), this.done])
  }

  async end(): Promise<void> {
    if (this.thrown !== null) throw this.thrown
    if (!this.error) this.z.end()
    await this.done
    if (this.thrown !== null) throw this.thrown
    // Once the parser has stopped at damage, later inflate errors add nothing.
    if (this.error && !this.parser.done) this.report(this.error)
  }

  private report(e: Error): void {
    const p = this.parser
    const code = (e as NodeJS.ErrnoException).code
    const what = code === 'Z_BUF_ERROR' ? 'gzip stream truncated' : `gzip stream corrupt (${e.message})`
    const out = p.bytesDecompressed
    if (out === 0) {
      throw new LvscopeError('corrupt', `${p.file}: ${what} after ${this.compressedIn} compressed bytes; nothing decompressed`)
    }
    p.warnExternal('gzip', out, `${what}; stopped after ${out} decompressed bytes`)
  }
}
