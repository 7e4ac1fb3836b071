/** `batch merge`: the shards' NDJSON lines, each incident and each problem file once. */
import {readFileSync} from 'node:fs'

import {LvscopeError, UsageError} from '../util/errors.js'
import {isIncident, isProblem} from './summary.js'
import type {BatchLine} from './types.js'

export function mergeLines(files: readonly string[]): {lines: BatchLine[]; warnings: string[]} {
  const byKey = new Map<string, {text: string; line: BatchLine}>()
  const warnings: string[] = []
  for (const f of files) {
    let text: string
    try {
      text = readFileSync(f, 'utf8')
    } catch (e) {
      throw new LvscopeError('io', `${f}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
    }
    text.split('\n').forEach((raw, i) => {
      if (raw.trim() === '') return
      let line: BatchLine
      try {
        line = JSON.parse(raw) as BatchLine
      } catch {
        throw new UsageError(`${f}:${i + 1}: not a JSON line`)
      }
      if (!isIncident(line) && !isProblem(line)) throw new UsageError(`${f}:${i + 1}: not a line written by lvscope batch --ndjson`)
      const key = isIncident(line) ? `i:${line.key}` : `f:${line.file}`
      const seen = byKey.get(key)
      // A shard run twice gives the same line twice; different lines for one key mean different runs.
      if (seen !== undefined) {
        if (seen.text !== raw) warnings.push(`${f}:${i + 1}: ${isIncident(line) ? `incident ${line.incident}` : line.file} differs from an earlier line; the first is kept`)
        return
      }
      byKey.set(key, {text: raw, line})
    })
  }
  return {lines: [...byKey.values()].map((v) => v.line), warnings}
}
