/**
 * An archive built from the samples the way a team keeps one: every sample's captures renamed, most split into
 * rotated pieces with `editcap -c` (some pieces gzipped), the director's timeouts as `ipvsadm -L --timeout`
 * output beside its captures, plus bad files: a truncated piece, a capture cut inside its first record, a text
 * file and a gzipped text file named like captures, a symlink loop and a symlink to itself.
 */
import {spawnSync} from 'node:child_process'
import {copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync} from 'node:fs'
import {basename, join} from 'node:path'
import {gzipSync} from 'node:zlib'

import {REPO_ROOT} from '../helpers/cli.js'

export interface ArchiveSample {
  sample: string
  dir: string
  /** Config file written beside the captures. */
  config: string
  /** Original capture → the archive files it became, in time order. */
  pieces: Map<string, string[]>
  /** True when a piece was truncated (findings compared, not the whole report). */
  damaged: boolean
}

export interface Archive {
  root: string
  samples: ArchiveSample[]
  /** Bad files and the problem code batch must give each. */
  bad: Map<string, string>
  /** The damaged piece, its byte offset of damage. */
  truncated: string
}

export const hasEditcap = (): boolean => spawnSync('editcap', ['-h'], {encoding: 'utf8'}).status === 0

interface Expected {
  analyzeFlags: string[]
  captures: {file: string; role: string}[]
  timeouts: {persistence: number | null}
  topology: {services: string[]}
}

function editcapSplit(src: string, count: number, outBase: string): string[] {
  const dir = join(outBase, '..')
  const before = new Set(readdirSync(dir))
  const r = spawnSync('editcap', ['-c', String(count), src, outBase], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`editcap failed: ${r.stderr}`)
  return readdirSync(dir)
    .filter((n) => !before.has(n))
    .sort()
    .map((n) => join(dir, n))
}

/**
 * Recorded right after halfclose-fin-wait-any-tcp, these captures begin with the tail of its port-8000
 * connection (samples/README.md): with it in one archive they are one continuous incident, as batch rightly
 * finds, so the one-incident-per-sample archive leaves them out.
 */
const SHARES_A_CONNECTION = new Set(['loss-pg', 'loss-rr-many-mysql'])

export function buildArchive(root: string): Archive {
  const samples: ArchiveSample[] = []
  const SAMPLES = join(REPO_ROOT, 'samples')
  const names = readdirSync(SAMPLES).filter((n) => {
    if (SHARES_A_CONNECTION.has(n)) return false
    try {
      return statSync(join(SAMPLES, n, 'expected.json')).isFile()
    } catch {
      return false
    }
  })
  let truncated = ''
  names.forEach((name, si) => {
    const exp = JSON.parse(readFileSync(join(SAMPLES, name, 'expected.json'), 'utf8')) as Expected
    const dir = join(root, `site-${String.fromCharCode(97 + si)}`)
    mkdirSync(dir, {recursive: true})
    const t = exp.analyzeFlags[exp.analyzeFlags.indexOf('--timeouts') + 1].split(',')
    const config = join(dir, 'ipvsadm-timeouts.txt')
    // The lab's configuration as `ipvsadm -Ln` and `--timeout` print it: a persistent service shows as such.
    const pers = exp.timeouts.persistence
    const service = pers === null ? '' : `TCP  ${exp.topology.services[0]} rr persistent ${pers}\n`
    writeFileSync(config, `${service}Timeout (tcp tcpfin udp): ${t[0]} ${t[1]} ${t[2]}\n`)
    const pieces = new Map<string, string[]>()
    let damaged = false
    exp.captures.forEach((c, ci) => {
      const src = join(SAMPLES, name, c.file)
      const host = `${basename(c.file).replace(/\..*$/, '').replace(/-any$/, '')}-${si}`
      const ext = /pcapng/.test(c.file) ? 'pcapng' : 'pcap'
      // Every second capture stays whole (renamed, no extension hint); the others become rotated pieces.
      if ((si + ci) % 2 === 1) {
        const dst = join(dir, `${host}.capture`)
        copyFileSync(src, dst)
        pieces.set(src, [dst])
        return
      }
      const parts = editcapSplit(src, 6 + ((si * 3 + ci) % 5), join(dir, `${host}.${ext}`))
      // editcap names them host_00000_<time>.ext; some pieces are gzipped as logrotate would.
      const out = parts.map((p, pi) => {
        if (pi % 3 !== 1) return p
        writeFileSync(`${p}.gz`, gzipSync(readFileSync(p)))
        unlinkSync(p)
        return `${p}.gz`
      })
      pieces.set(src, out)
      if (name === 'loss-mysql' && c.role === 'client') {
        // The client's last piece loses its end mid-record.
        const last = out[out.length - 1]
        truncateSync(last, statSync(last).size - 30)
        truncated = last
        damaged = true
      }
    })
    samples.push({sample: name, dir, config, pieces, damaged})
  })
  const broken = join(root, 'broken')
  mkdirSync(broken, {recursive: true})
  const bad = new Map<string, string>()
  // A capture cut inside its first record: header only.
  const cut = join(broken, 'lb-20261121.pcap')
  writeFileSync(cut, readFileSync(join(SAMPLES, 'idle-expiry-pg', 'rs1.pcap')).subarray(0, 24 + 10))
  bad.set(cut, 'truncated')
  const text = join(broken, 'rs9-20261121.pcap')
  writeFileSync(text, 'tcpdump: listening on eth0, link-type EN10MB (Ethernet)\n')
  bad.set(text, 'not-a-capture')
  const gzText = join(broken, 'rs9-20261122.pcap.gz')
  writeFileSync(gzText, gzipSync(Buffer.from('not a capture at all\n'.repeat(50))))
  bad.set(gzText, 'not-a-capture')
  symlinkSync('..', join(broken, 'loop'))
  bad.set(join(broken, 'loop'), 'symlink-loop')
  symlinkSync('self.pcap', join(broken, 'self.pcap'))
  bad.set(join(broken, 'self.pcap'), 'symlink-loop')
  return {root, samples, bad, truncated}
}
