import {describe, expect, it} from 'vitest'
import type {CaptureRecord} from '../../src/capture/record.js'
import {newCaptureRecord} from '../../src/capture/record.js'
import {decodeFrame, decodeRecord} from '../../src/decode/decode.js'
import {ipv4ToString, ipv6ToString, macToString} from '../../src/decode/format.js'
import {LINKTYPE} from '../../src/decode/linktypes.js'
import {Link, Packet, Stop, TCP_ACK, TCP_PSH, TCP_SYN} from '../../src/decode/packet.js'
import {
  TCP,
  arp,
  concat,
  ethernet,
  icmp,
  ipv4,
  ipv6,
  nullHdr,
  padTo60,
  sll,
  sll2,
  tcp,
  tcpOpt,
  udp,
} from '../helpers/frames.js'

const pkt = new Packet()

function dec(frame: Uint8Array, lt: number = LINKTYPE.ETHERNET, fcsLen = 0): Packet {
  return decodeFrame(frame, 0, frame.length, lt, pkt, fcsLen)
}

const CLIENT = '198.51.100.7'
const VIP = '203.0.113.10'

function v4tcp(tcpOpts: Parameters<typeof tcp>[0], data: number[] = [], ip: Partial<Parameters<typeof ipv4>[0]> = {}) {
  return ipv4({src: CLIENT, dst: VIP, proto: 6, ...ip}, tcp(tcpOpts, data))
}

