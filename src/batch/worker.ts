/** A pool worker's loop: one task at a time, each answered with its result or the LvscopeError it raised. */
import {parentPort} from 'node:worker_threads'

import {LvscopeError} from '../util/errors.js'
import {runTask, type BatchTask} from './tasks.js'

parentPort?.on('message', (m: {id: number; task: BatchTask}) => {
  runTask(m.task).then(
    (ok) => parentPort?.postMessage({id: m.id, ok}),
    (err: unknown) => {
      if (err instanceof LvscopeError) parentPort?.postMessage({id: m.id, error: {code: err.code, message: err.message, exitCode: err.exitCode}})
      else parentPort?.postMessage({id: m.id, crash: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err)})
    },
  )
})
