import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'

describe('lvscope correlate', () => {
  it('recovers roles and the clock offset the lab applied with editcap -t', () => {
    const exp = JSON.parse(readFileSync('samples/failover-unsynced-mysql/expected.json', 'utf8')) as {
      captures: {file: string; role: string; clockOffsetSeconds: number}[]
    }
    const r = runCli(['correlate', '--json', 'samples/failover-unsynced-mysql'])
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout) as {captures: {file: string; role: string; clockOffsetSeconds: number}[]; totals: {notForwarded: number}}
    for (const c of exp.captures) {
      const got = j.captures.find((x) => x.file.endsWith(`/${c.file}`))
      expect(got?.role).toBe(c.role)
      expect(Math.abs((got?.clockOffsetSeconds ?? NaN) - c.clockOffsetSeconds)).toBeLessThan(0.001)
    }
    // The one client packet director2 answered itself (no entry after the unsynced failover).
    expect(j.totals.notForwarded).toBe(1)
  })

  it('takes a role override and rejects a malformed clock offset', () => {
    const bad = runCli(['correlate', 'samples/idle-expiry-mysql', '--clock-offset', 'nonsense'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--clock-offset wants FILE=SECONDS/)
  })
})
