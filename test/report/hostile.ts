/**
 * Captures whose protocol text is an attack on the report: a MySQL query and a PostgreSQL error carrying
 * `<script>`, an attribute break-out, an `</svg>` break-out, Markdown markup, bidi and invisible characters.
 */
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {buildPcap, type PcapRec} from '../helpers/capture-writer.js'
import {TCP, ethernet, ipv4, tcp} from '../helpers/frames.js'
import {CaptureBuilder, HOSTS} from '../helpers/lvs.js'
import {ascii, cstr, myQuery, pgError, pgMsg, pgStartup} from '../decode/app/build.js'

/** What the page must show literally and never run. */
export const HOSTILE =
  '<script>window.__pwned=1</script>"><img src=x onerror=window.__pwned=2></svg><script>window.__pwned=3</script>' +
  '|`x`**b**[l](http://e.x/)~~s~~&lt;b&gt;&\u001b[2J\u202eR\u202c\u2066I\u2069Z\u200bL\u2028P\u2029B\ufeff'

/** A MySQL session through the director that idles past the 10 s tcp timeout; both queries carry HOSTILE. */
export function hostileMysql(dir: string): string[] {
  const q = myQuery(`select '${HOSTILE}'`)
  const b = new CaptureBuilder()
    .client(0, {sport: 41000, seq: 100, flags: TCP.SYN, id: 1}, 0)
    .client(0.001, {sport: 41000, seq: 101, ack: 5001, id: 2}, 0)
    .client(0.002, {sport: 41000, seq: 101, ack: 5001, flags: TCP.ACK | TCP.PSH, payload: q, id: 3}, 0)
    .client(0.004, {sport: 41000, seq: 101 + q.length, ack: 5100, id: 4}, 0)
    .client(12.004, {sport: 41000, seq: 101 + q.length, ack: 5100, flags: TCP.ACK | TCP.PSH, payload: q, id: 5}, null)
    .directorRst(12.00405, 41000, 5100)
  const p = join(dir, 'director.pcap')
  writeFileSync(p, b.bytes())
  return [p, '--timeouts', '10,4,30']
}

/** A PostgreSQL connection seen at the real server: the server answers a query with an ErrorResponse carrying HOSTILE, then aborts (RST+ACK). */
export function hostilePostgres(dir: string): string[] {
  const recs: PcapRec[] = []
  const rs = HOSTS.rs[0]
  const base = 1_700_000_000
  let t = 0
  const seqs = {c: 100, s: 9000}
  let id = 1
  const frame = (fromClient: boolean, flags: number, payload: number[] = []): void => {
    const seg = fromClient
      ? tcp({sport: 42000, dport: 5432, seq: seqs.c, ack: seqs.s, flags}, payload)
      : tcp({sport: 5432, dport: 42000, seq: seqs.s, ack: seqs.c, flags}, payload)
    const ip = fromClient
      ? ipv4({src: HOSTS.client.ip, dst: HOSTS.vip, proto: 6, id: id++, ttl: 63, df: true}, seg)
      : ipv4({src: HOSTS.vip, dst: HOSTS.client.ip, proto: 6, id: 7000 + id++, ttl: 64, df: true}, seg)
    const l2 = fromClient ? ethernet({src: HOSTS.director.mac, dst: rs.mac, type: 0x0800}, ip) : ethernet({src: rs.mac, dst: HOSTS.router.mac, type: 0x0800}, ip)
    recs.push({sec: base + Math.floor(t), frac: Math.round((t % 1) * 1e6), data: l2})
    t += 0.001
    const n = payload.length + (flags & (TCP.SYN | TCP.FIN) ? 1 : 0)
    if (fromClient) seqs.c = (seqs.c + n) >>> 0
    else seqs.s = (seqs.s + n) >>> 0
  }
  seqs.s = 9000
  frame(true, TCP.SYN)
  frame(false, TCP.SYN | TCP.ACK)
  frame(true, TCP.ACK)
  frame(true, TCP.ACK | TCP.PSH, pgStartup({user: 'app', database: 'app'}))
  frame(false, TCP.ACK | TCP.PSH, [...pgMsg('R', [0, 0, 0, 0]), ...pgMsg('Z', ascii('I'))])
  frame(true, TCP.ACK | TCP.PSH, pgMsg('Q', cstr('select 1')))
  frame(false, TCP.ACK | TCP.PSH, [...pgError({S: 'ERROR', V: 'ERROR', C: '42601', M: HOSTILE}), ...pgMsg('Z', ascii('I'))])
  frame(true, TCP.ACK | TCP.PSH, pgMsg('Q', cstr(`select '${HOSTILE}'`)))
  frame(false, TCP.RST | TCP.ACK)
  const p = join(dir, 'rs1.pcap')
  writeFileSync(p, buildPcap({linktype: 1}, recs))
  return [p, '--real-server', p]
}

export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  mkdirSync(d, {recursive: true})
  return d
}