describe('Ethernet + IPv4 + TCP', () => {
  const syn = ethernet(
    {src: '52:54:00:aa:bb:cc', dst: '52:54:00:11:22:33', type: 0x0800},
    v4tcp(
      {
        sport: 40000,
        dport: 80,
        seq: 0xfffffff0,
        ack: 0,
        flags: TCP.SYN,
        window: 29200,
        options: [...tcpOpt.mss(1460), ...tcpOpt.sackPerm(), ...tcpOpt.ts(0xdeadbeef, 0), ...tcpOpt.nop(), ...tcpOpt.wscale(7)],
      },
      [],
      {ttl: 63, id: 0xbeef, df: true, tos: 0x28},
    ),
  )

  it('fills every layer', () => {
    const p = dec(syn)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.link).toBe(Link.Ethernet)
    expect(macToString(p.data, p.macSrcOff)).toBe('52:54:00:aa:bb:cc')
    expect(macToString(p.data, p.macDstOff)).toBe('52:54:00:11:22:33')
    expect(p.vlanCount).toBe(0)
    expect(p.ethertype).toBe(0x0800)
    expect(p.ipVersion).toBe(4)
    expect(p.l3Off).toBe(14)
    expect(p.ipHdrLen).toBe(20)
    expect(p.ipTotalLen).toBe(20 + 40)
    expect(ipv4ToString(p.v4Src)).toBe(CLIENT)
    expect(ipv4ToString(p.v4Dst)).toBe(VIP)
    expect(p.ttl).toBe(63)
    expect(p.ipId).toBe(0xbeef)
    expect(p.df).toBe(true)
    expect(p.fragment).toBe(false)
    expect(p.dscp).toBe(0x28 >> 2)
    expect(p.proto).toBe(6)
    expect(p.tunnelVersion).toBe(0)
    expect(p.l4Off).toBe(34)
    expect(p.sport).toBe(40000)
    expect(p.dport).toBe(80)
    expect(p.seq).toBe(0xfffffff0)
    expect(p.ack).toBe(0)
    expect(p.tcpFlags).toBe(TCP_SYN)
    expect(p.window).toBe(29200)
    expect(p.tcpHdrLen).toBe(40)
    expect(p.tcpChecksum).toBe(0xbeef)
    expect(p.mss).toBe(1460)
    expect(p.wscale).toBe(7)
    expect(p.sackPermitted).toBe(true)
    expect(p.hasTimestamps).toBe(true)
    expect(p.tsVal).toBe(0xdeadbeef)
    expect(p.tsEcr).toBe(0)
    expect(p.sackCount).toBe(0)
    expect(p.payloadOff).toBe(74)
    expect(p.payloadLen).toBe(0)
    expect(p.payloadCaptured).toBe(0)
  })

  it('computes payload from the IP length, not from Ethernet padding', () => {
    const ackOnly = padTo60(ethernet({type: 0x0800}, v4tcp({sport: 1, dport: 2, flags: TCP.ACK})))
    expect(ackOnly.length).toBe(60)
    const p = dec(ackOnly)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.payloadLen).toBe(0)
    expect(p.payloadCaptured).toBe(0)
    const small = padTo60(ethernet({type: 0x0800}, v4tcp({sport: 1, dport: 2, flags: TCP.ACK | TCP.PSH}, [1, 2, 3])))
    const q = dec(small)
    expect(q.payloadLen).toBe(3)
    expect(q.payloadCaptured).toBe(3)
    expect(q.tcpFlags).toBe(TCP_ACK | TCP_PSH)
  })

  it('reports the IP-stated payload when the snaplen cut the frame', () => {
    const full = ethernet({type: 0x0800}, v4tcp({sport: 1, dport: 2}, new Array<number>(1000).fill(7)))
    const cut = full.subarray(0, 14 + 20 + 20 + 100)
    const p = dec(cut)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.payloadLen).toBe(1000)
    expect(p.payloadCaptured).toBe(100)
  })

  it('trims the FCS before sizing (TSO frame with IP length 0 relies on the frame size)', () => {
    const inner = v4tcp({sport: 1, dport: 2}, [9, 9, 9, 9, 9], {totalLen: 0})
    const frame = concat(ethernet({type: 0x0800}, inner), [0xde, 0xad, 0xbe, 0xef])
    const withFcs = dec(frame, LINKTYPE.ETHERNET, 4)
    expect(withFcs.stop).toBe(Stop.Ok)
    expect(withFcs.ipTotalLen).toBe(45)
    expect(withFcs.payloadLen).toBe(5)
    const noFcs = dec(frame, LINKTYPE.ETHERNET, 0)
    expect(noFcs.payloadLen).toBe(9)
  })

  it('decodeRecord trims only the FCS bytes that were captured', () => {
    const frame = concat(ethernet({type: 0x0800}, v4tcp({sport: 1, dport: 2}, [1, 2, 3], {totalLen: 0})), [1, 2, 3, 4])
    const rec: CaptureRecord = {...newCaptureRecord(), data: frame, offset: 0, caplen: frame.length, origlen: frame.length, linktype: 1, fcsLen: 4}
    expect(decodeRecord(rec, pkt).payloadLen).toBe(3)
    // Snaplen cut 2 of the 4 FCS bytes: only 2 are trimmed.
    rec.caplen = frame.length - 2
    rec.origlen = frame.length
    expect(decodeRecord(rec, pkt).payloadLen).toBe(3)
    // Cut everything after the header: nothing to trim.
    rec.caplen = 14 + 40
    expect(decodeRecord(rec, pkt).payloadCaptured).toBe(0)
    expect(pkt.stop).toBe(Stop.Ok)
  })

  it('origlen: a snaplen cut keeps the IP-stated payload, a frame shorter than its IP header says does not', () => {
    const full = ethernet({type: 0x0800}, v4tcp({sport: 1, dport: 2}, new Array<number>(1000).fill(7)))
    const cut = full.subarray(0, 100)
    decodeFrame(cut, 0, cut.length, LINKTYPE.ETHERNET, pkt, 0, full.length)
    expect(pkt.payloadLen).toBe(1000)
    expect(pkt.payloadCaptured).toBe(100 - 54)
    // The wire frame itself was 8 bytes shorter than the IP total length claims (Wireshark:
    // "IPv4 total length exceeds packet length"): tcp.len is what the frame held.
    const short = full.subarray(0, full.length - 8)
    decodeFrame(short, 0, short.length, LINKTYPE.ETHERNET, pkt, 0, short.length)
    expect(pkt.stop).toBe(Stop.Ok)
    expect(pkt.ipTotalLen).toBe(1040)
    expect(pkt.payloadLen).toBe(992)
    // Without origlen the decoder cannot tell the two apart and trusts the IP header.
    decodeFrame(short, 0, short.length, LINKTYPE.ETHERNET, pkt)
    expect(pkt.payloadLen).toBe(1000)
  })

  it('origlen sizes a TSO frame (IP length 0) that the snaplen cut', () => {
    const full = ethernet({type: 0x0800}, v4tcp({sport: 1, dport: 2}, new Array<number>(3000).fill(1), {totalLen: 0}))
    decodeFrame(full, 0, 200, LINKTYPE.ETHERNET, pkt, 0, full.length)
    expect(pkt.ipTotalLen).toBe(3040)
    expect(pkt.payloadLen).toBe(3000)
    expect(pkt.payloadCaptured).toBe(200 - 54)
  })

  it('origlen bounds the inner packet of a tunnel too', () => {
    const f = ethernet({type: 0x0800}, ipv4({src: '10.0.0.1', dst: '10.0.0.2', proto: 4}, v4tcp({sport: 1, dport: 2}, new Array<number>(100).fill(1))))
    const short = f.subarray(0, f.length - 30)
    decodeFrame(short, 0, short.length, LINKTYPE.ETHERNET, pkt, 0, short.length)
    expect(pkt.tunnelVersion).toBe(4)
    expect(pkt.payloadLen).toBe(70)
  })

  it('origlen below caplen is ignored (the record header contradicts itself)', () => {
    const f = ethernet({type: 0x0800}, v4tcp({sport: 1, dport: 2}, [1, 2, 3]))
    decodeFrame(f, 0, f.length, LINKTYPE.ETHERNET, pkt, 0, 20)
    expect(pkt.stop).toBe(Stop.Ok)
    expect(pkt.payloadLen).toBe(3)
  })

  it('reads a frame at a non-zero offset inside a larger shared buffer', () => {
    const buf = new Uint8Array(200).fill(0xff)
    buf.set(syn, 77)
    const p = decodeFrame(buf, 77, syn.length, LINKTYPE.ETHERNET, pkt)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.l3Off).toBe(77 + 14)
    expect(p.macSrcOff).toBe(77 + 6)
    expect(p.sport).toBe(40000)
    expect(p.payloadOff).toBe(77 + 74)
    expect(p.payloadCaptured).toBe(0)
  })

  it('skips IPsec AH after IPv4', () => {
    const ah = [6, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    const f = ethernet({type: 0x0800}, ipv4({src: CLIENT, dst: VIP, proto: 51}, concat(ah, tcp({sport: 7, dport: 8}, [1, 2]))))
    const p = dec(f)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.proto).toBe(6)
    expect(p.ipHdrLen).toBe(20 + 24)
    expect(p.l4Off).toBe(14 + 44)
    expect(p.sport).toBe(7)
    expect(p.payloadLen).toBe(2)
    // AH length running past the IP packet is malformed; cut inside AH is truncated.
    const bad = f.slice()
    bad[14 + 20 + 1] = 200
    expect(dec(bad).stop).toBe(Stop.Malformed)
    expect(dec(f.subarray(0, 14 + 20 + 10)).stop).toBe(Stop.Truncated)
  })

  it('skips IPv4 options', () => {
    const f = ethernet({type: 0x0800}, v4tcp({sport: 5, dport: 6}, [1], {options: [0x94, 0x04, 0, 0, 1, 1, 1, 0]}))
    const p = dec(f)
    expect(p.ipHdrLen).toBe(28)
    expect(p.l4Off).toBe(14 + 28)
    expect(p.sport).toBe(5)
    expect(p.payloadLen).toBe(1)
  })
})

