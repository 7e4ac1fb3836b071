/**
 * Where annotate writes and how: one pcapng per input in the output directory, each written to a temporary file
 * beside it and renamed into place, never over one of the inputs.
 */
import {closeSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {basename, join} from 'node:path'

import {copyPcapngAnnotated, type CopyResult, type FrameAnnotations} from '../capture/pcapng-writer.js'
import {readCapture, type CaptureSummary} from '../capture/reader.js'
import {PcapngWriter} from '../capture/writer.js'
import {LvscopeError} from '../util/errors.js'

const errno = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err)

/**
 * Output path per input: its base name without `.gz`, extension `.pcapng`; inputs of equal names get `-2`, `-3` …
 * in input order. Creates the directory; refuses a path that is one of the inputs (same device and inode).
 */
export function outputPaths(inputs: readonly string[], dir: string): string[] {
  try {
    mkdirSync(dir, {recursive: true})
  } catch (err) {
    throw new LvscopeError('io', `${dir}: cannot create the output directory: ${errno(err)}`)
  }
  let st
  try {
    st = statSync(dir)
  } catch (err) {
    throw new LvscopeError('io', `${dir}: cannot use the output directory: ${errno(err)}`)
  }
  if (!st.isDirectory()) throw new LvscopeError('io', `${dir}: not a directory`)
  const ids = new Set<string>()
  for (const f of inputs) {
    try {
      const s = statSync(f)
      ids.add(`${s.dev}:${s.ino}`)
    } catch {
      // An input that cannot be stat'ed was not read either; nothing to protect.
    }
  }
  const taken = new Set<string>()
  return inputs.map((f) => {
    const stem = basename(f).replace(/\.gz$/i, '').replace(/\.(pcapng|pcap|cap|ntar)$/i, '')
    let name = `${stem}.pcapng`
    for (let k = 2; taken.has(name); k++) name = `${stem}-${k}.pcapng`
    taken.add(name)
    const path = join(dir, name)
    try {
      const s = statSync(path)
      if (ids.has(`${s.dev}:${s.ino}`)) throw new LvscopeError('io', `${path}: is one of the inputs; give another output directory`)
    } catch (err) {
      if (err instanceof LvscopeError) throw err
    }
    return path
  })
}

/** Write `path` through a temporary file in the same directory, renamed over it once complete. */
export async function writeAtomically<T>(path: string, fill: (write: (b: Uint8Array) => void, fd: number) => Promise<T>): Promise<T> {
  const tmp = join(path, '..', `.${basename(path)}.${process.pid}.tmp`)
  let fd: number
  try {
    fd = openSync(tmp, 'wx', 0o644)
  } catch (err) {
    throw new LvscopeError('io', `${path}: cannot write: ${errno(err)}`)
  }
  let done = false
  try {
    const write = (b: Uint8Array): void => {
      let off = 0
      while (off < b.length) off += writeSync(fd, b, off, b.length - off)
    }
    const result = await fill(write, fd)
    closeSync(fd)
    fd = -1
    renameSync(tmp, path)
    done = true
    return result
  } catch (err) {
    if (err instanceof LvscopeError || !(err as NodeJS.ErrnoException).code) throw err
    throw new LvscopeError('io', `${path}: cannot write: ${errno(err)}`)
  } finally {
    if (fd >= 0) closeSync(fd)
    if (!done) {
      try {
        unlinkSync(tmp)
      } catch {
        // Already gone.
      }
    }
  }
}

/**
 * Write the annotated pcapng of one capture. A pcapng input is copied block by block (pcapng-writer.ts); a pcap
 * input becomes one section with one interface of its link type, snaplen, FCS length and precision (if_tsresol 6
 * or 9, so every timestamp is kept exactly).
 */
export function writeAnnotated(input: string, summary: CaptureSummary, path: string, ann: FrameAnnotations): Promise<CopyResult> {
  return writeAtomically(path, async (write, fd) => {
    if (summary.format === 'pcapng') return copyPcapngAnnotated(input, write, ann)
    const res: CopyResult = {frames: 0, written: 0, commented: 0, damage: null}
    const w = new PcapngWriter(fd, {interfaces: summary.interfaces, nano: summary.precision === 'nano', comments: ann.section})
    // Damage in a pcap input was reported by the analysis; the copy ends where the reader stops, as the scan did.
    await readCapture(input, (rec) => {
      res.frames++
      if (ann.drop(rec.frame)) return
      const notes = ann.frame(rec.frame)
      if (notes.length > 0) res.commented++
      w.write(rec, notes)
      res.written++
    })
    await w.end()
    return res
  })
}
