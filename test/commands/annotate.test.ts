/** lvscope annotate's command line (no tshark; annotate.oracle.test.ts judges the output). */
import {existsSync, mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'lvscope-annotate-cli-'))

describe('lvscope annotate', () => {
  it('shares analyze\'s flags and adds its own', () => {
    const help = runCli(['annotate', '--help']).stdout
    for (const flag of ['--timeouts', '--config', '--director', '--clock-offset', '--threads', '--kernel', '--output', '--copies', '--coloring-rules']) expect(help).toContain(flag)
    expect(help).not.toContain('--format')
  })

  it('needs -o (usage error, exit 2)', () => {
    const r = runCli(['annotate', 'samples/idle-expiry-mysql'])
    expect(r.code).toBe(2)
  })

  it('refuses stdin like analyze', () => {
    const r = runCli(['annotate', '-', '-o', join(tmp, 'x')])
    expect(r.code).toBe(2)
  })

  it('an unreadable capture is an input error (exit 1), nothing written', () => {
    const out = join(tmp, 'none')
    const r = runCli(['annotate', 'samples/README.md', '-o', out])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^lvscope: samples\/README.md: not a pcap or pcapng capture/)
    expect(existsSync(out)).toBe(false)
  })

  it('writes one pcapng per capture and the rules file, and says so', () => {
    const out = join(tmp, 'ok')
    const rules = join(out, 'colorfilters')
    const r = runCli(['annotate', 'samples/idle-expiry-mysql', '--timeouts', '6,3,30', '-o', out, '--coloring-rules', rules])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`wrote ${join(out, 'director.pcapng')}: 49 of 49 frames, 23 with comments (20 DR copies`) // capinfos: 49; expected.json: 20 copies; + evidence #26, #28, #29
    expect(readdirSync(out).sort()).toEqual(['colorfilters', 'director.pcapng', 'rs1.pcapng'])
    expect(readFileSync(join(out, 'rs1.pcapng')).readUInt32LE(0)).toBe(0x0a0d0d0a)
    expect(readFileSync(rules, 'utf8')).toMatch(/^@lvscope #1 reset: /m)
  })
})
