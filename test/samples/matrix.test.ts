/**
 * The scenario matrix: `lvscope analyze` (with each sample's analyzeFlags) on every sample, its findings reduced
 * to the set of (kind, client flow, sender, cause) and compared with expected.json's events. Scenarios the
 * diagnosis gets wrong today are listed in known-mismatch.json with their exact difference (what is missing,
 * what is extra); the test holds that list exact both ways — a listed scenario that now matches, or one whose
 * difference changed, fails too — so the list cannot rot. It prints the figure
 * "N of M scenarios match; F of G findings found, X extra".
 */
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {REPO_ROOT, runCli} from '../helpers/cli.js'

interface Finding {
  kind: string
  flow: {client: string; service: string} | null
  sender: string
  cause: string
}
interface Difference {
  missing: string[]
  extra: string[]
}

const SAMPLES = join(REPO_ROOT, 'samples')
const names = readdirSync(SAMPLES).filter((n) => existsSync(join(SAMPLES, n, 'expected.json'))).sort()
const known = JSON.parse(readFileSync(join(import.meta.dirname, 'known-mismatch.json'), 'utf8')) as {
  scenarios: Record<string, Difference & {why?: string}>
}

/** One finding as a comparable key: kind, client flow, sender, cause. */
export function key(f: Finding): string {
  const flow = f.flow ? `${f.flow.client}>${f.flow.service}` : '-'
  return `${f.kind} ${flow} ${f.sender} ${f.cause}`
}

/** Multiset difference: what `want` has that `got` lacks, and the reverse. */
export function difference(want: string[], got: string[]): Difference {
  const left = [...got]
  const missing: string[] = []
  for (const w of want) {
    const i = left.indexOf(w)
    if (i >= 0) left.splice(i, 1)
    else missing.push(w)
  }
  return {missing: missing.sort(), extra: left.sort()}
}

const tally = {scenarios: 0, matching: 0, expected: 0, found: 0, extra: 0}

describe('difference', () => {
  it('is a multiset difference both ways', () => {
    expect(difference(['a', 'a', 'b'], ['a', 'c'])).toEqual({missing: ['a', 'b'], extra: ['c']})
    expect(difference([], [])).toEqual({missing: [], extra: []})
  })
})

describe('scenario matrix', () => {
  it('has at least the scenarios the lab records, and lists only real ones as known mismatches', () => {
    expect(names.length).toBeGreaterThanOrEqual(9)
    for (const n of Object.keys(known.scenarios)) expect(names, `known-mismatch.json names ${n}`).toContain(n)
  })

  for (const name of names) {
    it(name, () => {
      const exp = JSON.parse(readFileSync(join(SAMPLES, name, 'expected.json'), 'utf8')) as {
        analyzeFlags: string[]
        events: Finding[]
      }
      const r = runCli(['analyze', `samples/${name}`, ...exp.analyzeFlags, '--format', 'json'])
      expect(r.code, r.stderr).toBe(0)
      const findings = (JSON.parse(r.stdout) as {findings: Finding[]}).findings
      const want = exp.events.map(key)
      const diff = difference(want, findings.map(key))
      tally.scenarios++
      tally.expected += want.length
      tally.found += want.length - diff.missing.length
      tally.extra += diff.extra.length
      const matches = diff.missing.length === 0 && diff.extra.length === 0
      if (matches) tally.matching++
      const listed = known.scenarios[name]
      if (listed) {
        expect(matches, `${name} now matches: remove it from known-mismatch.json`).toBe(false)
        expect(diff, `${name}: its difference changed; update known-mismatch.json`).toEqual({
          missing: [...listed.missing].sort(), extra: [...listed.extra].sort()})
      } else {
        expect(diff, `${name}: analyze disagrees with expected.json`).toEqual({missing: [], extra: []})
      }
    })
  }

  afterAll(() => {
    if (tally.scenarios !== names.length) return // a filtered run: no figure
    console.log(`scenario matrix: ${tally.matching} of ${tally.scenarios} scenarios match; ` +
      `${tally.found} of ${tally.expected} findings found, ${tally.extra} extra`)
  })
})
