/** Outputs: never an input, renamed into place only when complete, write errors with path and reason. */
import {existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {openAtomicOutput, writeFileAtomic} from '../../src/cli/output.js'
import {LvscopeError} from '../../src/util/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'lvscope-out-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function thrown(f: () => void): LvscopeError {
  try {
    f()
  } catch (err) {
    expect(err).toBeInstanceOf(LvscopeError)
    return err as LvscopeError
  }
  throw new Error('did not throw')
}

describe('writeFileAtomic', () => {
  it('writes a new file and replaces an old one, leaving no temporary file', () => {
    const p = join(dir, 'a.txt')
    writeFileAtomic(p, 'one')
    writeFileAtomic(p, new Uint8Array([0x74, 0x77, 0x6f]))
    expect(readFileSync(p, 'utf8')).toBe('two')
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })

  it('refuses an output that is an input: the same path, a symlink to it, a hard link to it', () => {
    const input = join(dir, 'victim.pcapng')
    writeFileSync(input, 'precious')
    symlinkSync(input, join(dir, 'sym.pcapng'))
    linkSync(input, join(dir, 'hard.pcapng'))
    for (const out of [input, join(dir, 'sym.pcapng'), join(dir, 'hard.pcapng')]) {
      const e = thrown(() => writeFileAtomic(out, 'x', {inputs: [input]}))
      expect(e.exitCode).toBe(2)
      expect(e.message).toBe(`${out}: is the input ${input} (same file); give another output name`)
    }
    expect(readFileSync(input, 'utf8')).toBe('precious')
  })

  it('writes through a symlinked output to its target, keeping the link', () => {
    const target = join(dir, 'target.txt')
    writeFileSync(target, 'old')
    symlinkSync(target, join(dir, 'via-link.txt'))
    writeFileAtomic(join(dir, 'via-link.txt'), 'new')
    expect(readFileSync(target, 'utf8')).toBe('new')
  })

  it('reports a full device as an io error with the path and the reason', () => {
    const e = thrown(() => writeFileAtomic('/dev/full', 'x'))
    expect(e.code).toBe('io')
    expect(e.exitCode).toBe(1)
    expect(e.message).toBe('/dev/full: cannot write: ENOSPC (no space left on device)')
  })

  it('reports a folder where no file can be created', () => {
    const e = thrown(() => writeFileAtomic(join(dir, 'missing', 'x.txt'), 'x'))
    expect(e.code).toBe('io')
    expect(e.message).toBe(`${join(dir, 'missing', 'x.txt')}: cannot create a file in ${join(dir, 'missing')}: ENOENT (no such file or directory)`)
  })
})

describe('openAtomicOutput', () => {
  it('keeps the previous file when the write is aborted, and shows the new one only on commit', () => {
    const p = join(dir, 'b.pcap')
    writeFileSync(p, 'previous')
    const o = openAtomicOutput(p)
    o.write('half of a capture')
    expect(readFileSync(p, 'utf8')).toBe('previous')
    o.abort()
    expect(readFileSync(p, 'utf8')).toBe('previous')
    const o2 = openAtomicOutput(p)
    o2.write('whole')
    o2.commit()
    expect(readFileSync(p, 'utf8')).toBe('whole')
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })

  it('leaves no file at all when a new output is aborted', () => {
    const p = join(dir, 'never.pcap')
    const o = openAtomicOutput(p)
    o.write('x')
    o.abort()
    expect(existsSync(p)).toBe(false)
  })
})
