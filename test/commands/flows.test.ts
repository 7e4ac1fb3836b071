import {describe, expect, it} from 'vitest'

import {hasTshark, runCli, tshark} from '../helpers/cli.js'

import {CORPUS_FILES as CORPUS} from '../helpers/shared.js'

/** Per TCP conversation (Wireshark's tcp.stream): the two endpoints and the frames each sent. */
function tsharkConversations(file: string): string[] {
  const out = tshark(['-r', file, '-Y', 'tcp', '-T', 'fields', '-E', 'separator=/t', '-e', 'tcp.stream', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'tcp.dstport'])
  const streams = new Map<string, Map<string, number>>()
  for (const line of out.split('\n')) {
    if (!line) continue
    const [stream, s4, s6, sp, d4, d6, dp] = line.split('\t')
    // Tunnelled frames list several addresses: the innermost (last) is the TCP one.
    const src = `${(s4 || s6).split(',').pop()}:${sp}`
    const dst = `${(d4 || d6).split(',').pop()}:${dp}`
    const m = streams.get(stream) ?? new Map<string, number>([[src, 0], [dst, 0]])
    m.set(src, (m.get(src) ?? 0) + 1)
    streams.set(stream, m)
  }
  return [...streams.values()].map((m) => [...m.entries()].map(([e, n]) => `${e}=${n}`).sort().join(' ')).sort()
}

function ours(file: string): string[] {
  const r = runCli(['flows', '--json', '--proto', 'tcp', file])
  expect(r.code).toBe(0)
  const j = JSON.parse(r.stdout) as {flows: {client: string; server: string; packets: {client: number; server: number}}[]}
  const norm = (e: string) => e.replace(/^\[(.*)\]:(\d+)$/, '$1:$2')
  return j.flows.map((f) => [`${norm(f.client)}=${f.packets.client}`, `${norm(f.server)}=${f.packets.server}`].sort().join(' ')).sort()
}

describe.skipIf(!hasTshark())('lvscope flows agrees with tshark conversations', () => {
  // Chosen for variety: duplicates, IPv6, VLAN, port reuse, many short flows.
  const files = [
    'zeek__tcp__ssh-dups.pcap',
    'zeek__http__206_example_b.pcap',
    'zeek__http-qinq-0.pcap',
    'zeek__tcp__handshake-reorder.pcap',
    'zeek__tcp__retransmit-timeout.pcapng',
    'zeek__tcp__ctu-64702-888.pcap',
    'tcpdump__LINKTYPE_IPV6.pcap',
    'zeek__linux_dlt_sll2.pcap',
  ]
  for (const name of files) {
    it(name, () => {
      expect(ours(`${CORPUS}/${name}`)).toEqual(tsharkConversations(`${CORPUS}/${name}`))
    })
  }
  // The lab's own captures: a director with DR copies (gzip), an -i any (SLL2) director, ns pcapng, several flows.
  for (const name of ['loss-mysql/director.pcap.gz', 'failover-synced-mysql/director2-any.pcap', 'rs-killed-mysql/rs1.pcapng', 'persistence-expiry-mysql/director.pcapng']) {
    it(`samples/${name}`, () => {
      expect(ours(`samples/${name}`)).toEqual(tsharkConversations(`samples/${name}`))
    })
  }
})

describe('lvscope flows', () => {
  it('filters, sorts and limits', () => {
    const r = runCli(['flows', '--json', '--sort', 'packets', '--limit', '1', `${CORPUS}/zeek__http__206_example_b.pcap`])
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(j.flows).toHaveLength(1)
    expect(j.totalFlows).toBeGreaterThan(1)
    const all = JSON.parse(runCli(['flows', '--json', `${CORPUS}/zeek__http__206_example_b.pcap`]).stdout)
    const max = Math.max(...all.flows.map((f: {packets: {client: number; server: number}}) => f.packets.client + f.packets.server))
    expect(j.flows[0].packets.client + j.flows[0].packets.server).toBe(max)
  })

  it('rejects an unknown sort key as a usage error', () => {
    const r = runCli(['flows', '--sort', 'colour', `${CORPUS}/zeek__tcp__ssh-dups.pcap`])
    expect(r.code).toBe(2)
  })
})
