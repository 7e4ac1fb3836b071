/** The pcapng interface cap counts per section: interface ids restart at every section header. */
import {describe, expect, it} from 'vitest'

import {MAX_INTERFACES} from '../../src/capture/state.js'
import {PcapngBuilder} from '../helpers/capture-writer.js'
import {parseChunked} from './helpers.js'

const frame = new Uint8Array(60).fill(0xab)

describe('pcapng interface cap', () => {
  it('reads a valid file of 100,000 sections with one interface each to the end', () => {
    const b = new PcapngBuilder()
    for (let i = 0; i < 100_000; i++) b.shb().idb({linktype: 1, snaplen: 65535}).epb({iface: 0, ts: BigInt(i), data: frame})
    const r = parseChunked(b.build())
    expect(r.error).toBeNull()
    expect(r.summary?.warnings).toEqual([])
    expect(r.summary?.sections).toBe(100_000)
    expect(r.summary?.interfaces.length).toBe(100_000)
    expect(r.recs.length).toBe(100_000)
  })

  it('stops a section that declares more than the cap, with the byte offset', () => {
    const b = new PcapngBuilder().shb()
    for (let i = 0; i <= MAX_INTERFACES; i++) b.idb({linktype: 1, snaplen: 65535})
    b.epb({iface: 0, ts: 1n, data: frame})
    const r = parseChunked(b.build())
    expect(r.summary?.warnings.map((w) => w.code)).toEqual(['too-many-interfaces'])
    expect(r.summary?.warnings[0].message).toMatch(/interface at byte \d+: section 0 declares more than 65536 interfaces/)
    expect(r.summary?.interfaces.length).toBe(MAX_INTERFACES)
    expect(r.recs.length).toBe(0)
  })
})
