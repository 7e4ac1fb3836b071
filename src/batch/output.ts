/** Where a run's lines go: --ndjson FILE|- (streamed), --csv FILE, the summary; shared by batch and merge. */
import {createWriteStream, writeFileSync, type WriteStream} from 'node:fs'

import {LvscopeError} from '../util/errors.js'
import {renderCsv} from './summary.js'
import type {BatchLine} from './types.js'

export class NdjsonSink {
  private readonly stream: WriteStream | NodeJS.WriteStream | null

  constructor(target: string | undefined) {
    if (target === undefined) this.stream = null
    else if (target === '-') this.stream = process.stdout
    else {
      this.stream = createWriteStream(target)
      this.stream.on('error', () => {})
    }
  }

  get toStdout(): boolean {
    return this.stream === process.stdout
  }

  write(line: BatchLine): void {
    this.stream?.write(`${JSON.stringify(line)}\n`)
  }

  async close(): Promise<void> {
    const s = this.stream
    if (s === null || s === process.stdout) return
    await new Promise<void>((resolve, reject) => {
      ;(s as WriteStream).once('error', (e) => reject(new LvscopeError('io', `cannot write the NDJSON file: ${(e as NodeJS.ErrnoException).code ?? e.message}`)))
      ;(s as WriteStream).end(() => resolve())
    })
  }
}

export function writeCsv(path: string | undefined, lines: readonly BatchLine[]): void {
  if (path === undefined) return
  const text = renderCsv(lines)
  if (path === '-') process.stdout.write(text)
  else {
    try {
      writeFileSync(path, text)
    } catch (e) {
      throw new LvscopeError('io', `${path}: cannot write: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
    }
  }
}
