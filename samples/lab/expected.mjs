#!/usr/bin/env node
// Writes a sample's expected.json from the lab's own facts (what record.sh did, when, and what the
// nft counters counted) and from frames located in the published captures with tshark.
// The frame search is guided by the lab's knowledge (which host sent what, after which step);
// every located frame is checked against that knowledge, and the recording fails if it disagrees.
// Usage: node expected.mjs <sample dir> <facts.env>
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync, statSync} from 'node:fs'
import {basename, join} from 'node:path'

const [sampleDir, factsPath] = process.argv.slice(2)
if (!sampleDir || !factsPath) {
  console.error('usage: node expected.mjs <sample dir> <facts.env>')
  process.exit(2)
}

// ---- facts: key=value lines; repeated keys accumulate ----
const facts = new Map()
for (const line of readFileSync(factsPath, 'utf8').split('\n')) {
  const i = line.indexOf('=')
  if (i <= 0) continue
  const k = line.slice(0, i)
  const list = facts.get(k) ?? []
  list.push(line.slice(i + 1))
  facts.set(k, list)
}
const fact = (k) => {
  const v = facts.get(k)
  if (!v) throw new Error(`missing fact ${k}`)
  return v[v.length - 1]
}
const factNum = (k) => Number(fact(k))
const factList = (k) => facts.get(k) ?? []
const has = (k) => facts.has(k)
function fail(msg) {
  console.error(`expected.mjs (${basename(sampleDir)}): ${msg}`)
  process.exit(1)
}

// ---- lab constants (mirror lib/topo.sh) ----
const MAC = {
  client: '02:77:00:00:00:0a', director1: '02:77:00:00:00:02', director2: '02:77:00:00:00:03',
  rs1: '02:77:00:00:00:0b', rs2: '02:77:00:00:00:0c',
}
const IP = {client: '10.77.0.10', director1: '10.77.0.2', director2: '10.77.0.3', rs1: '10.77.0.11', rs2: '10.77.0.12'}
const vip = fact('vip')
const service = fact('service')
const servicePort = Number(service.split(':')[1])

// ---- captures ----
const captures = factList('capture').map((s) => {
  const [file, host, off] = s.split(',')
  const role = host.startsWith('director') ? 'director' : host.startsWith('rs') ? 'real-server' : 'client'
  const format = /\.pcapng(\.gz)?$/.test(file) ? 'pcapng' : 'pcap'
  return {file, host, role, format, linktype: linktypeOf(join(sampleDir, file)), clockOffsetSeconds: Number(off)}
})

function linktypeOf(path) {
  const out = execFileSync('capinfos', ['-E', '-M', path], {encoding: 'utf8'})
  if (/cooked-mode capture v2|linux-sll2/i.test(out)) return 'LINUX_SLL2'
  if (/cooked-mode capture|linux-sll\b/i.test(out)) return 'LINUX_SLL'
  if (/Ethernet|encapsulation: +ether\b/i.test(out)) return 'ETHERNET'
  fail(`unknown encapsulation in ${path}: ${out}`)
}

