/** Input expansion: bad directory entries are warnings, stdin is read at most once, directories are not files. */
import {copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {expandInputs, singleInput} from '../../src/cli/inputs.js'
import {UsageError} from '../../src/util/errors.js'
import {REPO_ROOT} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'lvscope-inputs-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
const capture = join(REPO_ROOT, 'samples/idle-expiry-mysql/director.pcapng')

describe('expandInputs', () => {
  it('skips a dangling link and a link loop with a warning naming each, and keeps the good capture', () => {
    const d = join(dir, 'mixed')
    mkdirSync(d)
    copyFileSync(capture, join(d, 'director.pcapng'))
    symlinkSync('nowhere.pcap', join(d, 'dangling.pcap'))
    symlinkSync('loop-b', join(d, 'loop-a'))
    symlinkSync('loop-a', join(d, 'loop-b'))
    const warnings: string[] = []
    expect(expandInputs([d], {stdin: true, warn: (m) => warnings.push(m)})).toEqual([join(d, 'director.pcapng')])
    expect(warnings).toEqual([
      `${join(d, 'dangling.pcap')}: skipped: ENOENT (no such file or directory)`,
      `${join(d, 'loop-a')}: skipped: ELOOP (too many symbolic links encountered)`,
      `${join(d, 'loop-b')}: skipped: ELOOP (too many symbolic links encountered)`,
    ])
  })

  it('reads stdin once, and not at all where the command reads twice', () => {
    const warn = (): void => {}
    expect(expandInputs(['-'], {stdin: true, warn})).toEqual(['-'])
    expect(() => expandInputs(['-', '-'], {stdin: true, warn})).toThrow(UsageError)
    expect(() => expandInputs(['-'], {stdin: false, warn})).toThrow(UsageError)
  })
})

describe('singleInput', () => {
  it('refuses a directory as a usage error and stdin where it cannot be read twice', () => {
    expect(() => singleInput(dir, true)).toThrow(new UsageError(`${dir}: is a directory; this command reads one capture file`))
    expect(() => singleInput('-', false)).toThrow(UsageError)
    expect(singleInput('-', true)).toBe('-')
    expect(singleInput(capture, false)).toBe(capture)
  })
})
