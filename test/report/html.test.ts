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

  it('draws the flows without findings as a density strip of their activity, with the findings marked on it', () => {
    const base = goldenReport('idle-expiry-mysql')
    const f = base.findings[0]
    const t = f.epoch
    const quiet = (i: number, a: number, b: number) => ({client: `10.99.0.${i}:5000`, service: f.flow?.service ?? '', matched: 3, lostOnPath: 0, notForwarded: 0, onlyAtRealServer: 0, firstEpoch: a, lastEpoch: b})
    const findingFlow = {...quiet(0, t - 1, t), client: f.flow?.client ?? ''}
    // Two flows active only before the finding (one short, one long), one far after it, one with no timed packet.
    const r = {...base, correlation: {...base.correlation, flows: [findingFlow, quiet(1, t - 100, t - 100), quiet(2, t - 100, t - 50), quiet(3, t + 100, t + 100), {...quiet(4, 0, 0), firstEpoch: null, lastEpoch: null}]}}
    const html = renderHtml(r)
    const overview = html.slice(html.indexOf('<section id="overview">'), html.indexOf('</section>', html.indexOf('<section id="overview">')))
    const svg = overview.slice(0, overview.indexOf('</svg>'))
    expect(svg).toContain('3 flow(s) without a finding')
    const bins = [...svg.matchAll(/<rect class="density" x="([\d.]+)"[^>]*><title>(\d+) active flow\(s\)<\/title>/g)].map((m) => [Number(m[1]), Number(m[2])])
    // The axis spans t-100 … t+100 over 120 bins: the first bin holds both early flows, the long one covers
    // bins up to the middle, the last bin holds the late flow.
    expect(bins[0]).toEqual([300, 2])
    expect(bins.at(-1)?.[1]).toBe(1)
    expect(bins.at(-1)?.[0]).toBeCloseTo(300 + 119 * (680 / 120), 3)
    expect(bins.length).toBe(32) // bins 0…30 (t-100 … t-50) and 119
    // The finding is marked on the strip, in the middle of the axis, linking to its section.
    const tick = /<a href="#finding-1"><line class="mark reset finding-tick" x1="([\d.]+)"/.exec(svg)
    expect(Number(tick?.[1])).toBeCloseTo(300 + 340, 3)
    expect(overview).toContain('1 other correlated flow(s) without a finding have no timed packet and are not drawn.')
    expect(overview).toContain('+200.0 s')
  })

  it('the golden samples: every correlated flow without a finding is in the strip', () => {
    const r = goldenReport('idle-expiry-mysql')
    expect(r.correlation.flows.every((c) => typeof c.firstEpoch === 'number' && typeof c.lastEpoch === 'number' && c.firstEpoch <= c.lastEpoch)).toBe(true)
    const html = renderHtml(r)
    const quiet = r.correlation.flows.filter((c) => c.client !== r.findings[0].flow?.client).length
    expect(quiet).toBeGreaterThan(0)
    expect(html).toContain(`${quiet} flow(s) without a finding`)
  })
})
