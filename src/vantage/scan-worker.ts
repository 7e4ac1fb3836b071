/** Worker thread entry: scan one capture and post the plain result (see scanCaptures). */
import {parentPort, workerData} from 'node:worker_threads'

import {LvscopeError} from '../util/errors.js'
import {scanCapture} from './scan.js'

const {file} = workerData as {file: string}
try {
  parentPort?.postMessage({ok: await scanCapture(file)})
} catch (err) {
  if (!(err instanceof LvscopeError)) throw err
  parentPort?.postMessage({error: {code: err.code, message: err.message, exitCode: err.exitCode}})
}
