/**
 * One-shot worker threads: run a compiled module with some data, get back one plain result or the
 * LvscopeError it raised. Running from TypeScript sources (tests), the compiled worker is absent and
 * callers do the work on their own thread instead.
 */
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {parentPort, Worker} from 'node:worker_threads'

import {LvscopeError} from './errors.js'

type Outcome<T> = {ok: T} | {error: {code: LvscopeError['code']; message: string; exitCode: number}}

/** True when `url` is a compiled module that a Worker can run. */
export function workerAvailable(url: URL): boolean {
  return url.protocol === 'file:' && url.pathname.endsWith('.js') && existsSync(fileURLToPath(url))
}

/** Run the worker module at `url` with `data` as its workerData; resolves with what it posted. */
export function runInWorker<T>(url: URL, data: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(url, {workerData: data})
    w.once('message', (m: Outcome<T>) => {
      void w.terminate()
      if ('ok' in m) resolve(m.ok)
      else reject(new LvscopeError(m.error.code, m.error.message, m.error.exitCode))
    })
    w.once('error', reject)
  })
}

/** Worker side: post the task's result, or the LvscopeError it raised (anything else stays a crash). */
export async function postOutcome<T>(task: () => Promise<T>): Promise<void> {
  let m: Outcome<T>
  try {
    m = {ok: await task()}
  } catch (err) {
    if (!(err instanceof LvscopeError)) throw err
    m = {error: {code: err.code, message: err.message, exitCode: err.exitCode}}
  }
  parentPort?.postMessage(m)
}
