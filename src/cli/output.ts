import {type Stats, closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {LvscopeError} from '../util/errors.js'
import {escapeTerminal} from '../util/escape.js'

/**
 * Write an output file so that nothing half-written is ever left under its name: the data goes to a temporary
 * file in the same folder (same filesystem, so the rename is atomic), which replaces `path` only once complete.
 * Refuses to write over one of `opts.inputs` (same device and inode, so also through links). Errors are
 * LvscopeError('io') naming the path and the reason (exit 1).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: {inputs?: string[]} = {}): void {
  const shown = escapeTerminal(path)
  const target = statOrNull(path)
  if (target && opts.inputs) {
    for (const input of opts.inputs) {
      const s = statOrNull(input)
      if (s && s.dev === target.dev && s.ino === target.ino) throw new LvscopeError('io', `${shown}: refusing to overwrite an input (${escapeTerminal(input)})`)
    }
  }
  if (target?.isDirectory()) throw new LvscopeError('io', `${shown}: cannot write: is a directory`)
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
  // A device, FIFO or socket (/dev/stdout, /dev/null) is written in place: renaming over it would replace the node.
  if (target && !target.isFile()) return writeInPlace(path, shown, bytes)
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`)
  let fd: number | null = null
  try {
    fd = openSync(tmp, 'wx', target ? target.mode & 0o777 : 0o644)
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off)
    fsyncSync(fd)
    closeSync(fd)
    fd = null
    renameSync(tmp, path)
  } catch (err) {
    if (fd !== null) closeSync(fd)
    try {
      unlinkSync(tmp)
    } catch {
      // never created, or already renamed
    }
    throw writeError(shown, err)
  }
}

function writeInPlace(path: string, shown: string, bytes: Uint8Array): void {
  let fd: number | null = null
  try {
    fd = openSync(path, 'w')
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off)
  } catch (err) {
    throw writeError(shown, err)
  } finally {
    if (fd !== null) closeSync(fd)
  }
}

/** "PATH: cannot write: ENOSPC no space left on device" (Node's message without its own prefix and path). */
function writeError(shown: string, err: unknown): LvscopeError {
  const e = err as NodeJS.ErrnoException
  return new LvscopeError('io', `${shown}: cannot write: ${e.code ?? ''}${e.code ? ' ' : ''}${e.message.replace(/^[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '')}`)
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p)
  } catch {
    return null
  }
}
