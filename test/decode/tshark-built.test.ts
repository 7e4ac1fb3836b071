/**
 * Frames built by the test helpers, written to pcap files and decoded by both tshark and us. Covers
 * what the corpus lacks (LOOP, DLT 12/14, IPv6 extension headers, AH, ICMP errors with quotes)
 * and checks the builders themselves against an independent dissector.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {LINKTYPE} from '../../src/decode/linktypes.js'
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
  pcapFile,
  sll,
  sll2,
  tcp,
  tcpOpt,
  udp,
} from '../helpers/frames.js'
import {diffFile, haveTshark} from './tshark-diff.js'

const A = '192.0.2.10'
const B = '198.51.100.20'
const A6 = '2001:db8:aa::10'
const B6 = '2001:db8:bb::20'

const allOpts = [...tcpOpt.mss(1460), ...tcpOpt.sackPerm(), ...tcpOpt.ts(123456, 0), ...tcpOpt.nop(), ...tcpOpt.wscale(7)]
const t4 = (data: number[] = [], o: Partial<Parameters<typeof tcp>[0]> = {}) => ipv4({src: A, dst: B, proto: 6, ttl: 61, id: 4242}, tcp({sport: 33000, dport: 80, seq: 0x80000000, ack: 17, flags: TCP.ACK, window: 501, ...o}, data))
const t6 = (data: number[] = [], ext: Parameters<typeof ipv6>[0]['ext'] = []) => ipv6({src: A6, dst: B6, proto: 6, ext}, tcp({sport: 443, dport: 50001, seq: 9, ack: 0xffffffff, flags: TCP.PSH | TCP.ACK}, data))
const u4 = ipv4({src: B, dst: A, proto: 17, ttl: 5}, udp({sport: 53, dport: 40000}, [1, 2, 3, 4, 5]))

const ethFrames = [
  ethernet({type: 0x0800}, t4([], {flags: TCP.SYN, options: allOpts})),
  ethernet({type: 0x0800}, t4([1, 2, 3], {options: [...tcpOpt.nop(), ...tcpOpt.nop(), ...tcpOpt.sack([[100, 200], [300, 400], [500, 600]])]})),
  padTo60(ethernet({type: 0x0800}, t4())),
  ethernet({type: 0x0800, vlans: [{vid: 100}]}, t4([7])),
  ethernet({type: 0x0800, vlans: [{tpid: 0x88a8, vid: 10}, {vid: 20}]}, t4()),
  ethernet({type: 0x0800, vlans: [{tpid: 0x9100, vid: 30}, {vid: 40}]}, u4),
  ethernet({type: 0x86dd, vlans: [{tpid: 0x88a8, vid: 1}, {tpid: 0x8100, vid: 2}, {vid: 3}]}, t6([1])),
  ethernet({type: 0x0800}, ipv4({src: A, dst: B, proto: 6, options: [0x94, 4, 0, 0, 1, 1, 1, 0]}, tcp({sport: 1, dport: 2}, [1]))),
  ethernet({type: 0x0800}, ipv4({src: A, dst: B, proto: 6, mf: true, id: 77}, tcp({sport: 5, dport: 6}, new Array<number>(16).fill(1)))),
  ethernet({type: 0x0800}, ipv4({src: A, dst: B, proto: 6, fragOffset: 1480, id: 77}, new Array<number>(24).fill(1))),
  ethernet({type: 0x86dd}, t6([1, 2], [{type: 0, body: [1, 2, 0, 0]}, {type: 43, body: [0, 0, 0, 0, 0, 0]}, {type: 60}])),
  ethernet({type: 0x86dd}, t6([], [{type: 51, body: [0, 0, 1, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}])),
  ethernet({type: 0x86dd}, t6(new Array<number>(16).fill(2), [{type: 44, more: true, id: 5}])),
  ethernet({type: 0x86dd}, ipv6({src: A6, dst: B6, proto: 6, ext: [{type: 44, fragOffset: 1232, id: 5}]}, new Array<number>(16).fill(3))),
  ethernet({type: 0x0800}, ipv4({src: '10.0.0.1', dst: '10.0.0.21', proto: 4, id: 1}, t4([9]))),
  ethernet({type: 0x0800}, ipv4({src: '10.0.0.1', dst: '10.0.0.21', proto: 41}, t6([9]))),
  ethernet({type: 0x86dd}, ipv6({src: 'fd00::1', dst: 'fd00::21', proto: 4}, t4([9]))),
  ethernet({type: 0x86dd}, ipv6({src: 'fd00::1', dst: 'fd00::21', proto: 41}, t6([9]))),
  ethernet({type: 0x0800}, ipv4({src: '10.0.0.254', dst: A, proto: 1}, icmp(3, 4, t4([1, 2, 3, 4]).subarray(0, 28), [0, 0, 5, 0xdc]))),
  ethernet({type: 0x0800}, ipv4({src: '10.0.0.254', dst: B, proto: 1}, icmp(11, 0, u4.subarray(0, 28)))),
  ethernet({type: 0x0800}, ipv4({src: A, dst: B, proto: 1}, icmp(8, 0, [1, 2, 3, 4], [0, 1, 0, 1]))),
  ethernet({type: 0x86dd}, ipv6({src: 'fd00::fe', dst: A6, proto: 58}, icmp(2, 0, t6(new Array<number>(8).fill(0)), [0, 0, 5, 0]))),
  ethernet({type: 0x86dd}, ipv6({src: 'fd00::fe', dst: A6, proto: 58}, icmp(1, 4, ipv6({src: A6, dst: B6, proto: 17}, udp({sport: 1000, dport: 2000}, [1, 2]))))),
  padTo60(ethernet({type: 0x0806, dst: 'ff:ff:ff:ff:ff:ff'}, arp({op: 1, senderMac: '52:54:00:00:00:01', senderIp: A, targetIp: B}))),
  padTo60(ethernet({type: 0x0806, dst: 'ff:ff:ff:ff:ff:ff'}, arp({op: 2, senderMac: '52:54:00:00:00:02', senderIp: B, targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: B}))),
]

const files: Array<[string, number, Uint8Array[]]> = [
  ['ethernet', LINKTYPE.ETHERNET, ethFrames],
  ['sll', LINKTYPE.LINUX_SLL, [sll({pktType: 4, proto: 0x0800}, t4([1])), sll({proto: 0x8100}, concat([0, 99, 0x08, 0x00], t4())), sll({proto: 0x86dd, pktType: 1}, t6()), sll({proto: 0x0806}, arp({op: 1, senderMac: '02:00:00:00:00:01', senderIp: A, targetIp: B}))]],
  ['sll2', LINKTYPE.LINUX_SLL2, [sll2({proto: 0x0800, ifindex: 3, pktType: 4}, t4([1])), sll2({proto: 0x86dd, ifindex: 9}, t6([1, 2]))]],
  ['null', LINKTYPE.NULL, [nullHdr(2, true, t4()), nullHdr(2, false, t4([1])), nullHdr(24, true, t6()), nullHdr(28, true, t6()), nullHdr(30, true, t6()), nullHdr(30, false, t6([1]))]],
  ['loop', LINKTYPE.LOOP, [nullHdr(2, false, t4([1, 2])), nullHdr(30, false, t6([1]))]],
  ['raw', LINKTYPE.RAW, [t4(), t6()]],
  ['dlt12', LINKTYPE.DLT_RAW_12, [t4([1]), t6([1])]],
  ['dlt14', LINKTYPE.DLT_RAW_14, [t4([1]), t6([1])]],
  ['ipv4', LINKTYPE.IPV4, [t4([1, 2, 3]), u4]],
  ['ipv6', LINKTYPE.IPV6, [t6([1, 2, 3])]],
]

const tshark = haveTshark()
if (!tshark) console.warn('\n!!!!!!!! tshark NOT FOUND: skipping decoder-vs-tshark tests on built frames !!!!!!!!\n')

describe.skipIf(!tshark)('built frames: decoder vs tshark', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvscope-decode-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it.each(files)('%s', async (name, lt, frames) => {
    const path = join(dir, `${name}.pcap`)
    writeFileSync(path, pcapFile(lt, frames))
    const r = await diffFile(path)
    if (r.mismatches.length > 0) console.log(name, r.mismatches)
    expect(r.frameCountMismatch).toBe(false)
    expect(r.frames).toBe(frames.length)
    expect(r.mismatches).toEqual([])
    expect(r.framesAgree).toBe(frames.length)
    // We build nothing we do not decode, so tshark must not see deeper headers than we do.
    expect(r.tsharkDeeper).toBe(0)
    expect(r.fields['ip.src'].compared + r.fields['ipv6.src'].compared).toBeGreaterThanOrEqual(frames.length - (name === 'ethernet' ? 2 : name === 'sll' ? 1 : 0))
  })
})
