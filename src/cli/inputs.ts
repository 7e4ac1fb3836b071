import {closeSync, openSync, readSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {errnoReason, LvscopeError, UsageError} from '../util/errors.js'

/** Leading bytes that mark a capture (pcap both orders/µs/ns/modified, pcapng SHB) or a gzip stream. */
const MAGICS = [
  [0xd4, 0xc3, 0xb2, 0xa1],
  [0xa1, 0xb2, 0xc3, 0xd4],
  [0x4d, 0x3c, 0xb2, 0xa1],
  [0xa1, 0xb2, 0x3c, 0x4d],
  [0x34, 0xcd, 0xb2, 0xa1],
  [0xa1, 0xb2, 0xcd, 0x34],
  [0x0a, 0x0d, 0x0d, 0x0a],
  [0x1f, 0x8b],
]

/** True when the regular file starts like a capture; a read error is thrown (the caller names it). */
export function looksLikeCapture(path: string): boolean {
  const head = new Uint8Array(4)
  const fd = openSync(path, 'r')
  try {
    const n = readSync(fd, head, 0, 4, 0)
    return MAGICS.some((m) => m.length <= n && m.every((b, i) => head[i] === b))
  } finally {
    closeSync(fd)
  }
}

export interface InputOptions {
  /** Whether the command can read '-' (stdin): once, and only where it reads each input once. */
  stdin: boolean
  /** Told about every directory entry that was skipped because it could not be read. */
  warn: (message: string) => void
}

/**
 * Expand the command line's inputs: files stay as given (the reader judges them, so a bad file gets a
 * precise error), '-' is stdin, and a directory contributes the capture files directly inside it, sorted.
 * A directory entry that cannot be read (dangling link, link loop, no permission) is a warning, not the end
 * of the run: the captures beside it are still read.
 */
export function expandInputs(args: string[], opts: InputOptions): string[] {
  const out: string[] = []
  for (const arg of args) {
    if (arg === '-') {
      if (!opts.stdin) throw new UsageError('this command reads each capture twice: give files, not - (stdin)')
      if (out.includes('-')) throw new UsageError('- (stdin) given twice: stdin can be read only once')
      out.push(arg)
      continue
    }
    let isDir = false
    try {
      isDir = statSync(arg).isDirectory()
    } catch {
      out.push(arg) // let the reader report the missing file
      continue
    }
    if (!isDir) {
      out.push(arg)
      continue
    }
    let names: string[]
    try {
      names = readdirSync(arg).sort()
    } catch (err) {
      throw new LvscopeError('io', `${arg}: cannot list the directory: ${errnoReason(err)}`)
    }
    const found: string[] = []
    for (const name of names) {
      const p = join(arg, name)
      try {
        if (statSync(p).isFile() && looksLikeCapture(p)) found.push(p)
      } catch (err) {
        opts.warn(`${p}: skipped: ${errnoReason(err)}`)
      }
    }
    if (found.length === 0) throw new UsageError(`${arg}: no capture files in this directory`)
    out.push(...found)
  }
  return out
}

/** The one capture of a single-input command: a file or '-' (when `stdin`), never a directory. */
export function singleInput(arg: string, stdin: boolean): string {
  if (arg === '-') {
    if (!stdin) throw new UsageError('this command reads its input twice: give a file, not - (stdin)')
    return arg
  }
  let dir = false
  try {
    dir = statSync(arg).isDirectory()
  } catch {
    // The reader reports a missing or unreadable file with its reason.
  }
  if (dir) throw new UsageError(`${arg}: is a directory; this command reads one capture file`)
  return arg
}
