import {existsSync} from 'node:fs'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {RowSorter} from '../../src/flow/row-sort.js'

/** What `flows` did before: every row in memory, sorted by key then id. */
function reference(rows: [number, number, string][], limit?: number): string[] {
  const s = [...rows].sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((r) => r[2])
  return limit === undefined ? s : s.slice(0, limit)
}

const rowsArb = fc.uniqueArray(fc.tuple(fc.oneof(fc.integer({min: -5, max: 5}), fc.double({noNaN: true, noDefaultInfinity: true})), fc.nat(), fc.string()), {
  selector: (r) => r[1],
  maxLength: 300,
})

describe('RowSorter', () => {
  it('external sort (runs spilled to disk) gives the in-memory order', () => {
    fc.assert(
      fc.property(rowsArb, fc.integer({min: 1, max: 2000}), (rows, budget) => {
        const s = new RowSorter({budgetChars: budget})
        const clean = rows.map(([k, id, t]) => [k, id, t.replace(/\n/g, ' ')] as [number, number, string])
        for (const [k, id, t] of clean) s.add(k, id, t)
        expect([...s.sorted()]).toEqual(reference(clean))
        expect(s.count).toBe(rows.length)
      }),
      {numRuns: 200},
    )
  })

  it('top-N heap with a limit gives the first N of the full order', () => {
    fc.assert(
      fc.property(rowsArb, fc.integer({min: 1, max: 50}), (rows, limit) => {
        const s = new RowSorter({limit})
        for (const [k, id, t] of rows) s.add(k, id, t)
        expect([...s.sorted()]).toEqual(reference(rows, limit))
      }),
      {numRuns: 200},
    )
  })

  it('writes runs to a temporary folder and removes it', () => {
    const s = new RowSorter({budgetChars: 100})
    for (let i = 0; i < 1000; i++) s.add(i % 7, i, `row ${i} ${'x'.repeat(i % 30)}`)
    const dir = (s as unknown as {dir: string | null}).dir
    expect(dir).not.toBeNull()
    expect(existsSync(dir as string)).toBe(true)
    const out = [...s.sorted()]
    expect(out).toHaveLength(1000)
    expect(out[0]).toBe('row 0 ')
    expect(existsSync(dir as string)).toBe(false)
  })
})
