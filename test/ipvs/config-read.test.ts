/** --config files: a size cap, regular files only, and never a blocking read. */
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {MAX_CONFIG_FILE_BYTES, readConfigFile, readConfigText} from '../../src/ipvs/config/read.js'
import {LvscopeError} from '../../src/util/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'lvscope-cfg-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function refusal(path: string): LvscopeError {
  try {
    readConfigText(path)
  } catch (err) {
    expect(err).toBeInstanceOf(LvscopeError)
    return err as LvscopeError
  }
  throw new Error(`${path} was read`)
}

describe('readConfigText', () => {
  it('reads a small regular file', () => {
    const p = join(dir, 'timeout.txt')
    writeFileSync(p, 'Timeout (tcp tcpfin udp): 900 120 300\n')
    expect(readConfigFile(p).kinds).toEqual(['ipvsadm-timeout'])
  })

  it('reads a file of exactly the cap and refuses one byte more', () => {
    const p = join(dir, 'big.txt')
    writeFileSync(p, Buffer.alloc(MAX_CONFIG_FILE_BYTES, 0x61))
    expect(readConfigText(p).length).toBe(MAX_CONFIG_FILE_BYTES)
    writeFileSync(p, Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1, 0x61))
    const e = refusal(p)
    expect(e.exitCode).toBe(1)
    expect(e.message).toBe(`${p}: larger than 4 MiB; not a configuration dump (give the ipvsadm/keepalived text)`)
  })

  it('refuses /dev/zero at once instead of reading without end', () => {
    const t = Date.now()
    expect(refusal('/dev/zero').message).toBe('/dev/zero: --config wants a regular file (ipvsadm/keepalived/proc text), this is a device')
    expect(Date.now() - t).toBeLessThan(1000)
  })

  it('refuses a FIFO with no writer without blocking', () => {
    const fifo = join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    expect(refusal(fifo).message).toBe(`${fifo}: --config wants a regular file (ipvsadm/keepalived/proc text), this is a FIFO`)
  })

  it('refuses a directory and names a missing file', () => {
    const d = join(dir, 'sub')
    mkdirSync(d)
    expect(refusal(d).message).toMatch(/this is a directory$/)
    expect(refusal(join(dir, 'none')).message).toBe(`${join(dir, 'none')}: cannot read: ENOENT (no such file or directory)`)
  })

  it('reads /proc files, whose size says 0', () => {
    expect(readConfigText('/proc/self/status')).toMatch(/^Name:/)
  })
})
