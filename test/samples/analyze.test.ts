/**
 * `lvscope analyze` on every lab sample reproduces the lab's ground truth (expected.json): roles, clock offsets,
 * DR copies, genuine retransmissions, and every reset/stall/re-schedule/failover with its sender and cause —
 * nothing missing, nothing extra. The whole report is also pinned as a golden file (`npm run goldens` rewrites it).
 */
import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import type {Report} from '../../src/report/report.js'
import {REPO_ROOT, runCli} from '../helpers/cli.js'

interface Expected {
  name: string
  captures: {file: string; role: string; clockOffsetSeconds: number}[]
  analyzeFlags: string[]
  drCopies: Record<string, number>
  genuineRetransmissions: number
  events: {kind: string; epoch: number; flow: {client: string; service: string} | null; sender: string; cause: string}[]
  timeouts: {persistence: number | null}
}

const SAMPLES = join(REPO_ROOT, 'samples')
const GOLDEN = join(REPO_ROOT, 'test/samples/golden')
const names = readdirSync(SAMPLES).filter((n) => existsSync(join(SAMPLES, n, 'expected.json')))
// Scenarios today's diagnosis gets wrong: matrix.test.ts holds their exact difference; here only the rest is checked.
const retransmissionsKnown = (JSON.parse(readFileSync(join(REPO_ROOT, 'test/samples/known-mismatch.json'), 'utf8')) as {
  retransmissions: Record<string, {lab: number; lvscope: number; why: string}>
}).retransmissions
const knownMismatch = new Set(Object.keys((JSON.parse(readFileSync(join(REPO_ROOT, 'test/samples/known-mismatch.json'), 'utf8')) as
  {scenarios: Record<string, unknown>}).scenarios))

/** Golden: the whole report, minus the version stamp (UPDATE_GOLDEN=1 rewrites it). */
function pinGolden(name: string, report: Report): void {
  const pinned = {...report, generatedBy: 'lvscope'}
  const file = join(GOLDEN, `${name}.json`)
  // Goldens are written only on request (npm run goldens); a missing one fails.
  if (process.env.LVSCOPE_UPDATE_GOLDENS || process.env.UPDATE_GOLDEN) {
    mkdirSync(GOLDEN, {recursive: true})
    writeFileSync(file, `${JSON.stringify(pinned, null, 2)}\n`)
  }
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run goldens and commit it`)
  expect(pinned).toEqual(JSON.parse(readFileSync(file, 'utf8')))
}

describe('analyze reproduces every sample', () => {
  it('has the samples the lab records', () => {
    expect(names.length).toBeGreaterThanOrEqual(9)
  })

  for (const name of names) {
    it(name, () => {
      const dir = join(SAMPLES, name)
      const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected
      const r = runCli(['analyze', `samples/${name}`, ...exp.analyzeFlags, '--format', 'json'])
      expect(r.code).toBe(0)
      const report0 = JSON.parse(r.stdout) as Report
      if (knownMismatch.has(name)) {
        // Listed in known-mismatch.json (matrix.test.ts holds its exact findings difference): only the golden here.
        pinGolden(name, report0)
        return
      }
      expect(r.stderr).toBe('')
      const report = JSON.parse(r.stdout) as Report
      expect(report.schema).toBe('lvscope/report@1')

      for (const c of exp.captures) {
        const got = report.captures.find((x) => x.file === `samples/${name}/${c.file}`)
        expect(got, c.file).toBeDefined()
        expect(got?.role, c.file).toBe(c.role)
        expect(Math.abs((got?.clockOffsetSeconds ?? NaN) - c.clockOffsetSeconds), `${c.file} clock offset`).toBeLessThan(0.001)
      }
      expect(report.artifacts.drCopies).toBe(Object.values(exp.drCopies).reduce((a, b) => a + b, 0))
      // Per capture too: every director capture's forwarded copies, exactly as the nft counters said.
      const art = JSON.parse(runCli(['artifacts', '--json', `samples/${name}`]).stdout) as {file: string; drCopies: number; role: string}[]
      for (const [file, copies] of Object.entries(exp.drCopies)) {
        const a = art.find((x) => x.file === `samples/${name}/${file}`)
        expect({file, copies: a?.drCopies, role: a?.role}).toEqual({file, copies, role: 'director'})
      }
      for (const c of exp.captures) expect(art.find((x) => x.file === `samples/${name}/${c.file}`)?.role, c.file).toBe(c.role)
      // The lab counts the client's retransmissions in the client's capture; lvscope counts what Wireshark flags in
      // each given capture. They differ only where a retransmission reached another director than its original
      // (listed in known-mismatch.json `retransmissions`, held exactly).
      expect(report.artifacts.genuineRetransmissions).toBe(retransmissionsKnown[name]?.lvscope ?? exp.genuineRetransmissions)
      if (retransmissionsKnown[name]) expect(exp.genuineRetransmissions).toBe(retransmissionsKnown[name].lab)

      const got = report.findings.map((f) => ({kind: f.kind, flow: f.flow, sender: f.sender, cause: f.cause, epoch: f.epoch}))
      if (!knownMismatch.has(name)) expect(got.map((f) => f.cause)).not.toContain('unknown')
      if (!knownMismatch.has(name)) expect(got).toHaveLength(exp.events.length)
      for (const e of knownMismatch.has(name) ? [] : exp.events) {
        const match = got.find((f) => f.kind === e.kind && JSON.stringify(f.flow) === JSON.stringify(e.flow) && Math.abs(f.epoch - e.epoch) <= 0.01)
        expect(match, `${e.kind} at ${e.epoch}`).toBeDefined()
        expect({sender: match?.sender, cause: match?.cause}).toEqual({sender: e.sender, cause: e.cause})
      }

      pinGolden(name, report)
    })
  }
})

describe('each sample capture alone gets the role the lab gave it', () => {
  for (const name of names) {
    it(name, () => {
      const exp = JSON.parse(readFileSync(join(SAMPLES, name, 'expected.json'), 'utf8')) as Expected
      for (const c of exp.captures) {
        const r = runCli(['artifacts', '--json', `samples/${name}/${c.file}`])
        expect(r.code).toBe(0)
        const [a] = JSON.parse(r.stdout) as {role: string; roleReason: string}[]
        expect(a.role, `${c.file}: ${a.roleReason}`).toBe(c.role)
      }
    })
  }
})
