/**
 * schema/report.schema.json (JSON Schema 2020-12) holds every report analyze writes: each sample's (its golden is
 * the CLI's output, pinned by goldens.test.ts) and the hostile captures'. It rejects what breaks the contract.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {Ajv2020} from 'ajv/dist/2020.js'
import {beforeAll, describe, expect, it} from 'vitest'

import type {Report} from '../../src/report/report.js'
import {REPO_ROOT, runCli} from '../helpers/cli.js'
import {hostileMysql, hostilePostgres, tempDir} from './hostile.js'
import {SAMPLE_NAMES} from './samples.js'

const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schema/report.schema.json'), 'utf8')) as object
const ajv = new Ajv2020({allErrors: true, strict: true})
const validate = ajv.compile(schema)
const golden = (name: string): Report => JSON.parse(readFileSync(join(REPO_ROOT, 'test/samples/golden', `${name}.json`), 'utf8')) as Report

function errors(r: unknown): string[] {
  return validate(r) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
}

describe('report JSON Schema', () => {
  it('is shipped with the package', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {files: string[]}
    expect(pkg.files).toContain('schema')
  })

  for (const name of SAMPLE_NAMES) {
    it(`validates ${name}`, () => {
      const r = golden(name)
      expect(errors(r)).toEqual([])
      // Every finding carries the optional parts too, so the schema checked them.
      for (const f of r.findings) expect(f.wireshark && f.events).toBeTruthy()
    })
  }

  let hostile: Report[] = []
  beforeAll(() => {
    hostile = [hostileMysql(tempDir('lvscope-schema-')), hostilePostgres(tempDir('lvscope-schema-'))].map((args) => {
      const r = runCli(['analyze', ...args, '--format', 'json'])
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as Report
    })
  })

  it('validates the reports of captures with hostile protocol text', () => {
    for (const r of hostile) {
      expect(r.findings.length).toBeGreaterThan(0)
      expect(errors(r)).toEqual([])
    }
  })

  it('rejects a report with a missing required field, an unknown field, or a wrong value', () => {
    const base = golden('idle-expiry-mysql')
    const {verdict: _v, ...noVerdict} = base
    expect(errors(noVerdict).join()).toMatch(/must have required property 'verdict'/)
    const noEvidence = structuredClone(base) as unknown as {findings: Record<string, unknown>[]}
    delete noEvidence.findings[0].evidence
    expect(errors(noEvidence).join()).toMatch(/\/findings\/0 must have required property 'evidence'/)
    expect(errors({...base, extra: 1}).join()).toMatch(/must NOT have additional properties/)
    const badCause = structuredClone(base)
    ;(badCause.findings[0] as {cause: string}).cause = 'cosmic-rays'
    expect(errors(badCause).join()).toMatch(/\/findings\/0\/cause must be equal to one of the allowed values/)
    const badFrame = structuredClone(base)
    badFrame.findings[0].evidence[0].frame = 0
    expect(errors(badFrame).join()).toMatch(/\/findings\/0\/evidence\/0\/frame must be >= 1/)
  })
})
