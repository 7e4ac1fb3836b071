/** The HTML page's shape without a browser: self-contained, and an overview that stays readable at scale. */
import {describe, expect, it} from 'vitest'

import {renderHtml} from '../../src/report/html.js'
import {SAMPLE_NAMES, goldenReport, htmlText} from './samples.js'

describe('HTML report', () => {
  it('references nothing outside itself and carries no script', () => {
    for (const name of SAMPLE_NAMES) {
      const html = renderHtml(goldenReport(name))
      expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`)
      expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i)
      // Links are fragments within the page, or the SVG namespace declaration.
      for (const m of html.matchAll(/(?:href|src)="([^"]*)"/g)) expect(m[1], name).toMatch(/^#[A-Za-z0-9_-]+$/)
      expect([...html.matchAll(/xmlns="([^"]*)"/g)].every((m) => m[1] === 'http://www.w3.org/2000/svg')).toBe(true)
    }
  })

  it('verdict first, then findings; every ladder has a title and a description', () => {
    const r = goldenReport('idle-expiry-mysql')
    const html = renderHtml(r)
    const text = htmlText(html).split('\n')
    expect(text[1]).toBe('lvscope report')
    expect(text[2]).toBe(`Verdict: ${r.verdict}`)
    expect(html).toMatch(/<svg [^>]*role="img" aria-labelledby="ladder-1-t ladder-1-d"[^>]*><title id="ladder-1-t">[^<]+<\/title><desc id="ladder-1-d">[^<]+<\/desc>/)
    // frames 26 and 28 of the director capture: 11.17 s of client silence against the 6 s tcp timer
    expect(html).toContain('idle 11.2 s &gt; tcp 6 s')
  })

  it('with many flows with findings, draws the first 40 as rows and all of them in a density strip', () => {
    const base = goldenReport('idle-expiry-mysql')
    const f = base.findings[0]
    const r = {
      ...base,
      findings: Array.from({length: 300}, (_, i) => ({...f, epoch: f.epoch + i, flow: {client: `10.77.${i >> 8}.${i & 255}:40000`, service: f.flow?.service ?? ''}})),
    }
    const html = renderHtml(r)
    const overview = html.slice(html.indexOf('<section id="overview">'), html.indexOf('</section>', html.indexOf('<section id="overview">')))
    expect([...overview.matchAll(/<circle class="mark/g)]).toHaveLength(40)
    expect(overview).toContain('all 300 findings (300 flows)')
    expect(overview).toContain('260 more flow(s) with findings are in the density strip only.')
    const bars = [...overview.matchAll(/<rect class="mark"[^>]*><title>(\d+) finding\(s\)<\/title>/g)].map((m) => Number(m[1]))
    expect(bars.reduce((a, b) => a + b, 0)).toBe(300)
  })
})