const FIELDS = ['frame.number', 'frame.time_epoch', 'eth.src', 'eth.dst', 'sll.src.eth', 'sll.pkttype', 'arp.opcode',
  'arp.src.proto_ipv4', 'arp.dst.proto_ipv4', 'ip.src', 'ip.dst', 'ip.id', 'ip.ttl', 'tcp.srcport', 'tcp.dstport',
  'tcp.flags', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len']

/** One row per frame, as tshark dissects it (first occurrence of each field: the outer headers). */
function framesOf(cap) {
  const args = ['-r', join(sampleDir, cap.file), '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f']
  for (const f of FIELDS) args.push('-e', f)
  const out = execFileSync('tshark', args, {encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore']})
  return out.split('\n').filter(Boolean).map((line) => {
    const v = line.split('\t')
    const sll = cap.linktype.startsWith('LINUX_SLL')
    const flags = v[15] ? parseInt(v[15], 16) : -1
    return {
      cap, file: cap.file, n: Number(v[0]), timeText: v[1], t: Number(v[1]),
      srcMac: sll ? v[4] : v[2], dstMac: sll ? null : v[3], pkttype: v[5] === '' ? -1 : Number(v[5]),
      arp: v[6] !== '', arpSrc: v[7], arpDst: v[8],
      src: v[9], dst: v[10], ipId: v[11] === '' ? -1 : parseInt(v[11], 16), ttl: Number(v[12]),
      tcp: v[13] !== '', sport: Number(v[13]), dport: Number(v[14]), flags,
      seq: Number(v[16]), ack: Number(v[17]), len: Number(v[18]),
    }
  })
}
const frames = new Map(captures.map((c) => [c.file, framesOf(c)]))
const capOf = (host) => captures.find((c) => c.host === host) ?? fail(`no capture of ${host}`)
const framesAt = (host) => frames.get(capOf(host).file)
/** Reference-clock time of a frame (the shifted captures' offsets removed). */
const ref = (f) => f.t - f.cap.clockOffsetSeconds

const F = {FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16}
function flagsStr(x) {
  if (x < 0) return ''
  let s = ''
  for (const [bit, ch] of [[2, 'S'], [1, 'F'], [4, 'R'], [8, 'P'], [16, 'A'], [32, 'U'], [64, 'E'], [128, 'C']]) {
    if (x & bit) s += ch
  }
  return s
}
const endpoint = (ip, port) => `${ip}:${port}`
function frameRef(f) {
  if (f.arp) return {file: f.file, frame: f.n, srcMac: f.srcMac, dstMac: f.dstMac, src: f.arpSrc, dst: f.arpDst, flags: ''}
  return {file: f.file, frame: f.n, srcMac: f.srcMac, dstMac: f.dstMac, src: endpoint(f.src, f.sport),
    dst: endpoint(f.dst, f.dport), flags: flagsStr(f.flags)}
}
const epochOf = (f) => Number(ref(f).toFixed(9))

// ---- generic helpers over the lab's knowledge ----
const directors = fact('directors').split(' ')
const realServers = fact('real_servers').split(' ')
const isClientToVip = (f) => f.tcp && f.src === IP.client && f.dst === vip && f.dport === servicePort
/** Client->VIP frames arriving at director d (from the client's MAC). */
const inboundAt = (d) => framesAt(d).filter((f) => isClientToVip(f) && f.srcMac === MAC.client &&
  (f.dstMac === null ? f.pkttype !== 4 : f.dstMac === MAC[d]))
/** Client->VIP frames leaving director d after the MAC rewrite. */
const outboundAt = (d) => framesAt(d).filter((f) => isClientToVip(f) && f.srcMac === MAC[d] &&
  (f.dstMac === null ? f.pkttype === 4 : true))
const sameSegment = (a, b) => a.src === b.src && a.sport === b.sport && a.ipId === b.ipId && a.seq === b.seq &&
  a.ack === b.ack && a.len === b.len && a.flags === b.flags
function forwarded(d, f) {
  return outboundAt(d).some((o) => sameSegment(o, f))
}
/** RSTs sent from the VIP by host `h`'s MAC, seen in capture of `at`, after lab time t. */
const rstsFrom = (at, mac, t = 0) =>
  framesAt(at).filter((f) => f.tcp && (f.flags & F.RST) && f.src === vip && f.srcMac === mac && ref(f) >= t)
/** The client packet a director RST answered: not forwarded, same flow, ack = RST seq, just before it. */
function triggerOf(d, rst) {
  const cands = inboundAt(d).filter((f) => f.sport === rst.dport && f.n < rst.n && f.ack === rst.seq)
  const trig = cands[cands.length - 1]
  if (!trig) fail(`no trigger for RST frame ${rst.n} in ${rst.file}`)
  if (forwarded(d, trig)) fail(`trigger frame ${trig.n} of RST ${rst.n} was forwarded`)
  return trig
}
function exactlyOne(list, what) {
  if (list.length !== 1) fail(`expected exactly one ${what}, found ${list.length}: ${list.map((f) => f.n).join(',')}`)
  return list[0]
}
function noResets() {
  for (const c of captures) {
    // On the sample's service: a previous sample's connection on another port may still end inside the captures.
    const r = frames.get(c.file).filter((f) => f.tcp && f.flags & F.RST && (f.sport === servicePort || f.dport === servicePort))
    if (r.length) fail(`control sample has RST frames in ${c.file}: ${r.map((f) => f.n).join(',')}`)
  }
}
const flowOf = (clientPort) => ({client: endpoint(IP.client, clientPort), service})

function directorReset(d, t, cause, note) {
  const rst = exactlyOne(rstsFrom(d, MAC[d], t), `RST from ${d}'s MAC`)
  // A director-stack RST (tcp_v4_send_reset): bare R, IP ID 0, seq = trigger's ack.
  if (rst.flags !== F.RST || rst.ipId !== 0) fail(`director RST ${rst.n} is not a no-socket RST`)
  const trig = triggerOf(d, rst)
  return {kind: 'reset', epoch: epochOf(rst), flow: flowOf(rst.dport), sender: 'director', cause,
    frames: [frameRef(rst), frameRef(trig)], note: note(trig)}
}
/** Seconds of client silence on the trigger's flow before it (at the director that saw it). */
function idleBefore(d, trig) {
  const prev = directors.flatMap((x) => inboundAt(x)).filter((f) => f.sport === trig.sport && ref(f) < ref(trig))
    .sort((a, b) => ref(a) - ref(b))
  return prev.length ? ref(trig) - ref(prev[prev.length - 1]) : NaN
}
function garpEvent(d, cause) {
  const g = framesAt(d).filter((f) => f.arp && f.srcMac === MAC[d] && f.arpSrc === vip && f.arpDst === vip &&
    ref(f) >= factNum('t_failover'))
  if (!g.length) fail(`no gratuitous ARP from ${d}`)
  return {kind: 'failover', epoch: epochOf(g[0]), flow: null, sender: 'director', cause,
    frames: [frameRef(g[0])], note: `VIP ${vip} moved from director1 to ${d} (gratuitous ARP from ${MAC[d]})`}
}

/**
 * Every RST from director d's stack, each proven an idle expiry: its trigger came after a silence on its flow
 * longer than the tcp timeout (the kernel expired the entry). Any other director RST fails the recording.
 */
function idleResets(d) {
  const out = []
  for (const rst of rstsFrom(d, MAC[d])) {
    if (rst.flags !== F.RST || rst.ipId !== 0) fail(`director RST ${rst.n} is not a no-socket RST`)
    const trig = triggerOf(d, rst)
    const idle = idleBefore(d, trig)
    if (!(idle > tcp)) fail(`director RST ${rst.n}: its flow idled only ${idle.toFixed(1)} s (tcp timeout ${tcp} s)`)
    out.push({kind: 'reset', epoch: epochOf(rst), flow: flowOf(rst.dport), sender: 'director', cause: 'ipvs-idle-timeout',
      frames: [frameRef(rst), frameRef(trig)], note: `client idled ${idle.toFixed(1)} s > tcp timeout ${tcp} s`})
  }
  return out
}
/** A query stalled by a removed real server (expire_nodest_conn=0): dropped at the director until restored. */
function removedStall(rs) {
  const t0 = factNum('t_rs_removed')
  const t1 = factNum('t_rs_restored')
  const rsFlows = new Set(framesAt(rs).filter((f) => isClientToVip(f) && f.flags === F.SYN).map((f) => f.sport))
  const dropped = inboundAt('director1').filter((f) => ref(f) >= t0 && ref(f) < t1 && f.len > 0 && rsFlows.has(f.sport))
  if (dropped.length < 4) fail(`expected the query and >= 3 retransmissions, found ${dropped.length}`)
  if (new Set(dropped.map((f) => `${f.sport}/${f.seq}`)).size !== 1) fail('dropped frames are not one segment')
  for (const f of dropped) if (forwarded('director1', f)) fail(`frame ${f.n} was forwarded while ${rs} was removed`)
  if (rstsFrom('director1', MAC.director1).some((r) => r.dport === dropped[0].sport)) fail('director RST on the stalled flow')
  const done = inboundAt('director1').find((f) => ref(f) >= t1 && f.seq === dropped[0].seq && f.sport === dropped[0].sport &&
    f.len > 0 && forwarded('director1', f))
  if (!done) fail('no retransmission forwarded after the restore')
  return {kind: 'stall', epoch: epochOf(dropped[0]), flow: flowOf(dropped[0].sport), sender: 'client',
    cause: 'real-server-removed', frames: dropped.map(frameRef),
    note: `query and ${dropped.length - 1} retransmissions dropped silently by the director while ${rs} was ` +
      `removed (expire_nodest_conn=0); after the restore the retransmission at frame ${done.n} was forwarded ` +
      `${(ref(done) - ref(dropped[0])).toFixed(1)} s after the first attempt and the query completed`}
}
/** mariadbd killed with a query unread: RST+ACK from the real server's socket (non-zero IP ID). */
function abortReset(rs, t0, t1) {
  const abort = exactlyOne(rstsFrom(rs, MAC[rs], t0).filter((f) => ref(f) < t1), `RST from ${rs} at the kill`)
  if (abort.flags !== (F.RST | F.ACK) || abort.ipId === 0) fail(`abort RST ${abort.n} is not RST+ACK with a socket IP ID`)
  return {kind: 'reset', epoch: epochOf(abort), flow: flowOf(abort.dport), sender: 'real-server',
    cause: 'real-server-abort', frames: [frameRef(abort)],
    note: `mariadbd killed (SIGKILL) with the query unread in the socket: RST+ACK from the socket, IP ID ${abort.ipId}`}
}

// ---- per-sample events ----
const name = fact('name')
const tcp = factNum('tcp')
const events = []
// A variant names the rules of the sample it varies (same incident, other link type/format/database).
const RULES = {'idle-expiry': 'idle-expiry-mysql', nodest1: 'rs-removed-nodest1-mysql', nodest0: 'rs-removed-nodest0-mysql',
  loss: 'loss-mysql', 'failover-unsynced': 'failover-unsynced-mysql', halfclose: 'halfclose-fin-wait-tcp'}
const rules = has('rules') ? (RULES[fact('rules')] ?? fail(`unknown rules ${fact('rules')}`)) : name
switch (rules) {
  case 'idle-expiry-mysql':
  case 'idle-expiry-pg':
  case 'idle-expiry-pg-any': {
    const idle = idleResets('director1')
    if (!idle.length) fail('no idle-expiry reset')
    events.push(...idle)
    break
  }
  case 'failover-synced-idle-mysql':
    events.push(garpEvent('director2', 'vip-moved'))
    events.push(directorReset('director2', factNum('t_failover'), 'failover-unsynced',
      (trig) => `the session idled ${idleBefore('director2', trig).toFixed(1)} s: the backup's synced entry, not refreshed ` +
        `without sync messages, expired after the ${tcp} s tcp timeout; director2 has no entry for the flow`))
    if (rstsFrom('director1', MAC.director1).length) fail('unexpected RST from director1')
    break
  case 'failover-unsynced-mysql':
    events.push(garpEvent('director2', 'vip-moved'))
    events.push(directorReset('director2', factNum('t_failover'), 'failover-unsynced',
      () => 'director2 has no entry for the flow (no connection sync); the client reconnects and rs1 keeps the old socket'))
    if (rstsFrom('director1', MAC.director1).length) fail('unexpected RST from director1')
    break
  case 'failover-synced-mysql': {
    noResets()
    const ev = garpEvent('director2', 'vip-moved')
    const first = outboundAt('director2').find((f) => ref(f) >= factNum('t_failover'))
    if (!first) fail('nothing forwarded by director2 after the failover')
    ev.frames.push(frameRef(first))
    ev.note += `; the synced entry lets director2 forward the session (first forwarded frame ${first.n})`
    events.push(ev)
    break
  }
  case 'persistence-expiry-mysql':
  case 'persistence-expiry-any-mysql': {
    noResets()
    const syns = outboundAt('director1').filter((f) => f.flags === F.SYN)
    const conns = []
    for (const s of syns) if (!conns.some((c) => c.sport === s.sport)) conns.push(s)
    if (conns.length !== 3) fail(`expected 3 connections, found ${conns.length}`)
    // Which real server got the SYN: its capture has it (a cooked director capture has no destination MAC).
    const rsOf = (f) => realServers.find((r) => framesAt(r).some((x) => x.tcp && x.flags === F.SYN && x.sport === f.sport))
    const sched = conns.map(rsOf)
    if (!sched[0] || sched[1] !== sched[0] || !sched[2] || sched[2] === sched[0]) fail(`unexpected schedule: ${sched.join(',')}`)
    const atRs2 = framesAt(sched[2]).find((f) => f.tcp && f.flags === F.SYN && f.sport === conns[2].sport)
    const pers = factNum('persistence')
    const rearmed = ref(conns[1])
    events.push({kind: 'reschedule', epoch: epochOf(conns[2]), flow: flowOf(conns[2].sport), sender: 'director',
      cause: 'persistence-expired', frames: [frameRef(conns[2]), frameRef(atRs2), frameRef(conns[1])],
      note: `template last re-armed by the SYN at frame ${conns[1].n}; it expired ${pers} s later, ` +
        `${(ref(conns[2]) - rearmed - pers).toFixed(1)} s before this SYN, which went to ${sched[2]} instead of ${sched[0]}`})
    break
  }
  case 'weight0-vs-removed-mysql': {
    // The only resets allowed: sessions that idled past the tcp timeout (the script's pauses run long on a busy VM).
    events.push(...idleResets('director1'))
    // Weight 0 is no incident: the connection opened after it went to rs2, c1's session stayed on rs1.
    const tw = factNum('t_rs_weight_0')
    const newSyn = outboundAt('director1').filter((f) => f.flags === F.SYN && ref(f) > tw && ref(f) < factNum('t_rs_removed'))
    if (newSyn.length !== 1 || !framesAt('rs2').some((x) => x.flags === F.SYN && x.sport === newSyn[0].sport)) {
      fail('the connection opened after weight 0 did not go to rs2')
    }
    events.push(removedStall('rs2'))
    break
  }
  case 'rs-removed-nodest0-mysql':
    events.push(removedStall('rs1'))
    break
  case 'rs-removed-nodest1-mysql':
    events.push(directorReset('director1', factNum('t_rs_removed'), 'real-server-removed',
      () => 'rs1 was removed with expire_nodest_conn=1: the entry was expired and the next packet met the director\'s stack'))
    break
  case 'rs-killed-mysql': {
    const tk = factNum('t_rs_killed')
    const tr = factNum('t_rs_restarted')
    const rsts = rstsFrom('rs1', MAC.rs1, tk)
    events.push(abortReset('rs1', tk, tr))
    const nosock = exactlyOne(rsts.filter((f) => ref(f) >= tr), 'RST from rs1 after the restart')
    if (nosock.flags !== F.RST || nosock.ipId !== 0) fail(`no-socket RST ${nosock.n} is not a bare RST with IP ID 0`)
    const trigRs = framesAt('rs1').filter((f) => isClientToVip(f) && f.sport === nosock.dport && f.ack === nosock.seq &&
      f.n < nosock.n).pop()
    if (!trigRs) fail('no trigger at rs1 for the no-socket RST')
    const trigDir = outboundAt('director1').find((f) => sameSegment(f, trigRs))
    if (!trigDir) fail('trigger of the no-socket RST was not forwarded by the director')
    events.push({kind: 'reset', epoch: epochOf(nosock), flow: flowOf(nosock.dport), sender: 'real-server',
      cause: 'real-server-no-socket', frames: [frameRef(nosock), frameRef(trigRs), frameRef(trigDir)],
      note: 'the restarted server has no socket for this connection; the director forwarded the query normally'})
    if (rstsFrom('director1', MAC.director1).length) fail('unexpected director RST')
    break
  }
  case 'loss-mysql':
  case 'loss-rr-many-mysql':
    noResets()
    break
  case 'halfclose-fin-wait-tcp': {
    const ev = directorReset('director1', factNum('t_request'), 'ipvs-fin-timeout', (trig) => {
      const fin = inboundAt('director1').find((f) => f.sport === trig.sport && (f.flags & F.FIN))
      if (!fin || !forwarded('director1', fin)) fail('the client\'s FIN was not forwarded')
      const gap = ref(trig) - ref(fin)
      if (gap <= factNum('tcpfin')) fail(`trigger only ${gap.toFixed(1)} s after the FIN`)
      return `the client half-closed (FIN, frame ${fin.n}); its next packet came ${gap.toFixed(1)} s later, after the ` +
        `FIN_WAIT entry's tcpfin timeout of ${factNum('tcpfin')} s`
    })
    events.push(ev)
    break
  }
  case 'rs-refused-and-killed-mysql': {
    const refused = exactlyOne(rstsFrom('rs2', MAC.rs2), 'RST from rs2')
    if (refused.flags !== (F.RST | F.ACK) || refused.ipId !== 0) fail(`refusal ${refused.n} is not RST+ACK with IP ID 0`)
    const syn = framesAt('rs2').find((f) => isClientToVip(f) && f.flags === F.SYN && f.sport === refused.dport &&
      refused.ack === (f.seq + 1) % 2 ** 32)
    if (!syn) fail('no SYN at rs2 for the refusal')
    const synDir = outboundAt('director1').find((f) => sameSegment(f, syn))
    if (!synDir) fail('the refused SYN was not forwarded by the director')
    events.push({kind: 'reset', epoch: epochOf(refused), flow: flowOf(refused.dport), sender: 'real-server',
      cause: 'real-server-no-socket', frames: [frameRef(refused), frameRef(syn), frameRef(synDir)],
      note: 'nothing listens on rs2:3306 (mariadbd stopped): its kernel refuses the forwarded SYN with RST+ACK, IP ID 0'})
    events.push(abortReset('rs1', factNum('t_rs_killed'), Infinity))
    if (rstsFrom('director1', MAC.director1).length) fail('unexpected director RST')
    break
  }
  case 'failover-stale-arp-mysql': {
    const tf = factNum('t_failover')
    const g = garpEvent('director2', 'vip-moved')
    if (framesAt('rs1').some((f) => f.arp && f.srcMac === MAC.director2 && f.arpSrc === vip && f.arpDst === vip && ref(f) >= tf)) {
      fail('the gratuitous ARP was not dropped on the bridge')
    }
    g.note += '; the gratuitous ARP was dropped on the way (the client never got it)'
    events.push(g)
    const lost = inboundAt('director1').filter((f) => ref(f) > tf && f.len > 0)
    if (lost.length < 3) fail(`expected >= 3 retransmissions to director1's MAC after the failover, found ${lost.length}`)
    if (new Set(lost.map((f) => `${f.sport}/${f.seq}`)).size !== 1) fail('frames to director1 after the failover are not one segment')
    for (const f of lost) if (forwarded('director1', f)) fail(`frame ${f.n} was forwarded by director1 after the failover`)
    events.push({kind: 'stall', epoch: epochOf(lost[0]), flow: flowOf(lost[0].sport), sender: 'client', cause: 'stale-arp',
      frames: lost.map(frameRef),
      note: `the client's neighbour entry for the VIP still held director1's MAC: ${lost.length} sends of the query reached ` +
        'director1, which no longer holds the VIP, and were dropped'})
    events.push(directorReset('director2', tf, 'failover-unsynced',
      () => 'once the client re-resolved the VIP, director2 got the query with no entry for the flow (no sync): RST'))
    break
  }
  default:
    fail(`no event rules for sample ${name}`)
}

// ---- counters (exact: nft, or the real director's ipvsadm --stats) cross-checked against the captures ----
const implementation = has('implementation') ? fact('implementation') : 'nftables'
const kernel = has('kernel') ? fact('kernel') : 'unknown'
/** The virtual service's InPkts in `ipvsadm -Ln --stats --exact`: every packet IPVS forwarded (a packet
 * to a removed destination is dropped before it is counted; one without an entry never reaches IPVS's stats). */
function ipvsInPkts(host) {
  const text = readFileSync(join(factsPath, '..', `counters-${host}.txt`), 'utf8')
  const m = text.match(new RegExp(`^TCP +${service.replace(/\./g, '\\.')} +\\d+ +(\\d+) `, 'm'))
  if (!m) fail(`no ${service} line in counters-${host}.txt`)
  return Number(m[1])
}
function counterOf(host, counter) {
  const j = JSON.parse(readFileSync(join(factsPath, '..', `counters-${host}.json`), 'utf8'))
  for (const o of j.nftables) if (o.counter && o.counter.name === counter) return o.counter.packets
  return undefined
}
function sumCounters(host, prefix) {
  const j = JSON.parse(readFileSync(join(factsPath, '..', `counters-${host}.json`), 'utf8'))
  let n = 0
  for (const o of j.nftables) if (o.counter && o.counter.name.startsWith(prefix)) n += o.counter.packets
  return n
}
const drCopies = {}
let fwdTotal = 0
let notFwd = 0
for (const d of directors) {
  const c = capOf(d)
  const fwd = implementation === 'ipvs' ? ipvsInPkts(d) : sumCounters(d, 'fwd_')
  // IPVS counts no packet it did not forward: there the inbound total is the capture's own.
  const inbound = implementation === 'ipvs' ? inboundAt(d).length : counterOf(d, 'inbound')
  const seenOut = outboundAt(d).length
  const seenIn = inboundAt(d).length
  if (seenOut !== fwd) fail(`${c.file}: nft forwarded ${fwd}, capture shows ${seenOut} outbound copies`)
  if (seenIn !== inbound) fail(`${c.file}: nft counted ${inbound} inbound, capture shows ${seenIn}`)
  drCopies[c.file] = fwd
  fwdTotal += fwd
  notFwd += inbound - fwd
}
let lost = 0
for (const h of factList('loss_counters')) {
  const n = counterOf(h, 'lost')
  if (n === undefined) fail(`no 'lost' counter in counters-${h}.json`)
  lost += n
}

/**
 * DR copies the directors sent that no real-server capture received: a multiset difference of segments
 * (the same key may legitimately repeat, e.g. a retransmission reusing an IP ID). Null when a real server
 * has no capture, so a copy's absence proves nothing.
 */
function missingAtRealServers() {
  const rsCaps = realServers.map((r) => captures.find((c) => c.host === r))
  if (rsCaps.some((c) => !c)) return null
  const key = (f) => `${f.sport}/${f.ipId}/${f.seq}/${f.ack}/${f.len}/${f.flags}`
  const dirMacs = new Set(directors.map((d) => MAC[d]))
  const arrived = new Map()
  for (const c of rsCaps) {
    for (const f of frames.get(c.file)) {
      if (isClientToVip(f) && dirMacs.has(f.srcMac)) arrived.set(key(f), (arrived.get(key(f)) ?? 0) + 1)
    }
  }
  const missing = []
  for (const d of directors) {
    for (const o of outboundAt(d)) {
      const k = key(o)
      const left = arrived.get(k) ?? 0
      if (left > 0) arrived.set(k, left - 1)
      else missing.push(o)
    }
  }
  let extra = 0
  for (const v of arrived.values()) extra += v
  // A copy at a real server that no director capture sent would mean the matching key is wrong.
  if (extra) fail(`${extra} client frames at the real servers were never sent by a captured director`)
  return missing
}
// The lab's loss is ground truth only if the captures show it: every frame the nft rule dropped must be
// a DR copy leaving a director and never reaching the real server, and nothing else may go missing.
const missing = missingAtRealServers()
if (missing !== null && missing.length !== lost) {
  fail(`nft dropped ${lost} frames on the path, but ${missing.length} DR copies never reached a real server: ` +
    missing.map(frameRef).map((r) => `${r.file}#${r.frame}`).join(','))
}
if (missing === null && lost) fail('loss on the path needs a capture of every real server to be verified')
if (missing !== null && has('t_loss_on')) {
  // ...and only while the loss rule was in place.
  const on = factNum('t_loss_on')
  const off = factNum('t_loss_off')
  const outside = missing.filter((f) => ref(f) < on || ref(f) > off)
  if (outside.length) fail(`DR copies lost outside the loss window: ${outside.map((f) => `${f.file}#${f.n}`).join(',')}`)
}

// The client's own capture counts its real retransmissions (no DR copies there).
/** Real retransmissions in the client's own capture (no DR copies there), by sender: client and server. */
function clientRetransmissions() {
  const out = execFileSync('tshark', ['-r', fact('client_capture'), '-Y',
    'tcp.analysis.retransmission || tcp.analysis.fast_retransmission', '-T', 'fields',
    '-e', 'ip.src'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
  const srcs = out.split('\n').filter(Boolean)
  const client = srcs.filter((s) => s === IP.client).length
  return {client, server: srcs.length - client}
}
const retrans = clientRetransmissions()

const num = (k, dflt) => (has(k) ? factNum(k) : dflt)
const expected = {
  schema: 'lvscope/expected@1',
  name,
  story: fact('story'),
  director: {implementation, kernel},
  captures,
  topology: {
    vip, services: [service], forwarding: 'DR', ttlDecrement: true,
    client: {ip: IP.client, mac: MAC.client},
    directors: directors.map((d) => ({name: d, mac: MAC[d], ips: [IP[d]]})),
    realServers: realServers.map((r) => ({name: r, mac: MAC[r], ip: IP[r]})),
  },
  timeouts: {
    tcp, tcpfin: factNum('tcpfin'), udp: 30,
    persistence: num('persistence', 0) > 0 ? factNum('persistence') : null,
    expireNodestConn: num('expire_nodest', 0), sync: num('sync', 0) === 1,
  },
  // What a user of this director would pass: its timeouts, and its persistence when the service has one.
  analyzeFlags: ['--timeouts', `${tcp},${factNum('tcpfin')},30`, ...(num('persistence', 0) > 0 ? ['--persistence', String(factNum('persistence'))] : [])],
  drCopies,
  genuineRetransmissions: retrans.client + retrans.server,
  genuineRetransmissionsBySender: retrans,
  clientPackets: {forwarded: fwdTotal, notForwarded: notFwd, droppedOnPath: lost},
  events,
}
writeFileSync(join(sampleDir, 'expected.json'), JSON.stringify(expected, null, 2) + '\n')
let size = 0
for (const c of captures) size += statSync(join(sampleDir, c.file)).size
console.error(`expected.mjs: ${name}: ${events.length} events, captures ${size} bytes`)
