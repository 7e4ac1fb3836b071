import {Flags} from '@oclif/core'

import type {Role} from '../report/report.js'
import {UsageError} from '../util/errors.js'

/** The flags that place captures by hand (roles and clock offsets), shared by analyze and correlate. */
export const placementFlags = {
  director: Flags.string({description: "this capture is a director's (repeatable)", multiple: true}),
  'real-server': Flags.string({description: "this capture is a real server's (repeatable)", multiple: true}),
  client: Flags.string({description: "this capture is the client's (repeatable)", multiple: true}),
  'clock-offset': Flags.string({description: 'FILE=SECONDS: capture time minus reference time (overrides the estimate)', multiple: true}),
}

export interface Placement {
  roles: Map<string, Role>
  offsets: Map<string, number>
}

export function parsePlacement(flags: {director?: string[]; 'real-server'?: string[]; client?: string[]; 'clock-offset'?: string[]}): Placement {
  const roles = new Map<string, Role>()
  for (const f of flags.director ?? []) roles.set(f, 'director')
  for (const f of flags['real-server'] ?? []) roles.set(f, 'real-server')
  for (const f of flags.client ?? []) roles.set(f, 'client')
  const offsets = new Map<string, number>()
  for (const item of flags['clock-offset'] ?? []) {
    const i = item.lastIndexOf('=')
    const v = Number(item.slice(i + 1))
    if (i <= 0 || !Number.isFinite(v)) throw new UsageError(`--clock-offset wants FILE=SECONDS, got "${item}"`)
    offsets.set(item.slice(0, i), v)
  }
  return {roles, offsets}
}
