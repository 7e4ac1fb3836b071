import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {renderMarkdown} from '../../src/report/markdown.js'
import type {Report} from '../../src/report/report.js'

const golden = JSON.parse(readFileSync('test/samples/golden/idle-expiry-mysql.json', 'utf8')) as Report

describe('Markdown report', () => {
  it('carries the verdict, the findings table, the evidence and the fix of a real sample', () => {
    const md = renderMarkdown(golden)
    expect(md.startsWith('# lvscope report\n\n**Verdict:** 1 reset; main cause: ipvs-idle-timeout')).toBe(true)
    const f = golden.findings[0]
    expect(md).toContain(`| 1 | ${f.time} | reset | ${f.flow?.client} → ${f.flow?.service} | director | ipvs-idle-timeout | high |`)
    for (const ev of f.evidence) expect(md).toContain(`| ${ev.frame} | ${ev.time} |`)
    // Our own recommendation keeps its code spans.
    expect(md).toMatch(/\*\*Fix:\*\* .*`ipvsadm --set \d+ 3 30`/)
  })

  it('neutralises packet text: table pipes, markup and control bytes from a query cannot escape their cell', () => {
    const hostile: Report = JSON.parse(JSON.stringify(golden))
    hostile.findings[0].application = {
      protocol: 'mysql',
      lastCommand: "COM_QUERY select '| x | <script>alert(1)</script> `y` \u001b[2J'",
      serverError: null,
      symptom: null,
    }
    const md = renderMarkdown(hostile)
    const line = md.split('\n').find((l) => l.startsWith('- Last mysql command:')) ?? ''
    expect(line).toBe("- Last mysql command: COM\\_QUERY select '\\| x \\| &lt;script&gt;alert(1)&lt;/script&gt; \\`y\\` \\\\x1b\\[2J'")
    expect(md).not.toContain('<script>')
    expect(md).not.toContain('\u001b')
  })
})
