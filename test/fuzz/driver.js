// One process for many command runs (the fuzz test's runner): each stdin line is a JSON argv; each answer line
// is {code, stdout, stderr}. Saves the ~0.5-3 s of Node and oclif start-up per run; the commands are the built
// ones (dist/), run as bin/run.js runs them, with stdout and stderr captured.
import {createInterface} from 'node:readline'
import {Config, Errors, run} from '@oclif/core'

const config = await Config.load({root: new URL('../..', import.meta.url).pathname})
const realOut = process.stdout.write.bind(process.stdout)
const realErr = process.stderr.write.bind(process.stderr)
for await (const line of createInterface({input: process.stdin})) {
  const argv = JSON.parse(line)
  let stdout = ''
  let stderr = ''
  process.stdout.write = (chunk, ...rest) => {
    stdout += String(chunk)
    const cb = rest.find((x) => typeof x === 'function')
    if (cb) cb()
    return true
  }
  process.stderr.write = (chunk, ...rest) => {
    stderr += String(chunk)
    const cb = rest.find((x) => typeof x === 'function')
    if (cb) cb()
    return true
  }
  let code = 0
  try {
    await run(argv, config)
  } catch (err) {
    if (err instanceof Errors.ExitError) code = err.oclif.exit
    else {
      code = -1
      stderr += `driver: ${err?.stack ?? err}\n`
    }
  } finally {
    process.stdout.write = realOut
    process.stderr.write = realErr
  }
  realOut(`${JSON.stringify({code, stdout, stderr})}\n`)
}
