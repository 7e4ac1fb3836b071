/**
 * Decoder vs tshark on real captures from the shared corpus (see tshark-diff.ts for the method).
 * The curated list covers every link type and feature the corpus has; LVSCOPE_TSHARK_ALL=1 runs
 * every corpus file whose link types we decode and prints the totals (minutes, not for CI).
 */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {isDecodableLinktype} from '../../src/decode/linktypes.js'
import type {DiffResult} from './tshark-diff.js'
import {diffFile, haveTshark} from './tshark-diff.js'

import {CORPUS} from '../helpers/shared.js'
const FILES = join(CORPUS, 'files')

const CURATED = [
  // Ethernet, TCP options (SACK, timestamps, wscale), retransmissions
  'zeek__http__206_example_b.pcap',
  'zeek__tcp__ssh-dups.pcap',
  // 802.1Q / QinQ / three tags / PCP+DEI / PPPoE over QinQ (stops at PPPoE)
  'zeek__vlan-collisions.pcap',
  'zeek__http-qinq-0.pcap',
  'zeek__vlan-qinqinq.pcap',
  'zeek__vlan-pcp-dei.pcapng',
  'zeek__q-in-q.pcap',
  'zeek__mixed-vlan-mpls.pcap',
  'zeek__pppoe-over-qinq.pcap',
  // Linux SLL (incl. ARP) and SLL2
  'tcpdump__resp_3_malicious.pcap',
  'tcpdump__mptcp-v1.pcap',
  'zeek__linuxsll-arp.pcap',
  'zeek__linux_dlt_sll2.pcap',
  'zeek__tls__openjdk-25.0.2-zeek.org.pcap',
  // NULL (BSD loopback)
  'zeek__contentline__contentline-irc-5k-line.pcap',
  'zeek__http__connect-with-header.pcap',
  // raw IP: LINKTYPE_RAW, IPV4, IPV6
  'zeek__rotation.pcap',
  'zeek__tcp__payload-syn.pcap',
  'tcpdump__LINKTYPE_RAW_ipv4.pcap',
  'zeek__http__basic-auth-with-colon.pcap',
  'zeek__tcp__timeout-with-pings.pcap',
  'tcpdump__ipv6_mobility_1.pcap',
  'zeek__icmp__icmp6-mldv2.pcap',
  // IPv6
  'zeek__ftp__ipv6.pcap',
  // IPIP / 6in4 / 4in6 / 6in6
  'zeek__tunnels__4in4.pcap',
  'zeek__tunnels__4in6.pcap',
  'zeek__tunnels__6in4.pcap',
  'zeek__tunnels__6in6.pcap',
  'zeek__tunnels__ping6-in-ipv4.pcap',
  'zeek__tunnels__6in6-tunnel-change.pcap',
  // ICMP / ICMPv6 incl. errors
  'zeek__chksums__ip4-icmp-good-chksum.pcap',
  'zeek__chksums__ip6-route0-icmp6-good-chksum.pcap',
  'tcpdump__icmpv6.pcap',
  'zeek__smtp.pcap',
  // IPv4 / IPv6 fragments (first fragment decoded, later ones not), atomic IPv6 fragment
  'zeek__ipv4__fragmented-3.pcap',
  'zeek__ipv4__fragmented-4.pcap',
  'zeek__ipv6-fragmented-dns.pcap',
  'zeek__ipv6-http-atomic-frag.pcap',
  // 802.1ad S-tag (tshark: ieee8021ad.id)
  'tcpdump__802.1ad_QinQ.pcap',
  // original frame shorter than the IP total length: tcp.len is what the frame held
  'zeek__tcp__reassembly.pcap',
  'tcpdump__kday4.pcap',
  // pcap header with FCS bits
  'tcpdump__bootp_asan.pcap',
]

function totals(results: DiffResult[]) {
  const t = {files: results.length, skippedFiles: 0, frames: 0, framesAgree: 0, tsharkDeeper: 0, oursMoreFlagged: 0, v6FormatDiffs: 0, fields: {} as Record<string, {compared: number; agree: number}>}
  for (const r of results) {
    if (r.frameCountMismatch) t.skippedFiles++
    t.frames += r.frames
    t.framesAgree += r.framesAgree
    t.tsharkDeeper += r.tsharkDeeper
    t.oursMoreFlagged += r.oursMoreFlagged
    t.v6FormatDiffs += r.v6FormatDiffs
    for (const [f, s] of Object.entries(r.fields)) {
      const a = (t.fields[f] ??= {compared: 0, agree: 0})
      a.compared += s.compared
      a.agree += s.agree
    }
  }
  return t
}

