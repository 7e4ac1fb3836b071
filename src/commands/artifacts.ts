import {Args, Flags} from '@oclif/core'
import Table from 'cli-table3'

import {LvscopeCommand} from '../cli/base.js'
import {decimalFlag} from '../cli/flags.js'
import {expandInputs} from '../cli/inputs.js'
import {EXIT, LvscopeError} from '../util/errors.js'
import {escapeTerminal} from '../util/escape.js'
import type {Role} from '../report/report.js'
import {scanArtifacts} from '../vantage/artifact-scan.js'
import {headlineFlags, type ArtifactSummary, type FlagCounts} from '../vantage/artifacts.js'
import {captureRoles} from '../vantage/correlate/index.js'

function total(c: FlagCounts): number {
  let n = 0
  for (const k in c) n += c[k]
  return n
}

export function verdict(s: ArtifactSummary): string {
  const shown = total(s.wireshark)
  const real = total(s.genuine)
  const art = shown - real
  if (shown === 0) return 'Wireshark raises no TCP analysis flag on this capture.'
  const pct = ((100 * art) / shown).toFixed(1)
  const what = s.drCopies > 0 ? `${s.drCopies} LVS-${s.forwarding} forwarded copies` : s.spanDuplicates > 0 ? `${s.spanDuplicates} mirror duplicates` : 'no duplicates'
  return `${art} of ${shown} Wireshark flags (${pct} %) are capture artifacts (${what}); ${real} are genuine, including ${s.genuineRetransmissions} retransmission(s).`
}

export function artifactsJson(file: string, s: ArtifactSummary, role: {role: Role; reason: string}) {
  return {
    file,
    role: role.role,
    roleReason: role.reason,
    frames: s.frames,
    drCopies: s.drCopies,
    spanDuplicates: s.spanDuplicates,
    offloadFrames: s.offloadFrames,
    genuineRetransmissions: s.genuineRetransmissions,
    flags: headlineFlags(s.wireshark),
    genuineFlags: headlineFlags(s.genuine),
    topology: {forwarding: s.forwarding, ttl: s.ttl, services: s.services, directorMacs: s.directorMacs, realServers: s.realServers},
    wireshark: s.wireshark,
    genuine: s.genuine,
    byClass: s.byClass,
    verdict: verdict(s),
  }
}

export default class Artifacts extends LvscopeCommand {
  static override description =
    "Tell Wireshark's false TCP flags on LVS captures (the director's forwarded copies, mirror duplicates, offload) from genuine trouble."
  static override examples = ['<%= config.bin %> artifacts samples/lossy-healthy/director.pcapng', '<%= config.bin %> artifacts --json captures/']
  static override strict = false
  static override args = {
    captures: Args.string({description: 'capture files, directories of them, or - for stdin', required: true}),
  }
  static override flags = {
    json: Flags.boolean({description: 'print JSON (one array entry per capture)'}),
    threads: decimalFlag({description: 'threads per capture, each taking a share of the flows (default: one per core for captures over 64 MiB)', min: 1, max: 16})(),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Artifacts)
    const out: ReturnType<typeof artifactsJson>[] = []
    let failed = 0
    const files = expandInputs(argv as string[], {stdin: true, warn: (m) => this.warning(m)})
    // Roles from the captures' first frames, judged together (a real server is recognised by the VIP that the
    // director capture beside it reveals); a capture that cannot be read is judged later, by the scan.
    const roles = await captureRoles(files.map((file) => ({file}))).catch(() => null)
    for (const [i, file] of files.entries()) {
      try {
        const {summary, artifacts} = await scanArtifacts(file, flags.threads)
        this.captureWarnings(summary.warnings)
        out.push(artifactsJson(file, artifacts, roles?.[i] ?? {role: 'unknown', reason: 'not judged'}))
      } catch (err) {
        if (!(err instanceof LvscopeError)) throw err
        this.say(err.message)
        failed++
      }
    }
    if (flags.json) this.printJson(out)
    else for (const r of out) this.log(render(r))
    if (failed > 0) this.exit(EXIT.noOutput)
  }
}

function render(r: ReturnType<typeof artifactsJson>): string {
  const lines = [`${escapeTerminal(r.file)} — ${r.role} (${escapeTerminal(r.roleReason)}), ${r.frames} frames`, r.verdict]
  const topo = r.topology
  if (r.drCopies > 0) {
    lines.push(
      `Forwarding ${topo.forwarding} (TTL ${topo.ttl}); services ${topo.services.map((s) => s.service).join(', ')}; director MAC ${topo.directorMacs.join(', ')}`,
    )
    lines.push(`Forwarded copies per real server: ${topo.realServers.map((s) => `${s.realServer} ${s.copies}`).join(', ')}`)
  }
  const t = new Table({head: ['Wireshark flag', 'shown', 'dr-copy', 'span-dup', 'offload', 'genuine'], style: {head: [], border: []}})
  for (const name of Object.keys(r.wireshark)) {
    const shown = r.wireshark[name]
    if (shown === 0 && r.genuine[name] === 0) continue
    t.push([name, shown, r.byClass['dr-copy'][name], r.byClass['span-duplicate'][name], r.byClass.offload[name], r.genuine[name]])
  }
  if (t.length > 0) lines.push(t.toString())
  return lines.join('\n')
}