describe('VLAN tags', () => {
  const payload = v4tcp({sport: 1, dport: 2})
  it.each([
    ['802.1Q', [{vid: 100}], 100, -1],
    ['QinQ 88a8', [{tpid: 0x88a8, vid: 10}, {vid: 20}], 10, 20],
    ['legacy 9100', [{tpid: 0x9100, vid: 4094}, {vid: 1}], 4094, 1],
    ['three deep', [{tpid: 0x88a8, vid: 1}, {tpid: 0x8100, vid: 2, pcp: 7}, {vid: 3}], 1, 2],
  ])('%s', (_name, vlans, outer, inner) => {
    const p = dec(ethernet({type: 0x0800, vlans}, payload))
    expect(p.stop).toBe(Stop.Ok)
    expect(p.vlanCount).toBe(vlans.length)
    expect(p.vlanOuter).toBe(outer)
    expect(p.vlanInner).toBe(inner)
    expect(p.l3Off).toBe(14 + 4 * vlans.length)
    expect(p.sport).toBe(1)
  })

  it('stops on an 802.3 length after the tags', () => {
    const p = dec(ethernet({type: 0x0040, vlans: [{vid: 5}]}, [0xaa, 0xaa, 3, 0, 0, 0, 0x08, 0]))
    expect(p.stop).toBe(Stop.Unsupported)
    expect(p.vlanOuter).toBe(5)
  })
})

describe('Linux cooked captures', () => {
  it('SLL: packet type, sender MAC, protocol', () => {
    const p = dec(sll({pktType: 4, addr: '00:16:3e:01:02:03', proto: 0x0800}, v4tcp({sport: 80, dport: 40000})), LINKTYPE.LINUX_SLL)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.link).toBe(Link.Sll)
    expect(p.sllPktType).toBe(4)
    expect(p.sllIfIndex).toBe(-1)
    expect(macToString(p.data, p.macSrcOff)).toBe('00:16:3e:01:02:03')
    expect(p.macDstOff).toBe(-1)
    expect(p.l3Off).toBe(16)
    expect(p.sport).toBe(80)
  })

  it('SLL with a re-inserted 802.1Q tag', () => {
    const p = dec(sll({proto: 0x8100}, concat([0x00, 42, 0x08, 0x00], v4tcp({sport: 3, dport: 4}))), LINKTYPE.LINUX_SLL)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.vlanOuter).toBe(42)
    expect(p.l3Off).toBe(20)
  })

  it('SLL without an Ethernet address has no MAC', () => {
    const p = dec(sll({hatype: 65534, proto: 0x0800}, v4tcp({sport: 3, dport: 4})), LINKTYPE.LINUX_SLL)
    expect(p.macSrcOff).toBe(-1)
    expect(p.sport).toBe(3)
  })

  it('SLL2: protocol, interface index, packet type', () => {
    const frame = sll2({proto: 0x86dd, ifindex: 7, pktType: 3, addr: 'aa:bb:cc:00:00:01'}, ipv6({src: '2001:db8::1', dst: '2001:db8::2', proto: 17}, udp({sport: 53, dport: 5353}, [1, 2])))
    const p = dec(frame, LINKTYPE.LINUX_SLL2)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.link).toBe(Link.Sll2)
    expect(p.sllIfIndex).toBe(7)
    expect(p.sllPktType).toBe(3)
    expect(p.ethertype).toBe(0x86dd)
    expect(macToString(p.data, p.macSrcOff)).toBe('aa:bb:cc:00:00:01')
    expect(p.l3Off).toBe(20)
    expect(ipv6ToString(p.v6Src)).toBe('2001:db8::1')
    expect(p.dport).toBe(5353)
    expect(p.payloadLen).toBe(2)
  })
})

