/**
 * The worker-thread path needs compiled JavaScript (a worker cannot load TypeScript here), so this test
 * compiles the correlate module's import closure with tsc into a temporary directory and checks that
 * decoding in workers gives the same result as decoding in the calling thread.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import type {correlate as Correlate} from '../../../src/vantage/correlate/index.js'
import {buildScenario, cleanupScenarios} from './scenario.js'

afterAll(cleanupScenarios)

const ROOT = join(import.meta.dirname, '..', '..', '..')

describe('worker threads', () => {
  it('give the same result as the in-thread path', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lvscope-corr-js-'))
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const args = [tsc, '--outDir', out, '--rootDir', join(ROOT, 'src'), '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
      '--target', 'ES2022', '--strict', '--skipLibCheck', '--types', 'node', '--noEmitOnError', 'false',
      join(ROOT, 'src/vantage/correlate/index.ts'), join(ROOT, 'src/vantage/correlate/worker.ts')]
    try {
      execFileSync(process.execPath, args, {cwd: ROOT, stdio: 'pipe'})
    } catch {
      // Type errors elsewhere (colleagues' files in progress) still emit JavaScript; the checks below decide.
    }
    expect(existsSync(join(out, 'vantage/correlate/worker.js'))).toBe(true)
    const mod = (await import(pathToFileURL(join(out, 'vantage/correlate/index.js')).href)) as {correlate: typeof Correlate}
    const fates = new Map([[3, 'lost' as const], [25, 'not-forwarded' as const], [40, 'only-rs' as const]])
    const s = buildScenario({flows: 5, perFlow: 12, fates, rsOffset: 1.25, client: true, replyLost: new Set([7])})
    const inputs = [s.director, s.rs, s.client ?? ''].map((file) => ({file}))
    const queries = [{file: s.director, frame: s.truth.directorFrame[3].no}]
    const a = await mod.correlate(inputs, {threads: true, queries})
    const b = await mod.correlate(inputs, {threads: false, queries})
    expect(a).toEqual(b)
    expect(a.totals.lostOnPath).toBe(1)
    expect(a.totals.notForwarded).toBe(1)
    expect(a.totals.onlyAtRealServer).toBe(1)
    expect(a.totals.replyLost).toBe(1)
    expect(a.answers[0].fate).toBe('lost-on-path')
    rmSync(out, {recursive: true, force: true})
  })
})
