#!/usr/bin/env node
// Where `analyze` spends its time: each capture's scan alone, both scans side by side (as analyze runs them),
// then the correlation pass. Also how much the scans slow each other: each capture's scan in its own worker
// thread, all started at once, timed to its own end — against two threads of pure arithmetic alone and side by
// side, which share no memory (a slowdown the arithmetic does not show comes from caches and memory, not cores).
// Uses dist/ (build first).
// Usage: node bench/child/phases.js DIRECTOR RS   → one JSON line on stdout.
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'

const files = process.argv.slice(2)
if (files.length === 0) throw new Error('usage: node bench/child/phases.js CAPTURE...')
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const load = (rel) => import(pathToFileURL(path.join(root, 'dist', rel)).href)
const {scanCapture, scanCaptures} = await load('vantage/scan.js')
const {correlate} = await load('vantage/correlate/index.js')

const time = async (f) => {
  const t0 = process.hrtime.bigint()
  await f()
  return Number(process.hrtime.bigint() - t0) / 1e9
}
const alone = {}
for (const f of files) alone[path.basename(f)] = await time(() => scanCapture(f))
const together = await time(() => scanCaptures(files))

/** Start one worker per entry at once; seconds from the start until each one's first message. */
const sideBySide = async (spawn, n) => {
  const t0 = process.hrtime.bigint()
  return Promise.all(
    Array.from({length: n}, (_, i) => {
      const w = spawn(i)
      return new Promise((resolve, reject) => {
        w.once('message', () => {
          resolve(Number(process.hrtime.bigint() - t0) / 1e9)
          void w.terminate()
        })
        w.once('error', reject)
      })
    }),
  )
}
const scanWorker = new URL(pathToFileURL(path.join(root, 'dist', 'vantage', 'scan-worker.js')))
const ends = await sideBySide((i) => new Worker(scanWorker, {workerData: {file: files[i]}}), files.length)
const scanSideBySide = Object.fromEntries(files.map((f, i) => [path.basename(f), ends[i]]))
const ARITHMETIC = 'let x = 1; for (let i = 0; i < 6e8; i++) x = (x * 1103515245 + 12345) | 0; require("node:worker_threads").parentPort.postMessage(x)'
const spin = () => new Worker(ARITHMETIC, {eval: true})
const arithmetic = {alone: (await sideBySide(spin, 1))[0], sideBySide: Math.max(...(await sideBySide(spin, 2)))}

const correlation = await time(() => correlate(files.map((file) => ({file}))))
process.stdout.write(
  JSON.stringify({
    scanAloneSeconds: alone,
    scansTogetherSeconds: together,
    scanEndsSideBySideSeconds: scanSideBySide,
    arithmeticThreadSeconds: arithmetic,
    correlateSeconds: correlation,
  }) + '\n',
)
