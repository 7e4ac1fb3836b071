/**
 * A capture the caller pulls from chunk by chunk: each `pump()` feeds one chunk to a CaptureParser,
 * whose callback sees that chunk's records. Plain files are read with `readSync` (no promise per
 * chunk); gzip files go through a zlib stream, so only they make `pump()` return a promise. This lets
 * several captures be merged in time order with one chunk of each in memory.
 */
import {closeSync, createReadStream, openSync, readSync} from 'node:fs'
import {createGunzip} from 'node:zlib'
import {ChainNumbering, chainMembers} from '../../capture/chain.js'
import {CaptureParser} from '../../capture/reader.js'
import type {CaptureSummary, RecordHandler} from '../../capture/reader.js'
import {LvscopeError} from '../../util/errors.js'

const CHUNK = 2 * 1024 * 1024

/**
 * A capture by name: a file, or a registered chain of rotated files (capture/chain.ts), whose members are read
 * one after the other and numbered on as one capture.
 */
export class CaptureSource {
  /** True once the input is exhausted (or the parser stopped at damage). */
  ended = false
  private cur: FileSource | null = null
  private readonly chain: ChainNumbering | null = null
  private readonly members: readonly string[] = []
  private next = 0

  constructor(
    readonly file: string,
    onRecord: RecordHandler,
  ) {
    const members = chainMembers(file)
    if (members === null) {
      this.cur = new FileSource(file, onRecord)
      return
    }
    this.chain = new ChainNumbering(file, onRecord)
    this.members = members
    this.openNext()
  }

  /** Feed the next chunk. Returns false at the end (then call `finish`). */
  pump(): boolean | Promise<boolean> {
    if (this.ended || this.cur === null) return false
    const r = this.cur.pump()
    if (typeof r === 'boolean') return r || this.advance()
    return r.then((more) => more || this.advance())
  }

  /** The summary (throws LvscopeError when nothing was readable). Closes the file. */
  finish(): CaptureSummary {
    if (this.chain === null) return (this.cur as FileSource).finish()
    this.close()
    return this.chain.summary()
  }

  close(): void {
    this.ended = true
    this.cur?.close()
  }

  /** The current file is exhausted: a plain capture ends, a chain goes on with its next member. */
  private advance(): boolean {
    const chain = this.chain
    if (chain === null || this.cur === null) {
      this.ended = true
      return false
    }
    try {
      chain.memberDone(this.cur.finish())
    } catch (e) {
      if (!(e instanceof LvscopeError)) throw e
      chain.memberFailed(e)
    }
    this.cur = null
    this.openNext()
    if (this.cur === null) this.ended = true
    return !this.ended
  }

  private openNext(): void {
    const chain = this.chain as ChainNumbering
    while (this.cur === null && this.next < this.members.length) {
      try {
        this.cur = new FileSource(this.members[this.next++], chain.handler)
      } catch (e) {
        if (!(e instanceof LvscopeError)) throw e
        chain.memberFailed(e)
      }
    }
    if (this.cur === null) this.ended = true
  }
}

/** One file, pulled chunk by chunk. */
class FileSource {
  readonly parser: CaptureParser
  /** True once the input is exhausted (or the parser stopped at damage). */
  ended = false
  private fd = -1
  private readonly buf: Buffer | null = null
  private gz: AsyncIterator<Buffer> | null = null
  private gzStream: NodeJS.ReadableStream | null = null

  constructor(
    readonly file: string,
    onRecord: RecordHandler,
  ) {
    this.parser = new CaptureParser(file, onRecord)
    try {
      this.fd = openSync(file, 'r')
    } catch (e) {
      throw new LvscopeError('io', `${file}: cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
    }
    const head = Buffer.alloc(2)
    const n = readSync(this.fd, head, 0, 2, 0)
    if (n === 2 && head[0] === 0x1f && head[1] === 0x8b) {
      closeSync(this.fd)
      this.fd = -1
      this.parser.compression = 'gzip'
      const z = createGunzip({chunkSize: 256 * 1024})
      const s = createReadStream(file, {highWaterMark: CHUNK}).pipe(z)
      this.gzStream = s
      this.gz = s[Symbol.asyncIterator]() as AsyncIterator<Buffer>
    } else {
      this.buf = Buffer.allocUnsafe(CHUNK)
    }
  }

  /** Feed the next chunk. Returns false at the end (then call `finish`). */
  pump(): boolean | Promise<boolean> {
    if (this.ended) return false
    if (this.gz !== null) return this.pumpGzip(this.gz)
    const buf = this.buf as Buffer
    let n: number
    try {
      n = readSync(this.fd, buf, 0, buf.length, null)
    } catch (e) {
      throw new LvscopeError('io', `${this.file}: read failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
    }
    if (n === 0) return this.stop()
    this.parser.push(buf.subarray(0, n))
    if (this.parser.done) return this.stop()
    return true
  }

  /** The parser's summary (throws LvscopeError when nothing was readable). Closes the file. */
  finish(): CaptureSummary {
    this.close()
    return this.parser.end()
  }

  close(): void {
    this.ended = true
    if (this.fd >= 0) {
      closeSync(this.fd)
      this.fd = -1
    }
    if (this.gzStream !== null) {
      ;(this.gzStream as unknown as {destroy(): void}).destroy()
      this.gzStream = null
      this.gz = null
    }
  }

  private stop(): false {
    this.ended = true
    return false
  }

  private async pumpGzip(it: AsyncIterator<Buffer>): Promise<boolean> {
    let r: IteratorResult<Buffer>
    try {
      r = await it.next()
    } catch (e) {
      const out = this.parser.bytesDecompressed
      const code = (e as NodeJS.ErrnoException).code
      if (out === 0) throw new LvscopeError('corrupt', `${this.file}: gzip stream unreadable (${(e as Error).message})`)
      const what = code === 'Z_BUF_ERROR' ? 'gzip stream truncated' : `gzip stream corrupt (${(e as Error).message})`
      this.parser.warnExternal('gzip', out, `${what}; stopped after ${out} decompressed bytes`)
      return this.stop()
    }
    if (r.done === true) return this.stop()
    this.parser.push(r.value)
    if (this.parser.done) return this.stop()
    return true
  }
}
