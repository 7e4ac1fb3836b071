/**
 * Walk the archive: directories recursively, files as given, globs expanded. Captures are recognised by their
 * first bytes (pcap, pcapng, or either inside gzip, whatever the name), configuration files by parseConfig; every
 * other file, an unreadable one and a symlink loop become problems, and the walk goes on.
 */
import {closeSync, openSync, readSync} from 'node:fs'
import {lstat, readdir, readFile, realpath, stat} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import {constants, gunzipSync} from 'node:zlib'

import {glob} from 'tinyglobby'

import {u32} from '../capture/bytes.js'
import {pcapMagic} from '../capture/pcap.js'
import {SHB} from '../capture/pcapng.js'
import {parseConfig} from '../ipvs/config/index.js'
import type {FileProblem, Walk} from './types.js'

/** Configuration files are small; larger text is not tried as one. */
const MAX_CONFIG = 1024 * 1024
const HEAD = 64 * 1024

const errCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e)

function isCaptureHead(b: Uint8Array, n: number): boolean {
  return n >= 4 && (pcapMagic(b, 0) !== null || u32(b, 0, true) === SHB)
}

type Kind = {kind: 'capture'} | {kind: 'other'; why: string} | {kind: 'empty'}

/** What a file holds, from its first bytes (gzip: from the first bytes it inflates to). */
function sniff(path: string): Kind {
  const fd = openSync(path, 'r')
  try {
    const head = Buffer.alloc(HEAD)
    const n = readSync(fd, head, 0, HEAD, 0)
    if (n === 0) return {kind: 'empty'}
    if (isCaptureHead(head, n)) return {kind: 'capture'}
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      let inner: Buffer
      try {
        inner = gunzipSync(head.subarray(0, n), {finishFlush: constants.Z_SYNC_FLUSH})
      } catch (e) {
        return {kind: 'other', why: `gzip stream unreadable (${(e as Error).message})`}
      }
      return isCaptureHead(inner, inner.length) ? {kind: 'capture'} : {kind: 'other', why: 'gzip, but not a pcap or pcapng capture inside'}
    }
    return {kind: 'other', why: `not a pcap or pcapng capture (starts with ${head.subarray(0, Math.min(4, n)).toString('hex')})`}
  } finally {
    closeSync(fd)
  }
}

const GLOB = /[*?[\]{}]/

export interface WalkOptions {
  /** Directories not to enter (e.g. --out inside the archive). */
  exclude?: string[]
}

export async function walkInputs(args: readonly string[], opts: WalkOptions = {}): Promise<Walk> {
  const out: Walk = {captures: [], configs: [], problems: []}
  const seen = new Set<string>()
  const exclude = new Set((opts.exclude ?? []).map((p) => resolve(p)))
  const problem = (file: string, code: string, message: string): void => {
    out.problems.push({file, code, message: `${file}: ${message}`, offset: null} satisfies FileProblem)
  }

  const visitFile = async (path: string, size: number, mtimeMs: number): Promise<void> => {
    let kind: Kind
    try {
      kind = sniff(path)
    } catch (e) {
      problem(path, 'io', `cannot read: ${errCode(e)}`)
      return
    }
    if (kind.kind === 'capture') {
      out.captures.push({path, size, mtimeMs})
      return
    }
    if (kind.kind === 'empty') {
      problem(path, 'empty-file', 'empty file (0 bytes)')
      return
    }
    if (size <= MAX_CONFIG) {
      try {
        const f = parseConfig(await readFile(path, 'utf8'), path)
        out.configs.push({path, kinds: f.kinds})
        return
      } catch {
        // not a configuration file either
      }
    }
    problem(path, 'not-a-capture', kind.why)
  }

  // `ancestors` holds the real paths of the directories above: a symlink back to one of them is a loop.
  const visit = async (path: string, ancestors: readonly string[]): Promise<void> => {
    let st
    try {
      const l = await lstat(path)
      st = l.isSymbolicLink() ? await stat(path) : l
    } catch (e) {
      const code = errCode(e)
      if (code === 'ELOOP') problem(path, 'symlink-loop', 'symlink loop (ELOOP)')
      else if (code === 'ENOENT') problem(path, 'io', 'no such file or directory (or a dangling symlink)')
      else problem(path, 'io', `cannot read: ${code}`)
      return
    }
    let real: string
    try {
      real = await realpath(path)
    } catch (e) {
      problem(path, errCode(e) === 'ELOOP' ? 'symlink-loop' : 'io', `cannot resolve: ${errCode(e)}`)
      return
    }
    if (st.isDirectory()) {
      if (exclude.has(real)) return
      if (ancestors.includes(real)) {
        problem(path, 'symlink-loop', `symlink loop: leads back to ${real}`)
        return
      }
      let names: string[]
      try {
        names = (await readdir(path)).sort()
      } catch (e) {
        problem(path, 'io', `cannot list: ${errCode(e)}`)
        return
      }
      for (const n of names) await visit(join(path, n), [...ancestors, real])
      return
    }
    if (!st.isFile()) {
      problem(path, 'not-a-capture', 'not a regular file')
      return
    }
    // The same file reached twice (a symlink beside its target) is one capture.
    if (seen.has(real)) return
    seen.add(real)
    await visitFile(path, st.size, st.mtimeMs)
  }

  for (const arg of args) {
    let exists = true
    try {
      await lstat(arg)
    } catch {
      exists = false
    }
    if (!exists && GLOB.test(arg)) {
      const found = (await glob(arg, {onlyFiles: false, expandDirectories: false, followSymbolicLinks: false})).sort()
      if (found.length === 0) problem(arg, 'io', 'no file matches this pattern')
      for (const f of found) await visit(f, [])
    } else await visit(arg, [])
  }
  return out
}
