/**
 * Reading a --config file: configuration dumps are kilobytes, so anything larger than MAX_CONFIG_FILE_BYTES is
 * refused, and so is anything that is not a regular file (a FIFO would block, /dev/zero never ends, a directory
 * has no text). The read is bounded whatever the file claims to be: it stops one byte past the cap.
 */
import {closeSync, constants, fstatSync, openSync, readSync} from 'node:fs'

import {ioError, LvscopeError} from '../../util/errors.js'
import {parseConfig, type ParseConfigOptions} from './index.js'
import type {ConfigFacts} from './types.js'

/** 4 MiB: an ipvsadm -Lnc of ~40 k connections; a real keepalived.conf is a few KiB. */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024

/** The text of a configuration file, or LvscopeError('io' | 'unsupported') saying why not. */
export function readConfigText(path: string): string {
  let fd: number
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not wait; the type check below refuses it anyway.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    throw ioError(path, err, 'read')
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) {
      const what = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file'
      throw new LvscopeError('unsupported', `${path}: --config wants a regular file (ipvsadm/keepalived/proc text), this is ${what}`)
    }
    if (st.size > MAX_CONFIG_FILE_BYTES) throw tooLarge(path)
    // /proc files report size 0, and a file may grow while read: the buffer grows up to one byte past the cap.
    let buf = Buffer.alloc(Math.min(MAX_CONFIG_FILE_BYTES, st.size) + 1)
    let len = 0
    for (;;) {
      if (len === buf.length) {
        if (len > MAX_CONFIG_FILE_BYTES) throw tooLarge(path)
        const next = Buffer.alloc(Math.min(MAX_CONFIG_FILE_BYTES + 1, buf.length * 2 + 64 * 1024))
        buf.copy(next, 0, 0, len)
        buf = next
      }
      const n = readSync(fd, buf, len, buf.length - len, null)
      if (n === 0) break
      len += n
    }
    return buf.toString('utf8', 0, len)
  } catch (err) {
    throw ioError(path, err, 'read')
  } finally {
    closeSync(fd)
  }
}

function tooLarge(path: string): LvscopeError {
  return new LvscopeError('unsupported', `${path}: larger than ${MAX_CONFIG_FILE_BYTES / 1024 / 1024} MiB; not a configuration dump (give the ipvsadm/keepalived text)`)
}

/** Read and parse one --config file. */
export function readConfigFile(path: string, opts: ParseConfigOptions = {}): ConfigFacts {
  return parseConfig(readConfigText(path), path, opts)
}
