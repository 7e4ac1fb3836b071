import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN} from '../../src/decode/packet.js'
import {kernelTraits} from '../../src/ipvs/kernel.js'
import {FlowReplay, type ReplayPacket} from '../../src/ipvs/replay.js'
import {flagClass} from '../../src/ipvs/state.js'
import {stateTimeoutsOf} from '../../src/ipvs/timeouts.js'

const opts = {timeouts: stateTimeoutsOf({tcp: 10, tcpfin: 4, udp: 30}), traits: kernelTraits('6.1')}
const pkt = (t: number, flags: number, forwarded = true, frame = Math.round(t * 1000)): ReplayPacket => ({t, flags, forwarded, frame})

describe('FlowReplay: what the entry held when a packet arrived', () => {
  it('a half-closed flow stays in FIN_WAIT on later ACKs, with the tcpfin timer', () => {
    const r = new FlowReplay([pkt(1, TCP_ACK), pkt(2, TCP_FIN | TCP_ACK), pkt(3, TCP_ACK), pkt(8, TCP_ACK, false)], {...opts, established: true})
    expect(r.at(2.5)).toMatchObject({status: 'held', stateName: 'FIN_WAIT', timeout: 4, expiresAt: 6})
    expect(r.at(8)).toMatchObject({status: 'expired', state: 'FW', lastForwardedAt: 3, lastForwardedFrame: 3000, expiresAt: 7})
  })

  it('never: nothing of the flow forwarded before', () => {
    expect(new FlowReplay([pkt(5, TCP_ACK, false)], {...opts, established: true}).at(5)).toMatchObject({status: 'never', state: null})
  })

  it('from a SYN: SYN_RECV, then ESTABLISHED', () => {
    const r = new FlowReplay([pkt(0, TCP_SYN), pkt(0.1, TCP_ACK)], {...opts, established: false})
    expect(r.at(0.05)).toMatchObject({stateName: 'SYN_RECV', timeout: 60})
    expect(r.at(5)).toMatchObject({status: 'held', stateName: 'ESTABLISHED', timeout: 10})
  })

  it('asks decide() why a held entry\'s packet is dropped or reset', () => {
    const r = new FlowReplay([pkt(1, TCP_ACK)], {...opts, established: true})
    expect(r.decisionAt(2, TCP_ACK, {available: true, expireNodestConn: false})).toBe('entry')
    expect(r.decisionAt(2, TCP_ACK, {available: false, expireNodestConn: false})).toBe('dest-unavailable')
    expect(r.decisionAt(2, TCP_ACK, {available: false, expireNodestConn: true})).toBe('nodest-reschedule')
    // Expired: the stack answers, whatever the real server's state.
    expect(r.decisionAt(20, TCP_ACK, {available: true, expireNodestConn: false})).toBe('no-entry')
  })

  it('the first and last packet of each run of one flag class give the whole run\'s answers', () => {
    // The INPUT-ONLY table is idempotent per flag class (a second FIN in FIN_WAIT stays FIN_WAIT, …): the
    // diagnosis keeps only such milestones per flow, so this property is what makes its replay exact. Every
    // packet is forwarded, so no gap outlives the shortest timer (FIN_WAIT 4 s) in the whole flow; the ends of a
    // run may be further apart, and the replay must still see a live entry there.
    const cls = fc.constantFrom(TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST, TCP_SYN)
    fc.assert(
      fc.property(fc.array(fc.tuple(cls, fc.double({min: 0.01, max: 3.9, noNaN: true})), {minLength: 1, maxLength: 40}), (steps) => {
        let t = 0
        const full = steps.map(([flags, dt], i) => pkt((t += dt), flags, true, i))
        const kept = full.filter((p, i) => i === 0 || i === full.length - 1 || flagClass(full[i - 1].flags) !== flagClass(p.flags) || flagClass(full[i + 1].flags) !== flagClass(p.flags))
        const a = new FlowReplay(full, {...opts, established: true})
        const b = new FlowReplay(kept, {...opts, established: true})
        for (const p of kept) {
          const q = p.t + 1e-3
          expect(b.at(q)).toEqual(a.at(q))
        }
        expect(b.at(t + 100)).toEqual(a.at(t + 100))
      }),
      {numRuns: Number(process.env.RUNS ?? 100)},
    )
  })
})
