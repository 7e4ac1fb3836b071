/**
 * Finished rows (one line of text each) in order of a numeric key, then id, without holding them all: a flow's
 * row is handed over when the flow leaves the table, and memory stays bounded however many flows a capture has.
 * - With a limit, a top-N heap keeps only the N first rows (memory follows N).
 * - Without one, an external merge sort: rows collect up to a byte budget, each full run is sorted and written
 *   to a temporary file, every 32 runs are merged into one, and the runs are merged at the end (memory follows
 *   the budget plus a read buffer per run merged at once). A capture whose rows fit never touches the disk.
 * Keys and ids order exactly as `(a, b) => a.key - b.key || a.id - b.id` would over the whole list.
 */
import {closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

interface Row {
  key: number
  id: number
  line: string
}

function before(a: Row, b: Row): boolean {
  return a.key < b.key || (a.key === b.key && a.id < b.id)
}

/** Rows of a run file, read back in 64 KiB blocks. Each line is `key \t id \t text`. */
class RunReader {
  private readonly buf = Buffer.alloc(1 << 16)
  private pending = ''
  private lines: string[] = []
  private next = 0
  private eof = false
  private readonly fd: number

  constructor(path: string) {
    this.fd = openSync(path, 'r')
  }

  read(): Row | null {
    while (this.next >= this.lines.length) {
      if (this.eof) return null
      const n = readSync(this.fd, this.buf, 0, this.buf.length, null)
      if (n === 0) {
        this.eof = true
        closeSync(this.fd)
        this.lines = this.pending === '' ? [] : [this.pending]
        this.pending = ''
      } else {
        const parts = (this.pending + this.buf.toString('utf8', 0, n)).split('\n')
        this.pending = parts.pop() as string
        this.lines = parts
      }
      this.next = 0
    }
    const l = this.lines[this.next++]
    const t1 = l.indexOf('\t')
    const t2 = l.indexOf('\t', t1 + 1)
    return {key: Number(l.slice(0, t1)), id: Number(l.slice(t1 + 1, t2)), line: l.slice(t2 + 1)}
  }
}

/** The rows of sorted run files, merged in order (a min-heap of the runs' current rows). */
function* mergeRuns(paths: readonly string[]): Generator<Row> {
  const heads: {row: Row; r: RunReader}[] = []
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(heads[i].row, heads[p].row)) break
      ;[heads[i], heads[p]] = [heads[p], heads[i]]
      i = p
    }
  }
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < heads.length && before(heads[l].row, heads[m].row)) m = l
      if (r < heads.length && before(heads[r].row, heads[m].row)) m = r
      if (m === i) return
      ;[heads[i], heads[m]] = [heads[m], heads[i]]
      i = m
    }
  }
  for (const p of paths) {
    const r = new RunReader(p)
    const row = r.read()
    if (row !== null) {
      heads.push({row, r})
      up(heads.length - 1)
    }
  }
  while (heads.length > 0) {
    const top = heads[0]
    yield top.row
    const next = top.r.read()
    if (next !== null) {
      top.row = next
      down(0)
    } else {
      const last = heads.pop() as {row: Row; r: RunReader}
      if (heads.length > 0) {
        heads[0] = last
        down(0)
      }
    }
  }
}

/** Runs merged at once at most: each holds a read buffer and a block of lines while merging. */
const FAN_IN = 32

/** Writes rows as a run file: `key \t id \t text` lines. */
function writeRun(path: string, rows: Iterable<Row>): void {
  const fd = openSync(path, 'w')
  try {
    let chunk = ''
    for (const r of rows) {
      // String(number) round-trips exactly.
      chunk += `${r.key}\t${r.id}\t${r.line}\n`
      if (chunk.length >= 1 << 20) {
        writeSync(fd, chunk)
        chunk = ''
      }
    }
    if (chunk !== '') writeSync(fd, chunk)
  } finally {
    closeSync(fd)
  }
}