function report(label: string, results: DiffResult[]): ReturnType<typeof totals> {
  const t = totals(results)
  const lines = [
    `[tshark diff: ${label}] files=${t.files} (not compared: ${t.skippedFiles}, frame counts differ) frames=${t.frames} ` +
      `framesAllFieldsAgree=${t.framesAgree} framesWhereWeShowMoreOnAFlaggedFrame=${t.oursMoreFlagged} ` +
      `framesWhereTsharkDecodesDeeper=${t.tsharkDeeper} ipv6TextFormatDiffs=${t.v6FormatDiffs}`,
  ]
  for (const [f, s] of Object.entries(t.fields)) lines.push(`  ${f.padEnd(22)} ${s.agree}/${s.compared}`)
  for (const r of results) {
    const name = r.file.replace(`${FILES}/`, '')
    if (r.frameCountMismatch) lines.push(`  ${name}: not compared (tshark ${r.framesTshark} frames, reader ${r.framesDelivered} records)`)
    else if (r.mismatches.length > 0) {
      lines.push(`  ${name}: ${r.frames - r.framesAgree - r.oursMoreFlagged} frame(s) differ`)
      for (const m of r.mismatches.slice(0, 5)) lines.push(`    ${m}`)
    }
    if (process.env.LVSCOPE_TSHARK_VERBOSE === '1') {
      for (const m of r.flaggedSamples.slice(0, 3)) lines.push(`  ${name} flagged: ${m}`)
      for (const m of r.deeperSamples.slice(0, 3)) lines.push(`  ${name} deeper: ${m}`)
    }
  }
  console.log(lines.join('\n'))
  return t
}

const tshark = haveTshark()
if (!tshark) {
  console.warn('\n!!!!!!!! tshark NOT FOUND: skipping the decoder-vs-tshark differential tests !!!!!!!!\n')
}
const corpus = existsSync(FILES)
if (!corpus) console.warn(`\n!!!!!!!! corpus ${FILES} missing: skipping the decoder-vs-tshark corpus test !!!!!!!!\n`)

describe.skipIf(!tshark || !corpus)('decoder vs tshark on the corpus', () => {
  it('curated files: every compared field agrees', async () => {
    const results: DiffResult[] = []
    for (const f of CURATED) results.push(await diffFile(join(FILES, f)))
    const t = report('curated', results)
    expect(results.filter((r) => r.frameCountMismatch).map((r) => r.file)).toEqual([])
    expect(t.frames).toBeGreaterThan(1000)
    for (const [f, s] of Object.entries(t.fields)) {
      expect(s.compared, f).toBeGreaterThan(0)
      expect(s.agree, f).toBe(s.compared)
    }
    expect(t.framesAgree).toBe(t.frames)
  })

  it.runIf(process.env.LVSCOPE_TSHARK_ALL === '1')('every decodable corpus file', async () => {
    const lines = readFileSync(join(CORPUS, 'manifest.tsv'), 'utf8').split('\n')
    const head = lines[0].split('\t')
    const col = (name: string) => head.indexOf(name)
    const files: string[] = []
    for (const line of lines.slice(1)) {
      if (line === '') continue
      const c = line.split('\t')
      const lts = c[col('hdr_linktypes')].split(',').filter((x) => x !== '')
      if (lts.length > 0 && lts.every((x) => isDecodableLinktype(Number(x)))) files.push(c[col('file')])
    }
    const results: DiffResult[] = []
    let next = 0
    const worker = async () => {
      while (next < files.length) {
        const f = files[next++]
        results.push(await diffFile(join(FILES, f), 5))
      }
    }
    await Promise.all([worker(), worker()])
    results.sort((a, b) => a.file.localeCompare(b.file))
    const t = report('all decodable corpus files', results)
    expect(t.frames).toBeGreaterThan(0)
  }, 3_600_000)
})
