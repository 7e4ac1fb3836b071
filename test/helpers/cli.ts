import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Run the built CLI as a user would (`npm test` builds dist/ first, in its pretest step). */
export function runCli(args: string[], input?: Buffer): CliResult {
  const r = spawnSync(process.execPath, [`${ROOT}bin/run.js`, ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: {...process.env, NO_COLOR: '1'},
  })
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}

export const REPO_ROOT = ROOT

/** tshark, when installed: the oracle of the differential tests. */
export function hasTshark(): boolean {
  return spawnSync('tshark', ['--version'], {encoding: 'utf8'}).status === 0
}

export function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, {encoding: 'utf8', maxBuffer: 512 * 1024 * 1024})
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}