describe('NULL / LOOP / raw', () => {
  const v4 = v4tcp({sport: 11, dport: 22})
  const v6 = ipv6({src: '::1', dst: '::1', proto: 6}, tcp({sport: 33, dport: 44}))
  it.each([
    ['NULL LE AF_INET', LINKTYPE.NULL, nullHdr(2, true, v4), 4, 11],
    ['NULL BE AF_INET', LINKTYPE.NULL, nullHdr(2, false, v4), 4, 11],
    ['NULL LE 24', LINKTYPE.NULL, nullHdr(24, true, v6), 6, 33],
    ['NULL BE 28', LINKTYPE.NULL, nullHdr(28, false, v6), 6, 33],
    ['NULL LE 30', LINKTYPE.NULL, nullHdr(30, true, v6), 6, 33],
    ['LOOP AF_INET', LINKTYPE.LOOP, nullHdr(2, false, v4), 4, 11],
    ['LOOP 30', LINKTYPE.LOOP, nullHdr(30, false, v6), 6, 33],
  ])('%s', (_n, lt, frame, version, sport) => {
    const p = dec(frame, lt)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.link).toBe(Link.Null)
    expect(p.l3Off).toBe(4)
    expect(p.ipVersion).toBe(version)
    expect(p.sport).toBe(sport)
  })

  it('LOOP does not accept a little-endian family', () => {
    expect(dec(nullHdr(2, true, v4), LINKTYPE.LOOP).stop).toBe(Stop.Unsupported)
  })

  it('NULL with an unknown family is unsupported', () => {
    expect(dec(nullHdr(7, true, v4), LINKTYPE.NULL).stop).toBe(Stop.Unsupported)
  })

  it.each([LINKTYPE.RAW, LINKTYPE.DLT_RAW_12, LINKTYPE.DLT_RAW_14])('raw %i: version nibble decides', (lt) => {
    expect(dec(v4, lt).ipVersion).toBe(4)
    expect(dec(v6, lt).ipVersion).toBe(6)
    expect(pkt.link).toBe(Link.Raw)
    expect(pkt.l3Off).toBe(0)
    expect(pkt.dport).toBe(44)
  })

  it('LINKTYPE_IPV4 / IPV6 refuse the other version', () => {
    expect(dec(v4, LINKTYPE.IPV4).sport).toBe(11)
    expect(dec(v6, LINKTYPE.IPV6).sport).toBe(33)
    expect(dec(v6, LINKTYPE.IPV4).stop).toBe(Stop.Malformed)
    expect(dec(v4, LINKTYPE.IPV6).stop).toBe(Stop.Malformed)
  })

  it('unknown link types are unsupported', () => {
    expect(dec(v4, 127).stop).toBe(Stop.Unsupported)
    expect(pkt.link).toBe(Link.None)
  })
})

describe('IPv4 fragments', () => {
  it('first fragment: transport decoded, marked as fragment', () => {
    const p = dec(ethernet({type: 0x0800}, v4tcp({sport: 1, dport: 2}, [1, 2, 3, 4, 5, 6, 7, 8], {mf: true, id: 77})))
    expect(p.stop).toBe(Stop.Ok)
    expect(p.fragment).toBe(true)
    expect(p.fragOffset).toBe(0)
    expect(p.sport).toBe(1)
    expect(p.payloadLen).toBe(8)
  })

  it('later fragment: no transport header', () => {
    const p = dec(ethernet({type: 0x0800}, ipv4({src: CLIENT, dst: VIP, proto: 6, fragOffset: 1480, id: 77}, new Array<number>(40).fill(0x41))))
    expect(p.stop).toBe(Stop.Ok)
    expect(p.fragment).toBe(true)
    expect(p.fragOffset).toBe(1480)
    expect(p.ipId).toBe(77)
    expect(p.proto).toBe(6)
    expect(p.l4Off).toBe(-1)
    expect(p.sport).toBe(0)
    expect(p.seq).toBe(0)
  })
})

describe('IPv6 extension headers', () => {
  const src = '2001:db8:1::10'
  const dst = '2001:db8:2::20'
  it('hop-by-hop, routing, destination options, fragment (first) then TCP', () => {
    const f = ethernet(
      {type: 0x86dd},
      ipv6(
        {
          src,
          dst,
          proto: 6,
          hopLimit: 9,
          trafficClass: 0xb8,
          ext: [{type: 0, body: [5, 2, 0, 0]}, {type: 43, body: [0, 0, 0, 0, 0, 0, ...new Array<number>(16).fill(1)]}, {type: 60}, {type: 44, fragOffset: 0, more: true, id: 0x80000001}],
        },
        tcp({sport: 443, dport: 50000, seq: 5, flags: TCP.ACK}, [1, 2, 3]),
      ),
    )
    const p = dec(f)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.ipVersion).toBe(6)
    expect(p.ttl).toBe(9)
    expect(p.dscp).toBe(0xb8 >> 2)
    expect(p.ipHdrLen).toBe(40 + 8 + 24 + 8 + 8)
    expect(p.proto).toBe(6)
    expect(p.fragment).toBe(true)
    expect(p.ipId).toBe(0x80000001)
    expect(p.l4Off).toBe(14 + p.ipHdrLen)
    expect(p.sport).toBe(443)
    expect(p.payloadLen).toBe(3)
    expect(ipv6ToString(p.v6Dst)).toBe(dst)
    expect(p.v4Src).toBe(0)
  })

  it('AH then TCP', () => {
    const p = dec(ethernet({type: 0x86dd}, ipv6({src, dst, proto: 6, ext: [{type: 51, body: [0, 0, 0, 1, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}]}, tcp({sport: 7, dport: 8}))))
    expect(p.stop).toBe(Stop.Ok)
    expect(p.ipHdrLen).toBe(40 + 24)
    expect(p.sport).toBe(7)
    expect(p.ipId).toBe(-1)
  })

  it('ESP and no-next-header end the walk', () => {
    const esp = dec(ethernet({type: 0x86dd}, ipv6({src, dst, proto: 50, ext: [{type: 60}]}, new Array<number>(32).fill(3))))
    expect(esp.stop).toBe(Stop.Ok)
    expect(esp.proto).toBe(50)
    expect(esp.l4Off).toBe(14 + 48)
    expect(esp.sport).toBe(0)
    const none = dec(ethernet({type: 0x86dd}, ipv6({src, dst, proto: 59}, [])))
    expect(none.stop).toBe(Stop.Ok)
    expect(none.proto).toBe(59)
  })

  it('non-first fragment: no transport header', () => {
    const p = dec(ethernet({type: 0x86dd}, ipv6({src, dst, proto: 6, ext: [{type: 44, fragOffset: 1232, id: 9}]}, new Array<number>(24).fill(0))))
    expect(p.stop).toBe(Stop.Ok)
    expect(p.fragment).toBe(true)
    expect(p.fragOffset).toBe(1232)
    expect(p.ipId).toBe(9)
    expect(p.l4Off).toBe(-1)
  })

  it('extension header longer than the payload length is malformed', () => {
    const f = ethernet({type: 0x86dd}, ipv6({src, dst, proto: 6, ext: [{type: 0, body: new Array<number>(14).fill(1)}], payloadLen: 8}, tcp({sport: 1, dport: 2})))
    expect(f.length).toBeGreaterThan(14 + 40 + 16)
    expect(dec(f).stop).toBe(Stop.Malformed)
  })
})

