/**
 * Damaged and fuzzed third-party captures through the whole pipeline: every command ends with 0 (something
 * useful came out) or 1 (nothing did), a one-line message, and never a stack trace or an internal error.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'
import {CORPUS} from '../helpers/shared.js'

function hostileFiles(n: number): string[] {
  const lines = readFileSync(join(CORPUS, 'manifest.tsv'), 'utf8').split('\n')
  const head = lines[0].split('\t')
  const tags = head.indexOf('tags')
  const file = head.indexOf('file')
  return lines
    .slice(1)
    .map((l) => l.split('\t'))
    .filter((c) => /structurally-bad|truncated|malformed-hint|ws-malformed/.test(c[tags] ?? ''))
    .map((c) => c[file])
    .filter((f, i) => f && i % 7 === 0)
    .slice(0, n)
}

describe('hostile captures never crash a command', () => {
  const files = hostileFiles(16)
  it('has damaged files to try', () => expect(files.length).toBe(16))
  for (const f of files) {
    it(f, () => {
      const path = join(CORPUS, 'files', f)
      for (const args of [['analyze', path, '--format', 'json'], ['artifacts', path, '--json'], ['flows', path, '--json']]) {
        const r = runCli(args)
        expect([0, 1], `${args[0]} exit ${r.code}: ${r.stderr}`).toContain(r.code)
        expect(r.stderr).not.toMatch(/internal error|\n\s+at /)
        if (r.code === 0) expect(() => JSON.parse(r.stdout)).not.toThrow()
      }
    })
  }
})
