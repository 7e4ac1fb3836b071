/**
 * Files a command writes. An output never destroys an input (same device and inode, through symlinks and hard
 * links, is refused), and a regular file is written to a temporary file in its own folder and renamed into place
 * only once everything was written, so a failed run leaves the previous file (or none) instead of half of one.
 * Targets that are not regular files (/dev/null, a FIFO, a terminal) are written in place: there is nothing to
 * rename over, and replacing a device node with a file would be worse than the failure.
 */
import {closeSync, constants, fchmodSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {randomBytes} from 'node:crypto'

import {ioError, LvscopeError, UsageError} from '../util/errors.js'

export interface OutputOptions {
  /** The command's input files: an output that is one of them is refused. */
  inputs?: readonly string[]
}

/** An output being written: `fd` takes the bytes; `commit` puts the file in place, `abort` removes the rest. */
export interface AtomicOutput {
  /** The path the user asked for (used in messages). */
  readonly path: string
  readonly fd: number
  write(data: string | Uint8Array): void
  commit(): void
  abort(): void
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw ioError(path, err, 'check output')
  }
}

/** Refuse an output that is one of the inputs; `-` and inputs that do not exist are skipped. */
function refuseInputs(path: string, target: Stats | null, inputs: readonly string[]): void {
  if (target === null) return
  for (const input of inputs) {
    if (input === '-') continue
    const s = statOrNull(input)
    if (s !== null && s.dev === target.dev && s.ino === target.ino) {
      throw new UsageError(`${path}: is the input ${input} (same file); give another output name`)
    }
  }
}

/**
 * The checks of openAtomicOutput without opening anything (a command checks its outputs before reading inputs it
 * will read twice): not empty, not a directory, not one of the inputs. Returns the target's stat, or null if new.
 */
export function checkOutput(path: string, opts: OutputOptions = {}): Stats | null {
  if (path === '') throw new UsageError('the output file name is empty')
  const target = statOrNull(path)
  refuseInputs(path, target, opts.inputs ?? [])
  if (target?.isDirectory()) throw new LvscopeError('io', `${path}: cannot write: is a directory`)
  return target
}

/**
 * Open `path` for writing as described above. Throws LvscopeError: 'usage' (exit 2) when the output is an
 * input, 'io' (exit 1, with the path and the reason) when it cannot be created.
 */
export function openAtomicOutput(path: string, opts: OutputOptions = {}): AtomicOutput {
  const target = checkOutput(path, opts)
  if (target !== null && !target.isFile()) return inPlace(path)
  // Write beside the real file, so a symlinked output stays a symlink and the rename never crosses devices.
  const final = target === null ? path : realpathSync(path)
  const temp = join(dirname(final), `.${basename(final)}.${randomBytes(4).toString('hex')}.tmp`)
  let fd: number
  try {
    fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666)
  } catch (err) {
    throw ioError(path, err, `create a file in ${dirname(final)}`)
  }
  if (target !== null) {
    try {
      fchmodSync(fd, target.mode & 0o7777)
    } catch {
      // Keeping the old mode is a courtesy; the default umask mode is fine.
    }
  }
  let open = true
  const close = (): void => {
    if (!open) return
    open = false
    closeSync(fd)
  }
  return {
    path,
    fd,
    write: (data) => writeAll(path, fd, data),
    commit: () => {
      try {
        close()
        renameSync(temp, final)
      } catch (err) {
        removeQuietly(temp)
        throw ioError(path, err, 'write')
      }
    },
    abort: () => {
      try {
        close()
      } catch {
        // Already failing: the first error is the one reported.
      }
      removeQuietly(temp)
    },
  }
}

/** A device or FIFO: written directly, nothing to rename or remove; a FIFO waits for its reader, as tcpdump -w does. */
function inPlace(path: string): AtomicOutput {
  let fd: number
  try {
    fd = openSync(path, constants.O_WRONLY)
  } catch (err) {
    throw ioError(path, err, 'open for writing')
  }
  let open = true
  const close = (): void => {
    if (!open) return
    open = false
    closeSync(fd)
  }
  return {
    path,
    fd,
    write: (data) => writeAll(path, fd, data),
    commit: () => {
      try {
        close()
      } catch (err) {
        throw ioError(path, err, 'write')
      }
    },
    abort: () => {
      try {
        close()
      } catch {
        // Already failing.
      }
    },
  }
}

function writeAll(path: string, fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
  try {
    let done = 0
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done)
  } catch (err) {
    throw ioError(path, err, 'write')
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Nothing left to remove.
  }
}

/** Write a whole file safely (see above). Throws LvscopeError ('io' with path and reason, 'usage' if an input). */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: OutputOptions = {}): void {
  const out = openAtomicOutput(path, opts)
  try {
    out.write(data)
  } catch (err) {
    out.abort()
    throw err
  }
  out.commit()
}