describe('tunnels (LVS TUN)', () => {
  it('IPIP: outer into tunnel*, inner into the main fields', () => {
    const inner = v4tcp({sport: 40000, dport: 80, seq: 42}, [1, 2], {ttl: 60, id: 1})
    const outer = ipv4({src: '10.0.0.1', dst: '10.0.0.21', proto: 4, ttl: 64, id: 999}, inner)
    const p = dec(ethernet({type: 0x0800}, outer))
    expect(p.stop).toBe(Stop.Ok)
    expect(p.tunnelVersion).toBe(4)
    expect(p.tunnelL3Off).toBe(14)
    expect(ipv4ToString(p.tunnelV4Src)).toBe('10.0.0.1')
    expect(ipv4ToString(p.tunnelV4Dst)).toBe('10.0.0.21')
    expect(p.tunnelTtl).toBe(64)
    expect(p.tunnelIpId).toBe(999)
    expect(p.ipVersion).toBe(4)
    expect(p.l3Off).toBe(34)
    expect(ipv4ToString(p.v4Src)).toBe(CLIENT)
    expect(ipv4ToString(p.v4Dst)).toBe(VIP)
    expect(p.ttl).toBe(60)
    expect(p.ipId).toBe(1)
    expect(p.proto).toBe(6)
    expect(p.seq).toBe(42)
    expect(p.payloadLen).toBe(2)
  })

  it('IPv6 in IPv4 (proto 41)', () => {
    const inner = ipv6({src: '2001:db8::c', dst: '2001:db8::fee', proto: 17}, udp({sport: 1000, dport: 53}, [0, 0, 0]))
    const p = dec(padTo60(ethernet({type: 0x0800}, ipv4({src: '10.0.0.1', dst: '10.0.0.2', proto: 41}, inner))))
    expect(p.stop).toBe(Stop.Ok)
    expect(p.tunnelVersion).toBe(4)
    expect(p.ipVersion).toBe(6)
    expect(p.v4Src).toBe(0)
    expect(ipv6ToString(p.v6Dst)).toBe('2001:db8::fee')
    expect(p.dport).toBe(53)
    expect(p.payloadLen).toBe(3)
  })

  it('IPv4 in IPv6 keeps the outer IPv6 addresses', () => {
    const p = dec(ethernet({type: 0x86dd}, ipv6({src: 'fd00::1', dst: 'fd00::2', proto: 4, hopLimit: 33}, v4tcp({sport: 9, dport: 10}))))
    expect(p.stop).toBe(Stop.Ok)
    expect(p.tunnelVersion).toBe(6)
    expect(ipv6ToString(p.tunnelV6Src)).toBe('fd00::1')
    expect(ipv6ToString(p.tunnelV6Dst)).toBe('fd00::2')
    expect(p.tunnelTtl).toBe(33)
    expect(p.ipVersion).toBe(4)
    expect(p.v6Src.every((w) => w === 0)).toBe(true)
    expect(ipv4ToString(p.v4Src)).toBe(CLIENT)
  })

  it('truncated inner header: tunnel fields set, inner IP not claimed', () => {
    const full = ethernet({type: 0x0800}, ipv4({src: '10.0.0.1', dst: '10.0.0.21', proto: 4}, v4tcp({sport: 1, dport: 2})))
    const p = dec(full.subarray(0, 14 + 20 + 10))
    expect(p.stop).toBe(Stop.Truncated)
    expect(p.tunnelVersion).toBe(4)
    expect(ipv4ToString(p.tunnelV4Dst)).toBe('10.0.0.21')
    expect(p.ipVersion).toBe(0)
  })
})

