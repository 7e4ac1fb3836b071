import {describe, expect, it} from 'vitest'

import {FrameClass} from '../../src/vantage/dr-pairs.js'
import {scanCapture} from '../../src/vantage/scan.js'
import {TCP} from '../helpers/frames.js'
import {CaptureBuilder, HOSTS} from '../helpers/lvs.js'

const Q = [0x03, 0x73, 0x65, 0x6c] // a few payload bytes

describe('DR copies and Wireshark artifacts on a director capture', () => {
  it('pairs every forwarded copy, explains its false flags, and keeps a genuine retransmission genuine', async () => {
    const b = new CaptureBuilder()
      .client(0.0, {sport: 40000, seq: 100, flags: TCP.SYN, id: 1}, 0)
      .client(0.1, {sport: 40000, seq: 101, ack: 5001, id: 2}, 0)
      .client(0.2, {sport: 40000, seq: 101, ack: 5001, flags: TCP.ACK | TCP.PSH, payload: Q, id: 3}, 0)
      // Genuine retransmission of the same bytes: new IP ID, forwarded again.
      .client(0.6, {sport: 40000, seq: 101, ack: 5001, flags: TCP.ACK | TCP.PSH, payload: Q, id: 4}, 0)
      .client(0.7, {sport: 40000, seq: 105, ack: 5100, id: 5}, 0)
      .client(0.8, {sport: 40000, seq: 105, ack: 5100, id: 6}, 0)
    const s = await scanCapture(b.write('director.pcap'))
    const a = s.artifacts
    expect(a.drCopies).toBe(6)
    expect(a.forwarding).toBe('DR')
    expect(a.ttl).toBe('decremented')
    expect(a.directorMacs).toEqual([HOSTS.director.mac])
    expect(a.realServers).toEqual([{realServer: HOSTS.rs[0].mac, copies: 6}])
    expect(a.services).toEqual([{service: `${HOSTS.vip}:${HOSTS.port}`, copies: 6}])
    // Wireshark (tshark 4.0 rules): SYN copy, data copy and the retransmission's copy are retransmissions;
    // the genuine retransmission is one too; ACK copies are dup ACKs, and the genuine repeated ACK as well.
    expect(a.wireshark.retransmission).toBe(4)
    expect(a.genuine.retransmission).toBe(1)
    expect(a.genuineRetransmissions).toBe(1)
    expect(a.byClass['dr-copy'].retransmission).toBe(3)
    expect(a.genuine.duplicate_ack).toBe(1)
    expect(a.byClass['dr-copy'].duplicate_ack).toBe(a.wireshark.duplicate_ack - 1)
  })

  it('counts a TTL-preserving director (old kernels) and SLL2 (-i any) captures', async () => {
    const b = new CaptureBuilder(276)
      .client(0, {sport: 40001, seq: 1, flags: TCP.SYN, id: 7, ttl: 64}, 1)
      .client(0.1, {sport: 40001, seq: 2, ack: 9, id: 8}, 1)
    const s = await scanCapture(b.write('director-any.pcap'))
    expect(s.artifacts.drCopies).toBe(2)
    expect(s.artifacts.directorMacs).toEqual([HOSTS.director.mac])
  })

  it('tells byte-identical mirror duplicates from DR copies', async () => {
    const b = new CaptureBuilder()
    const seg = {sport: 40002, seq: 1, ack: 2, flags: TCP.ACK | TCP.PSH, payload: Q, id: 9}
    b.client(0, seg, null).client(0.00001, seg, null)
    const s = await scanCapture(b.write('span.pcap'))
    expect(s.artifacts.drCopies).toBe(0)
    expect(s.artifacts.spanDuplicates).toBe(1)
    expect(s.artifacts.byClass['span-duplicate'].retransmission).toBe(1)
    expect(s.artifacts.genuine.retransmission).toBe(0)
  })

  it('exports the frame classes the dedupe and correlation stages rely on', () => {
    expect(FrameClass).toEqual({Original: 0, DrCopy: 1, SpanDuplicate: 2})
  })
})
