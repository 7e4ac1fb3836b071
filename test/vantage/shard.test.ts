/**
 * Splitting a capture's flows across threads must not change a single number: every sample capture scanned
 * in 2 and 3 shards gives the summary of one scan, and the record-level shard peek agrees with the decoded
 * packet's shard on every frame (sample frames and mutated ones).
 */
import {readdirSync} from 'node:fs'
import {join} from 'node:path'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import type {CaptureRecord} from '../../src/capture/record.js'
import {newCaptureRecord} from '../../src/capture/record.js'
import {decodeFrame} from '../../src/decode/decode.js'
import {decodeCapture} from '../../src/decode/stream.js'
import {Packet} from '../../src/decode/packet.js'
import {scanArtifacts, scanArtifactsHere} from '../../src/vantage/artifact-scan.js'
import {mergeScans, scanCapture, type CaptureScan} from '../../src/vantage/scan.js'
import type {ArtifactSummary} from '../../src/vantage/artifacts.js'
import {shardOf, shardOfRecord} from '../../src/decode/shard.js'
import {REPO_ROOT, runCli} from '../helpers/cli.js'
import {ethernet, ipv4, tcp, udp} from '../helpers/frames.js'

const SAMPLES = join(REPO_ROOT, 'samples')
const CAPTURES = readdirSync(SAMPLES, {withFileTypes: true})
  .filter((d) => d.isDirectory() && d.name !== 'lab')
  .flatMap((d) => readdirSync(join(SAMPLES, d.name)).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)).map((f) => join(SAMPLES, d.name, f)))

/** Plain data for toEqual: the Set as a sorted list. */
function plain(a: ArtifactSummary): unknown {
  return {...a, retransmissionKeys: [...a.retransmissionKeys].sort()}
}

describe('sharded artifact scans', () => {
  /** Captures whose 2-shard split gave both shards frames: the split is real, not all in shard 0. */
  let splitReally = 0

  it('finds the sample captures', () => {
    expect(CAPTURES.length).toBeGreaterThanOrEqual(20)
  })

  for (const file of CAPTURES) {
    it(`2 and 3 shards equal one scan: ${file.slice(SAMPLES.length + 1)}`, async () => {
      const one = await scanArtifactsHere(file)
      expect(one.artifacts.frames).toBeGreaterThan(0)
      for (const n of [2, 3]) {
        const parts = await Promise.all(Array.from({length: n}, (_, index) => scanArtifactsHere(file, {index, count: n})))
        // Each shard really holds a share: frames are split, not repeated.
        expect(parts.reduce((s, p) => s + p.artifacts.frames, 0)).toBe(one.artifacts.frames)
        if (n === 2 && parts.every((p) => p.artifacts.ipFrames > 0)) splitReally++
        const merged = await scanArtifacts(file, n)
        expect(plain(merged.artifacts)).toEqual(plain(one.artifacts))
        expect(merged.summary.packets).toBe(one.summary.packets)
      }
    })
  }

  it('splits captures for real', () => {
    // Most lab captures hold one to three connections; 7 of 22 split across both shards when measured.
    expect(splitReally).toBeGreaterThanOrEqual(5)
  })

  it('the CLI gives the same JSON with worker threads as with one thread', () => {
    const file = join(SAMPLES, 'loss-mysql', 'director.pcap.gz')
    const one = runCli(['artifacts', '--json', '--threads', '1', file])
    const two = runCli(['artifacts', '--json', '--threads', '2', file])
    expect(one.code).toBe(0)
    expect(two.code).toBe(0)
    expect(JSON.parse(two.stdout)).toEqual(JSON.parse(one.stdout))
    expect(JSON.parse(one.stdout)[0].drCopies).toBeGreaterThan(0)
  })
})

describe('shardOfRecord', () => {
  const pkt = new Packet()
  const rec: CaptureRecord = newCaptureRecord()

  function check(data: Uint8Array, linktype: number, caplen = data.length): void {
    rec.data = data
    rec.offset = 0
    rec.caplen = caplen
    rec.origlen = caplen
    rec.linktype = linktype
    for (const n of [2, 3]) {
      const peek = shardOfRecord(rec, n)
      decodeFrame(data, 0, caplen, linktype, pkt, 0, caplen)
      if (peek >= 0) expect(peek).toBe(shardOf(pkt, n))
    }
  }

  it('agrees with the decoded packet on every frame of every sample', async () => {
    let peeked = 0
    for (const file of CAPTURES) {
      await decodeCapture(file, (r, p) => {
        for (const n of [2, 3]) {
          const peek = shardOfRecord(r, n)
          if (peek < 0) continue
          peeked++
          expect(peek).toBe(shardOf(p, n))
        }
      })
    }
    expect(peeked).toBeGreaterThan(1000)
  })

  it('agrees on mutated and cut frames', () => {
    const seeds = [
      ethernet({type: 0x0800}, ipv4({src: '10.0.0.1', dst: '10.0.0.2', proto: 6}, tcp({sport: 40000, dport: 3306}, [1, 2, 3]))),
      ethernet({type: 0x0800}, ipv4({src: '10.0.0.1', dst: '10.0.0.2', proto: 17}, udp({sport: 53, dport: 50000}, [9]))),
    ]
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({min: 0, max: 255})), {maxLength: 4}), fc.nat(), (seed, muts, cut) => {
        const f = seed.slice()
        // Mutations aimed at the headers the peek reads.
        for (const [pos, val] of muts) f[pos % 60] = val
        check(f, 1, cut % (f.length + 1))
      }),
      {numRuns: 5000},
    )
  })
})

/** A scan as plain data, flow ids and the order of flow records (eviction order) left out. */
function plainScan(s: CaptureScan): unknown {
  const noId = <T extends object>(x: T): unknown => ({...x, flowId: undefined, id: undefined})
  const l = s.ledger
  return {
    ...s,
    artifacts: plain(s.artifacts),
    decode: {...s.decode, unsupported: [...s.decode.unsupported]},
    ledger: {...l, resets: l.resets.map(noId), stalls: l.stalls.map(noId), connections: l.connections.map(noId), vipOwnerChanges: l.vipOwnerChanges.map(noId)},
    flows: s.flows.map(noId).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  }
}

describe('sharded capture scans (analyze)', () => {
  for (const file of CAPTURES) {
    it(`2 and 3 shards merge into the one-thread scan: ${file.slice(SAMPLES.length + 1)}`, async () => {
      const one = await scanCapture(file)
      for (const n of [2, 3]) {
        const parts = await Promise.all(Array.from({length: n}, (_, index) => scanCapture(file, {index, count: n})))
        expect(plainScan(mergeScans(parts))).toEqual(plainScan(one))
      }
    })
  }

  it('analyze gives the same report with its captures split across threads', () => {
    const dir = join(SAMPLES, 'rs-killed-mysql')
    const one = runCli(['analyze', '--format', 'json', '--threads', '1', dir])
    const three = runCli(['analyze', '--format', 'json', '--threads', '3', dir])
    expect(one.code).toBe(0)
    expect(three.code).toBe(0)
    expect(three.stderr).toBe(one.stderr)
    expect(JSON.parse(three.stdout)).toEqual(JSON.parse(one.stdout))
    expect(JSON.parse(one.stdout).findings.length).toBeGreaterThan(0)
  })
})