describe('TCP options', () => {
  const frameWith = (options: number[], data: number[] = []) => ethernet({type: 0x0800}, v4tcp({sport: 1, dport: 2, options}, data))

  it('up to four SACK blocks', () => {
    const blocks: Array<[number, number]> = [
      [100, 200],
      [300, 400],
      [0xfffffff0, 0x10],
      [5000, 6000],
    ]
    const p = dec(frameWith([...tcpOpt.nop(), ...tcpOpt.nop(), ...tcpOpt.sack(blocks)]))
    expect(p.stop).toBe(Stop.Ok)
    expect(p.sackCount).toBe(4)
    expect(Array.from(p.sackLeft)).toEqual(blocks.map((b) => b[0]))
    expect(Array.from(p.sackRight)).toEqual(blocks.map((b) => b[1]))
    const q = dec(frameWith([...tcpOpt.nop(), ...tcpOpt.nop(), ...tcpOpt.ts(1, 2), ...tcpOpt.nop(), ...tcpOpt.nop(), ...tcpOpt.sack([[7, 8]])]))
    expect(q.sackCount).toBe(1)
    expect(q.sackLeft[0]).toBe(7)
    expect(q.tsVal).toBe(1)
    expect(q.tsEcr).toBe(2)
  })

  it('zero option length ends the walk without reading on', () => {
    const p = dec(frameWith([...tcpOpt.mss(1400), 99, 0, ...tcpOpt.wscale(3)], [5]))
    expect(p.stop).toBe(Stop.Ok)
    expect(p.mss).toBe(1400)
    expect(p.wscale).toBe(-1)
    expect(p.payloadLen).toBe(1)
  })

  it('an option running past the header is ignored (payload bytes not read as options)', () => {
    // MSS option with length 4 starts at the last 2 header bytes; the "value" would be payload.
    const p = dec(frameWith([1, 1, 2, 4], [0x05, 0xb4, 0, 0]))
    expect(p.tcpHdrLen).toBe(24)
    expect(p.mss).toBe(-1)
    expect(p.payloadLen).toBe(4)
  })

  it('wrong fixed lengths are skipped, later options still read', () => {
    const p = dec(frameWith([2, 3, 0x05, 3, 4, 0, 0, 8, 6, 0, 0, 0, 0, ...tcpOpt.mss(536)]))
    expect(p.wscale).toBe(-1)
    expect(p.hasTimestamps).toBe(false)
    expect(p.mss).toBe(536)
  })

  it('SACK with a length that is not 2 + 8n is ignored', () => {
    const p = dec(frameWith([5, 7, 0, 0, 0, 1, 0, ...tcpOpt.eol()]))
    expect(p.sackCount).toBe(0)
  })

  it('options cut by the snaplen: fixed header kept, Truncated', () => {
    const full = frameWith([...tcpOpt.mss(1460), ...tcpOpt.nop(), ...tcpOpt.nop(), ...tcpOpt.ts(10, 20)])
    const p = dec(full.subarray(0, 14 + 20 + 20 + 6))
    expect(p.stop).toBe(Stop.Truncated)
    expect(p.sport).toBe(1)
    expect(p.mss).toBe(1460)
    expect(p.hasTimestamps).toBe(false)
    expect(p.payloadOff).toBe(-1)
  })
})

describe('UDP', () => {
  it('uses the IP length for the payload and keeps the UDP length field', () => {
    const f = padTo60(ethernet({type: 0x0800}, ipv4({src: CLIENT, dst: VIP, proto: 17}, udp({sport: 5000, dport: 53, len: 999}, [1, 2, 3, 4]))))
    const p = dec(f)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.sport).toBe(5000)
    expect(p.dport).toBe(53)
    expect(p.udpLen).toBe(999)
    expect(p.payloadOff).toBe(42)
    expect(p.payloadLen).toBe(4)
    expect(p.payloadCaptured).toBe(4)
  })
})

describe('ICMP', () => {
  const quotedTcp = v4tcp({sport: 40000, dport: 80, seq: 0x01020304}, [], {ttl: 1})

  it('echo request: type/code, no quote', () => {
    const p = dec(ethernet({type: 0x0800}, ipv4({src: CLIENT, dst: VIP, proto: 1}, icmp(8, 0, [1, 2, 3, 4, 5, 6, 7, 8], [0, 1, 0, 2]))))
    expect(p.stop).toBe(Stop.Ok)
    expect(p.icmpType).toBe(8)
    expect(p.icmpCode).toBe(0)
    expect(p.icmpInnerProto).toBe(-1)
    expect(p.payloadLen).toBe(8)
  })

  it('destination unreachable quotes the offending TCP header', () => {
    const f = ethernet({type: 0x0800}, ipv4({src: '10.0.0.254', dst: CLIENT, proto: 1}, icmp(3, 4, quotedTcp.subarray(0, 28), [0, 0, 0x05, 0xdc])))
    const p = dec(f)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.icmpType).toBe(3)
    expect(p.icmpCode).toBe(4)
    expect(p.icmpInnerProto).toBe(6)
    expect(ipv4ToString(p.icmpInnerV4Src)).toBe(CLIENT)
    expect(ipv4ToString(p.icmpInnerV4Dst)).toBe(VIP)
    expect(p.icmpInnerSport).toBe(40000)
    expect(p.icmpInnerDport).toBe(80)
    expect(p.icmpInnerSeq).toBe(0x01020304)
    // The outer header's fields are not disturbed by the quote.
    expect(ipv4ToString(p.v4Src)).toBe('10.0.0.254')
    expect(p.sport).toBe(0)
  })

  it('short quote: ports without sequence number, then nothing', () => {
    const four = dec(ethernet({type: 0x0800}, ipv4({src: VIP, dst: CLIENT, proto: 1}, icmp(11, 0, quotedTcp.subarray(0, 24)))))
    expect(four.stop).toBe(Stop.Ok)
    expect(four.icmpInnerDport).toBe(80)
    expect(four.icmpInnerSeq).toBe(-1)
    const ipOnly = dec(ethernet({type: 0x0800}, ipv4({src: VIP, dst: CLIENT, proto: 1}, icmp(11, 0, quotedTcp.subarray(0, 20)))))
    expect(ipOnly.icmpInnerProto).toBe(6)
    expect(ipOnly.icmpInnerSport).toBe(-1)
  })

  it('ICMPv6 packet too big quotes an IPv6 header with extension headers', () => {
    const q = ipv6({src: '2001:db8::1', dst: '2001:db8::80', proto: 6, ext: [{type: 60}]}, tcp({sport: 1234, dport: 443, seq: 77}))
    const f = ethernet({type: 0x86dd}, ipv6({src: '2001:db8::fe', dst: '2001:db8::1', proto: 58}, icmp(2, 0, q, [0, 0, 0x05, 0x00])))
    const p = dec(f)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.proto).toBe(58)
    expect(p.icmpType).toBe(2)
    expect(p.icmpInnerProto).toBe(6)
    expect(ipv6ToString(p.icmpInnerV6Dst)).toBe('2001:db8::80')
    expect(p.icmpInnerSport).toBe(1234)
    expect(p.icmpInnerDport).toBe(443)
    expect(p.icmpInnerSeq).toBe(77)
  })

  it('ICMPv6 echo (type 128) is not an error', () => {
    const p = dec(ethernet({type: 0x86dd}, ipv6({src: '::1', dst: '::2', proto: 58}, icmp(128, 0, ipv6({src: '::3', dst: '::4', proto: 6}, tcp({sport: 1, dport: 2}))))))
    expect(p.icmpType).toBe(128)
    expect(p.icmpInnerProto).toBe(-1)
  })
})

