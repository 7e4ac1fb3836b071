import {closeSync, openSync, readSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {UsageError} from '../util/errors.js'

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

function looksLikeCapture(path: string): boolean {
  const head = new Uint8Array(4)
  let fd = -1
  try {
    fd = openSync(path, 'r')
    const n = readSync(fd, head, 0, 4, 0)
    return MAGICS.some((m) => m.length <= n && m.every((b, i) => head[i] === b))
  } catch {
    return false
  } finally {
    if (fd >= 0) closeSync(fd)
  }
}

/**
 * Expand the command line's inputs: files stay as given (the reader judges them, so a bad file gets a
 * precise error), '-' is stdin, and a directory contributes the capture files directly inside it, sorted.
 */
export function expandInputs(args: string[]): string[] {
  const out: string[] = []
  for (const arg of args) {
    if (arg === '-') {
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
    const found = readdirSync(arg)
      .sort()
      .map((name) => join(arg, name))
      .filter((p) => statSync(p).isFile() && looksLikeCapture(p))
    if (found.length === 0) throw new UsageError(`${arg}: no capture files in this directory`)
    out.push(...found)
  }
  return out
}
