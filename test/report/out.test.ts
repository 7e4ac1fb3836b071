/** `analyze -o FILE` for every format: atomic write, a clear error for an unwritable path, never over an input. */
import {chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {writeFileAtomic} from '../../src/cli/output.js'
import {LvscopeError} from '../../src/util/errors.js'
import {runCli} from '../helpers/cli.js'
import {tempDir} from './hostile.js'
import {sampleArgs} from './samples.js'

const NAME = 'idle-expiry-mysql'

describe('analyze -o/--out', () => {
  it('writes each format to the file exactly as it would print it, and leaves no temporary file', () => {
    const dir = tempDir('lvscope-out-')
    for (const format of ['terminal', 'json', 'md', 'html']) {
      const file = join(dir, `report.${format}`)
      const printed = runCli(['analyze', ...sampleArgs(NAME), '--format', format])
      const written = runCli(['analyze', ...sampleArgs(NAME), '--format', format, format === 'md' ? '--out' : '-o', file])
      expect(written.code, written.stderr).toBe(0)
      expect(written.stdout).toBe('')
      expect(readFileSync(file, 'utf8')).toBe(printed.stdout)
    }
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/)
    expect(readdirSync(dir).sort()).toEqual(['report.html', 'report.json', 'report.md', 'report.terminal'])
  })

  it('an unwritable path is exit 1 with the path and the reason, and leaves nothing behind', () => {
    const dir = tempDir('lvscope-out-')
    const missing = runCli(['analyze', ...sampleArgs(NAME), '-o', join(dir, 'no/such/dir/r.html'), '--format', 'html'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe(`lvscope: ${join(dir, 'no/such/dir/r.html')}: cannot create a file in ${join(dir, 'no/such/dir')}: ENOENT (no such file or directory)\n`)
    const isDir = runCli(['analyze', ...sampleArgs(NAME), '-o', dir])
    expect(isDir.code).toBe(1)
    expect(isDir.stderr).toContain(`${dir}: cannot write: is a directory`)
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'ro')
      mkdirSync(ro)
      chmodSync(ro, 0o500)
      const denied = runCli(['analyze', ...sampleArgs(NAME), '-o', join(ro, 'r.md'), '--format', 'md'])
      expect(denied.code).toBe(1)
      expect(denied.stderr).toMatch(/cannot write: EACCES/)
    }
    const full = runCli(['analyze', ...sampleArgs(NAME), '-o', '/dev/full'])
    expect(full.code).toBe(1)
    expect(full.stderr).toBe('lvscope: /dev/full: cannot write: ENOSPC (no space left on device)\n')
    // A device is written in place, never replaced by a renamed file.
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true)
    expect(full.stderr).not.toMatch(/internal error|    at /)
    expect(readdirSync(dir)).toEqual(process.getuid?.() !== 0 ? ['ro'] : [])
  })

  it('refuses to write over one of its inputs (usage error), also through a hard link, and the input is untouched', () => {
    const dir = tempDir('lvscope-out-')
    const cap = join(dir, 'director.pcapng')
    copyFileSync(`samples/${NAME}/director.pcapng`, cap)
    const before = readFileSync(cap)
    const link = join(dir, 'alias.pcapng')
    linkSync(cap, link)
    for (const target of [cap, link]) {
      const r = runCli(['analyze', cap, '--timeouts', '6,3,30', '-o', target])
      // An output that is an input is a usage error (exit 2), refused before anything is read.
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`${target}: is the input ${cap} (same file)`)
      expect(readFileSync(cap).equals(before)).toBe(true)
    }
  })

  it('writeFileAtomic replaces a file whole, keeps its mode, and cleans up after a failure', () => {
    const dir = tempDir('lvscope-out-')
    const f = join(dir, 'r.txt')
    writeFileSync(f, 'old')
    chmodSync(f, 0o640)
    writeFileAtomic(f, 'new')
    expect(readFileSync(f, 'utf8')).toBe('new')
    expect(statSync(f).mode & 0o777).toBe(0o640)
    writeFileAtomic(f, new Uint8Array([0x61, 0x62]))
    expect(readFileSync(f, 'utf8')).toBe('ab')
    expect(() => writeFileAtomic(join(dir, 'x/y'), 'z')).toThrow(LvscopeError)
    expect(existsSync(join(dir, 'x'))).toBe(false)
    expect(readdirSync(dir)).toEqual(['r.txt'])
  })
})