export interface RowSorterOptions {
  /** Keep only the first `limit` rows (a top-N heap). */
  limit?: number
  /** Characters of rows held before a run is written out (default 32 Mi). */
  budgetChars?: number
}

export class RowSorter {
  /** Rows added. */
  count = 0
  private rows: Row[] = []
  private chars = 0
  private readonly limit: number
  private readonly budget: number
  private dir: string | null = null
  private readonly runs: string[] = []
  /** Run files written so far (their names), and runs written since the last merge of FAN_IN of them. */
  private files = 0
  private fresh = 0

  constructor(opts: RowSorterOptions = {}) {
    this.limit = opts.limit ?? Infinity
    this.budget = opts.budgetChars ?? 8 * 1024 * 1024
  }

  /** Add one row; `line` must hold no newline. */
  add(key: number, id: number, line: string): void {
    this.count++
    const row = {key, id, line}
    if (this.limit !== Infinity) {
      this.offer(row)
      return
    }
    this.rows.push(row)
    this.chars += line.length + 24
    if (this.chars >= this.budget) this.spill()
  }

  /** The rows in order (at most `limit`); temporary files are removed once the iteration ends. */
  *sorted(): Generator<string> {
    try {
      if (this.limit !== Infinity) {
        // The heap's worst row is on top: pop them all, then read the list backwards.
        const out: Row[] = []
        while (this.rows.length > 0) out.push(this.pop())
        for (let i = out.length - 1; i >= 0; i--) yield out[i].line
        return
      }
      if (this.runs.length === 0) {
        this.rows.sort((a, b) => a.key - b.key || a.id - b.id)
        for (const r of this.rows) yield r.line
        return
      }
      if (this.rows.length > 0) this.spill()
      for (const row of mergeRuns(this.runs)) yield row.line
    } finally {
      this.rows = []
      if (this.dir !== null) rmSync(this.dir, {recursive: true, force: true})
      this.dir = null
    }
  }

  /**
   * Sort the held rows and write them out as one run. Every FAN_IN fresh runs are merged into one longer run, so
   * the final merge reads from few files whatever the number of rows (each row is rewritten once per level).
   */
  private spill(): void {
    this.rows.sort((a, b) => a.key - b.key || a.id - b.id)
    if (this.dir === null) this.dir = mkdtempSync(join(tmpdir(), 'lvscope-rows-'))
    const dir = this.dir
    const name = (): string => join(dir, `run-${this.files++}`)
    const path = name()
    writeRun(path, this.rows)
    this.runs.push(path)
    this.rows = []
    this.chars = 0
    this.fresh++
    if (this.fresh >= FAN_IN) {
      const parts = this.runs.splice(this.runs.length - this.fresh, this.fresh)
      const merged = name()
      writeRun(merged, mergeRuns(parts))
      for (const p of parts) rmSync(p, {force: true})
      this.runs.push(merged)
      this.fresh = 0
    }
  }

  // ---- top-N: a max-heap on (key, id) of at most `limit` rows ----
  private offer(row: Row): void {
    const h = this.rows
    if (h.length < this.limit) {
      h.push(row)
      let i = h.length - 1
      while (i > 0) {
        const p = (i - 1) >> 1
        if (!before(h[p], h[i])) break
        ;[h[i], h[p]] = [h[p], h[i]]
        i = p
      }
      return
    }
    if (!before(row, h[0])) return
    h[0] = row
    this.siftDown(0)
  }

  private pop(): Row {
    const h = this.rows
    const top = h[0]
    const last = h.pop() as Row
    if (h.length > 0) {
      h[0] = last
      this.siftDown(0)
    }
    return top
  }

  private siftDown(i: number): void {
    const h = this.rows
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < h.length && before(h[m], h[l])) m = l
      if (r < h.length && before(h[m], h[r])) m = r
      if (m === i) return
      ;[h[i], h[m]] = [h[m], h[i]]
      i = m
    }
  }
}
