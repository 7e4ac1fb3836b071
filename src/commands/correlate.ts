import {Args, Flags} from '@oclif/core'
import Table from 'cli-table3'

import {LvscopeCommand} from '../cli/base.js'
import {breakEvery} from '../report/terminal.js'
import {placeInputs, placementFlags} from '../cli/placement-flags.js'
import {escapeTerminal} from '../util/escape.js'
import {correlate} from '../vantage/correlate/index.js'

export default class Correlate extends LvscopeCommand {
  static override description =
    "Line up an incident's captures: each capture's role and clock offset, and what became of every client packet between director and real server."
  static override examples = ['<%= config.bin %> correlate samples/failover-unsynced-mysql', '<%= config.bin %> correlate director.pcap rs1.pcap --json']
  static override strict = false
  static override args = {
    captures: Args.string({description: 'capture files of one incident, or directories of them', required: true}),
  }
  static override flags = {
    json: Flags.boolean({description: 'print the correlation as JSON'}),
    ...placementFlags,
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Correlate)
    const {files, roles, offsets} = placeInputs(argv as string[], flags, (m) => this.warning(m))
    const r = await correlate(files.map((file) => ({file, role: roles.get(file), clockOffsetSeconds: offsets.get(file)})))
    for (const c of r.captures) this.captureWarnings(c.warnings)
    if (flags.json) {
      this.printJson(r)
      return
    }
    const e = escapeTerminal
    const caps = new Table({head: ['capture', 'role', 'clock offset', 'why'], style: {head: [], border: []}, colWidths: [44, 13, 38, 60], wordWrap: true})
    for (const c of r.captures) {
      const off = c.clockSource === 'reference' ? 'reference' : `${c.clockOffsetSeconds.toFixed(6)} s ± ${(c.clockOffsetUncertainty * 1e3).toFixed(3)} ms (${c.clockSource})`
      caps.push([breakEvery(e(c.file), 42), c.role, off, e(c.roleReason)])
    }
    this.log(caps.toString())
    const t = r.totals
    this.log(
      `client packets: ${t.delivered} delivered, ${t.lostOnPath} lost between director and real server, ${t.notForwarded} not forwarded by a director, ` +
        `${t.onlyAtRealServer} seen only at a real server, ${t.unjudged} not judged (outside a capture's span)`,
    )
    const odd = r.flows.filter((f) => f.lostOnPath + f.notForwarded + f.onlyAtRealServer > 0)
    if (odd.length > 0) {
      const ft = new Table({head: ['flow', 'matched', 'lost on path', 'not forwarded', 'only at RS'], style: {head: [], border: []}})
      for (const f of odd.slice(0, 50)) ft.push([`${e(f.client)} → ${e(f.service)}`, f.matched, f.lostOnPath, f.notForwarded, f.onlyAtRealServer])
      this.log(ft.toString())
      if (odd.length > 50) this.log(`… ${odd.length - 50} more flow(s); --json lists them all`)
    }
  }
}
