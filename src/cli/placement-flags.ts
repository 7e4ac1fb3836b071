import {statSync} from 'node:fs'

import {Flags} from '@oclif/core'

import type {Role} from '../report/report.js'
import {errnoReason, UsageError} from '../util/errors.js'
import {clockOffsetFlag, type ClockOffset} from './flags.js'
import {expandInputs, looksLikeCapture} from './inputs.js'

/** The flags that place captures by hand (roles and clock offsets), shared by analyze and correlate. */
export const placementFlags = {
  director: Flags.string({description: "this capture is a director's (repeatable)", multiple: true}),
  'real-server': Flags.string({description: "this capture is a real server's (repeatable)", multiple: true}),
  client: Flags.string({description: "this capture is the client's (repeatable)", multiple: true}),
  'clock-offset': clockOffsetFlag({multiple: true}),
}

export interface PlacementFlags {
  director?: string[]
  'real-server'?: string[]
  client?: string[]
  'clock-offset'?: ClockOffset[]
}

export interface Placement {
  /** The captures to read: the arguments expanded, plus the files the role flags name, each once. */
  files: string[]
  roles: Map<string, Role>
  offsets: Map<string, number>
}

const FLAG_OF: Record<Role, string> = {director: '--director', 'real-server': '--real-server', client: '--client', unknown: ''}

/** Same file on disk (through links and different spellings of the path), or null when it cannot be stat'ed. */
function identity(path: string): string | null {
  try {
    const s = statSync(path)
    return `${s.dev}:${s.ino}`
  } catch {
    return null
  }
}

/**
 * Expand the inputs and check the placement flags against them: a role names a readable capture, one role per
 * file, and a clock offset names one of the inputs. Files are matched by identity, so `./rs1.pcap` and
 * `dir/rs1.pcap` (from `dir`) are the same capture.
 */
export function placeInputs(args: string[], flags: PlacementFlags, warn: (message: string) => void): Placement {
  const byRole: [Role, string[] | undefined][] = [
    ['director', flags.director],
    ['real-server', flags['real-server']],
    ['client', flags.client],
  ]
  for (const [role, list] of byRole) {
    for (const f of list ?? []) {
      let capture: boolean
      try {
        capture = statSync(f).isFile() && looksLikeCapture(f)
      } catch (err) {
        throw new UsageError(`${FLAG_OF[role]} ${f}: cannot read it: ${errnoReason(err)}`)
      }
      if (!capture) throw new UsageError(`${FLAG_OF[role]} ${f}: not a pcap, pcapng or gzip capture file`)
    }
  }
  const expanded = expandInputs([...args, ...byRole.flatMap(([, list]) => list ?? [])], {stdin: false, warn})
  // One entry per file on disk, under the first name it was given.
  const files: string[] = []
  const nameOf = new Map<string, string>()
  for (const f of expanded) {
    const id = identity(f) ?? `path:${f}`
    if (nameOf.has(id)) continue
    nameOf.set(id, f)
    files.push(f)
  }
  const lookup = (f: string): string | undefined => nameOf.get(identity(f) ?? `path:${f}`)

  const roles = new Map<string, Role>()
  for (const [role, list] of byRole) {
    for (const f of list ?? []) {
      const file = lookup(f) ?? f
      const had = roles.get(file)
      if (had !== undefined && had !== role) throw new UsageError(`${f}: given as both ${FLAG_OF[had]} and ${FLAG_OF[role]}; a capture has one role`)
      roles.set(file, role)
    }
  }
  const offsets = new Map<string, number>()
  for (const o of flags['clock-offset'] ?? []) {
    const file = lookup(o.file)
    if (file === undefined) throw new UsageError(`--clock-offset ${o.file}=…: ${o.file} is not among the captures given`)
    if (offsets.has(file) && offsets.get(file) !== o.seconds) throw new UsageError(`--clock-offset ${o.file}: given twice with different values`)
    offsets.set(file, o.seconds)
  }
  return {files, roles, offsets}
}

/**
 * The placement flags as given, unchecked: for `batch`, whose captures are found in an archive, so a role or an
 * offset names a file that may or may not be among an incident's files (two roles for one file still conflict).
 */
export function placementOf(flags: PlacementFlags): Pick<Placement, 'roles' | 'offsets'> {
  const roles = new Map<string, Role>()
  for (const [role, list] of [['director', flags.director], ['real-server', flags['real-server']], ['client', flags.client]] as const) {
    for (const f of list ?? []) {
      const had = roles.get(f)
      if (had !== undefined && had !== role) throw new UsageError(`${f}: given as both ${FLAG_OF[had]} and ${FLAG_OF[role]}; a capture has one role`)
      roles.set(f, role)
    }
  }
  return {roles, offsets: new Map((flags['clock-offset'] ?? []).map((o) => [o.file, o.seconds]))}
}