describe('ARP', () => {
  it('gratuitous reply: op, MAC offsets, addresses', () => {
    const f = padTo60(ethernet({type: 0x0806, dst: 'ff:ff:ff:ff:ff:ff', src: '52:54:00:00:00:09'}, arp({op: 2, senderMac: '52:54:00:00:00:09', senderIp: VIP, targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: VIP})))
    const p = dec(f)
    expect(p.stop).toBe(Stop.Ok)
    expect(p.ethertype).toBe(0x0806)
    expect(p.arpOp).toBe(2)
    expect(p.arpSenderMacOff).toBe(22)
    expect(macToString(p.data, p.arpSenderMacOff)).toBe('52:54:00:00:00:09')
    expect(macToString(p.data, p.arpTargetMacOff)).toBe('ff:ff:ff:ff:ff:ff')
    expect(ipv4ToString(p.arpSenderIp)).toBe(VIP)
    expect(ipv4ToString(p.arpTargetIp)).toBe(VIP)
    expect(p.ipVersion).toBe(0)
  })

  it('over SLL', () => {
    const p = dec(sll({proto: 0x0806}, arp({op: 1, senderMac: '02:00:00:00:00:01', senderIp: '10.1.1.1', targetIp: '10.1.1.2'})), LINKTYPE.LINUX_SLL)
    expect(p.arpOp).toBe(1)
    expect(ipv4ToString(p.arpTargetIp)).toBe('10.1.1.2')
  })

  it('non-Ethernet/IPv4 ARP keeps the op, nothing else', () => {
    const a = arp({op: 1, senderMac: '02:00:00:00:00:01', senderIp: '10.1.1.1', targetIp: '10.1.1.2'})
    a[1] = 6 // htype IEEE 802
    const p = dec(ethernet({type: 0x0806}, a))
    expect(p.stop).toBe(Stop.Unsupported)
    expect(p.arpOp).toBe(1)
    expect(p.arpSenderMacOff).toBe(-1)
  })
})

describe('malformed headers', () => {
  const eth = (b: Uint8Array) => ethernet({type: 0x0800}, b)
  it.each([
    ['IPv4 IHL < 5', eth(v4tcp({sport: 1, dport: 2}, [], {ihl: 4})), Stop.Malformed],
    ['IPv4 version 5 under EtherType IPv4', eth(v4tcp({sport: 1, dport: 2}, [], {version: 5})), Stop.Malformed],
    ['IPv4 total length < header', eth(v4tcp({sport: 1, dport: 2}, [], {totalLen: 19})), Stop.Malformed],
    ['TCP data offset < 5', eth(v4tcp({sport: 1, dport: 2, dataOffset: 4})), Stop.Malformed],
    ['TCP header longer than the IP payload', eth(v4tcp({sport: 1, dport: 2, options: tcpOpt.mss(1)}, [], {totalLen: 40})), Stop.Malformed],
    ['UDP in a 4-byte IP payload', eth(ipv4({src: CLIENT, dst: VIP, proto: 17, totalLen: 24}, udp({sport: 1, dport: 2}))), Stop.Malformed],
    ['IPv6 with version 4', ethernet({type: 0x86dd}, v4tcp({sport: 1, dport: 2}, new Array<number>(20).fill(0))), Stop.Malformed],
    ['unknown EtherType', ethernet({type: 0x88cc}, new Array<number>(46).fill(0)), Stop.Unsupported],
  ])('%s', (_n, frame, stop) => {
    expect(dec(frame).stop).toBe(stop)
  })

  it('TCP header too long for the IP payload keeps the fixed fields', () => {
    const p = dec(eth(v4tcp({sport: 81, dport: 82, options: tcpOpt.mss(1)}, [], {totalLen: 40})))
    expect(p.sport).toBe(81)
    expect(p.payloadLen).toBe(0)
    expect(p.payloadOff).toBe(-1)
  })

  it('bad offset/caplen arguments never throw', () => {
    const f = eth(v4tcp({sport: 1, dport: 2}))
    expect(decodeFrame(f, -1, 10, 1, pkt).stop).toBe(Stop.Truncated)
    expect(decodeFrame(f, 0, -5, 1, pkt).stop).toBe(Stop.Truncated)
    expect(decodeFrame(f, f.length + 10, 10, 1, pkt).stop).toBe(Stop.Truncated)
    expect(decodeFrame(f, Number.NaN, 10, 1, pkt).stop).toBe(Stop.Truncated)
    // caplen past the buffer is clamped to the buffer.
    expect(decodeFrame(f, 0, f.length + 100, 1, pkt).stop).toBe(Stop.Ok)
    expect(pkt.payloadCaptured).toBe(0)
  })
})

