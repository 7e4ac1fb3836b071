/**
 * `--manifest incidents.json`: named groups of files, each with optional analyze flags.
 *
 *   {"incidents": [{"name": "ticket-4711", "files": ["dir1/", "rs1/rs1-*.pcap.gz"], "flags": {"timeouts": "6,3,30"}}]}
 *
 * Paths and globs are relative to the manifest's directory; flag names are analyze's.
 */
import {readFileSync} from 'node:fs'
import {dirname, isAbsolute, join} from 'node:path'

import {UsageError} from '../util/errors.js'
import type {IncidentFlags} from './types.js'

export interface ManifestIncident {
  name: string
  files: string[]
  flags: IncidentFlags
}

const STRING_FLAGS = {timeouts: 'timeouts', 'persistence-mask': 'persistenceMask', 'keepalived-version': 'keepalivedVersion', kernel: 'kernel'} as const

export function readManifest(path: string): ManifestIncident[] {
  let doc: unknown
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new UsageError(`${path}: cannot read the manifest: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  const bad = (what: string): never => {
    throw new UsageError(`${path}: ${what}`)
  }
  const incidents = (doc as {incidents?: unknown})?.incidents
  if (!Array.isArray(incidents)) bad('wants {"incidents": [{"name": …, "files": […], "flags": {…}}]}')
  const rel = (f: string): string => (isAbsolute(f) ? f : join(dirname(path), f))
  const names = new Set<string>()
  return (incidents as unknown[]).map((inc, i) => {
    const o = inc as {name?: unknown; files?: unknown; flags?: unknown}
    if (typeof o?.name !== 'string' || o.name === '') bad(`incident ${i + 1}: "name" must be a non-empty string`)
    const name = o.name as string
    if (names.has(name)) bad(`incident "${name}" is named twice`)
    names.add(name)
    if (!Array.isArray(o.files) || o.files.length === 0 || !o.files.every((f) => typeof f === 'string')) bad(`incident "${name}": "files" must be a list of paths`)
    const flags: IncidentFlags = {}
    const given = (o.flags ?? {}) as Record<string, unknown>
    if (typeof given !== 'object' || Array.isArray(given)) bad(`incident "${name}": "flags" must be an object`)
    for (const [k, v] of Object.entries(given)) {
      if (k in STRING_FLAGS) {
        if (typeof v !== 'string') bad(`incident "${name}": flag "${k}" must be a string`)
        flags[STRING_FLAGS[k as keyof typeof STRING_FLAGS]] = v as string
      } else if (k === 'persistence') {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad(`incident "${name}": flag "persistence" must be a positive integer`)
        flags.persistence = v as number
      } else if (k === 'config') {
        const list = typeof v === 'string' ? [v] : v
        if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) bad(`incident "${name}": flag "config" must be a path or a list of paths`)
        flags.config = (list as string[]).map(rel)
      } else bad(`incident "${name}": unknown flag "${k}" (allowed: timeouts, persistence, persistence-mask, config, keepalived-version, kernel)`)
    }
    return {name, files: (o.files as string[]).map(rel), flags}
  })
}
