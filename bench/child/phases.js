#!/usr/bin/env node
// Where `analyze` spends its time: each capture's scan alone, both scans side by side (as analyze runs them,
// one worker thread each), then the correlation pass. Uses dist/ (build first).
// Usage: node bench/child/phases.js DIRECTOR RS   → one JSON line on stdout.
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

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
const correlation = await time(() => correlate(files.map((file) => ({file}))))
process.stdout.write(JSON.stringify({scanAloneSeconds: alone, scansTogetherSeconds: together, correlateSeconds: correlation}) + '\n')