describe('reuse', () => {
  it('nothing leaks from the previous frame', () => {
    const fresh = new Packet()
    const withEverything = ethernet(
      {type: 0x0800, vlans: [{vid: 1}, {vid: 2}]},
      ipv4({src: '10.0.0.1', dst: '10.0.0.2', proto: 4}, v4tcp({sport: 1, dport: 2, options: [...tcpOpt.mss(1), ...tcpOpt.sack([[1, 2]]), ...tcpOpt.ts(1, 2)]}, [1])),
    )
    dec(withEverything)
    expect(pkt.tunnelVersion).toBe(4)
    dec(padTo60(ethernet({type: 0x0806}, arp({op: 1, senderMac: '02:00:00:00:00:01', senderIp: '1.1.1.1', targetIp: '1.1.1.2'}))))
    // SACK edges beyond sackCount are stale by design (reset only zeroes the count).
    const a = {...pkt, data: undefined, sackLeft: undefined, sackRight: undefined}
    decodeFrame(pkt.data, 0, pkt.data.length, 1, fresh)
    expect(a).toEqual({...fresh, data: undefined, sackLeft: undefined, sackRight: undefined})
    expect(pkt.sackCount).toBe(0)
  })
})

/**
 * Cut a valid frame at every length. Below the end of the last header the decode must stop with
 * Truncated; from there on it is Ok and only payloadCaptured shrinks. Fields of layers that were
 * complete must equal the full decode's.
 */
describe('truncation at every byte', () => {
  const cases: Array<[string, number, Uint8Array]> = [
    ['eth/vlan/ipv4/tcp+opts', LINKTYPE.ETHERNET, ethernet({type: 0x0800, vlans: [{tpid: 0x88a8, vid: 3}, {vid: 4}]}, v4tcp({sport: 1, dport: 2, options: [...tcpOpt.mss(1460), ...tcpOpt.wscale(2)]}, [1, 2, 3, 4, 5], {options: [1, 1, 1, 1]}))],
    ['sll/ipv6+ext/udp', LINKTYPE.LINUX_SLL, sll({proto: 0x86dd}, ipv6({src: '::1', dst: '::2', proto: 17, ext: [{type: 0}, {type: 44, more: true}]}, udp({sport: 1, dport: 2}, [9, 9, 9])))],
    ['sll2/ipip/tcp', LINKTYPE.LINUX_SLL2, sll2({proto: 0x0800}, ipv4({src: '10.0.0.1', dst: '10.0.0.2', proto: 4}, v4tcp({sport: 1, dport: 2}, [7, 7])))],
    ['null/ipv4/icmp error', LINKTYPE.NULL, nullHdr(2, true, ipv4({src: VIP, dst: CLIENT, proto: 1}, icmp(3, 3, v4tcp({sport: 1, dport: 2}).subarray(0, 28))))],
    ['raw/ipv6/icmpv6', LINKTYPE.RAW, ipv6({src: '::1', dst: '::2', proto: 58}, icmp(128, 0, [1, 2, 3, 4]))],
    ['eth/arp', LINKTYPE.ETHERNET, ethernet({type: 0x0806}, arp({op: 2, senderMac: '02:00:00:00:00:01', senderIp: '1.2.3.4', targetIp: '1.2.3.4'}))],
  ]

  it.each(cases)('%s', (_name, lt, frame) => {
    const full = new Packet()
    decodeFrame(frame, 0, frame.length, lt, full)
    expect(full.stop).toBe(Stop.Ok)
    const isArp = full.ethertype === 0x0806
    // Where the last header ends: payload for TCP/UDP/ICMP, the 28-byte body for ARP.
    const headersEnd = isArp ? full.arpTargetMacOff + 10 : full.payloadOff
    expect(headersEnd).toBeGreaterThan(0)
    const p = new Packet()
    for (let len = 0; len <= frame.length; len++) {
      decodeFrame(frame, 0, len, lt, p)
      if (len < headersEnd) {
        expect(p.stop, `len ${len}`).toBe(Stop.Truncated)
      } else {
        expect(p.stop, `len ${len}`).toBe(Stop.Ok)
        if (!isArp) expect(p.payloadCaptured).toBe(len - full.payloadOff)
        expect(p.payloadLen).toBe(full.payloadLen)
      }
      if (full.l3Off >= 0 && len > full.l3Off) {
        expect(p.link).toBe(full.link)
        expect(p.ethertype).toBe(full.ethertype)
        expect(p.vlanOuter).toBe(full.vlanOuter)
        expect(p.vlanInner).toBe(full.vlanInner)
        expect(p.sllIfIndex).toBe(full.sllIfIndex)
      }
      if (full.l4Off >= 0 && len >= full.l4Off) {
        expect(p.ipVersion).toBe(full.ipVersion)
        expect(p.v4Src).toBe(full.v4Src)
        expect(Array.from(p.v6Dst)).toEqual(Array.from(full.v6Dst))
        expect(p.tunnelV4Dst).toBe(full.tunnelV4Dst)
        expect(p.proto).toBe(full.proto)
      }
      // TCP's fixed header is 20 bytes, UDP's and ICMP's 8.
      if (full.l4Off >= 0 && len >= full.l4Off + (full.proto === 6 ? 20 : 8)) {
        expect(p.sport).toBe(full.sport)
        expect(p.icmpType).toBe(full.icmpType)
      }
    }
  })
})
