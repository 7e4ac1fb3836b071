/**
 * A rotated series of one host's captures read as ONE capture: the members' records in order, numbered on
 * (frame N of the chain is what N would be in the unsplit file), one summary. Every stage that reads a capture
 * by name (scan, correlation, protocol replay) reads a chain the same way, so an IPVS entry, a flow or an idle gap
 * that crosses a file boundary is seen whole.
 *
 * A chain is a name registered with its member paths. The registry is worker_threads environment data: it is
 * copied into every Worker started afterwards, so scan and correlation workers resolve the same names.
 */
import {getEnvironmentData, setEnvironmentData} from 'node:worker_threads'

import {LvscopeError} from '../util/errors.js'
import type {CaptureRecord} from './record.js'
import type {CaptureSummary, RecordHandler} from './reader.js'
import {MAX_WARNINGS} from './state.js'

const KEY = 'lvscope:capture-chains'

function registry(): Record<string, string[]> {
  return (getEnvironmentData(KEY) as Record<string, string[]> | undefined) ?? {}
}

/** Make `name` read as the concatenation of `members` (in this thread and in workers started from now on). */
export function registerChain(name: string, members: readonly string[]): void {
  if (members.length === 0) throw new Error('registerChain: no members')
  setEnvironmentData(KEY, {...registry(), [name]: [...members]})
}

/** The member paths of a registered chain, or null for an ordinary path. */
export function chainMembers(name: string): readonly string[] | null {
  return registry()[name] ?? null
}

/**
 * Renumbers one member's records into the chain's numbering and collects the members' summaries. Per
 * record: two additions, no allocation.
 */
export class ChainNumbering {
  private frameBase = 0
  private ifaceBase = 0
  private readonly parts: CaptureSummary[] = []
  private readonly failed: LvscopeError[] = []

  constructor(
    readonly name: string,
    private readonly onRecord: RecordHandler,
  ) {}

  /** The handler for the next member's records. */
  readonly handler: RecordHandler = (rec: CaptureRecord) => {
    rec.frame += this.frameBase
    rec.interfaceId += this.ifaceBase
    this.onRecord(rec)
  }

  /** A member ended with this summary. */
  memberDone(s: CaptureSummary): void {
    this.parts.push(s)
    this.frameBase += s.packets
    this.ifaceBase += s.interfaces.length
  }

  /** A member gave nothing readable: the chain goes on, the error becomes one of its warnings. */
  memberFailed(e: LvscopeError): void {
    this.failed.push(e)
  }

  /** The chain's summary; throws when no member was readable. */
  summary(): CaptureSummary {
    const ps = this.parts
    if (ps.length === 0) {
      const first = this.failed[0]
      throw new LvscopeError(first?.code ?? 'not-a-capture', `${this.name}: no readable member (${this.failed.map((e) => e.message).join('; ')})`)
    }
    const warnings = [...this.failed.map((e) => ({code: e.code, offset: 0, message: e.message})), ...ps.flatMap((p) => p.warnings)]
    const interfaces = []
    let ifBase = 0
    let section = 0
    for (const p of ps) {
      for (const i of p.interfaces) interfaces.push({...i, id: i.id + ifBase, section: i.section + section})
      ifBase += p.interfaces.length
      section += p.sections
    }
    const same = <T>(f: (p: CaptureSummary) => T): boolean => ps.every((p) => f(p) === f(ps[0]))
    const withTs = ps.filter((p) => p.first !== null)
    return {
      file: this.name,
      format: same((p) => p.format) ? ps[0].format : 'pcapng',
      precision: same((p) => p.precision) ? ps[0].precision : ps.map((p) => p.precision).join('+'),
      compression: ps.some((p) => p.compression === 'gzip') ? 'gzip' : 'none',
      byteOrder: same((p) => p.byteOrder) ? ps[0].byteOrder : 'mixed',
      sections: section,
      interfaces,
      linktypes: [...new Set(ps.flatMap((p) => p.linktypes))],
      packets: ps.reduce((n, p) => n + p.packets, 0),
      first: withTs[0]?.first ?? null,
      last: withTs[withTs.length - 1]?.last ?? null,
      bytesRead: ps.reduce((n, p) => n + p.bytesRead, 0),
      warnings: warnings.slice(0, MAX_WARNINGS + 1),
    }
  }
}

/** Read a chain through `read`, one member after the other (readCapture does this for registered names). */
export async function readChain(
  name: string,
  members: readonly string[],
  onRecord: RecordHandler,
  read: (member: string, onRecord: RecordHandler) => Promise<CaptureSummary>,
): Promise<CaptureSummary> {
  const chain = new ChainNumbering(name, onRecord)
  for (const m of members) {
    try {
      chain.memberDone(await read(m, chain.handler))
    } catch (e) {
      if (!(e instanceof LvscopeError)) throw e
      chain.memberFailed(e)
    }
  }
  return chain.summary()
}
