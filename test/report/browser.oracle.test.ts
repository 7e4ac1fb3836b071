/// <reference lib="dom" />
/**
 * The HTML report in a real browser (Debian's /usr/bin/chromium through playwright-core; no browser download):
 * every sample's page loads with no console error and no request beyond its own file, its ladders draw an
 * element for each evidence frame (an arrow for each TCP frame, the RST marked in the RST colour), and the
 * hostile captures' <script>, attribute and </svg> break-outs in a MySQL query and a PostgreSQL error neither
 * run nor vanish: they show as text. Screenshots go to the test's temporary folder.
 */
import {existsSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {type Browser, type Page, chromium} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {renderHtml} from '../../src/report/html.js'
import type {Report} from '../../src/report/report.js'
import {escapeTerminal} from '../../src/util/escape.js'
import {runCli} from '../helpers/cli.js'
import {hostileMysql, hostilePostgres, tempDir} from './hostile.js'
import {SAMPLE_NAMES, goldenReport} from './samples.js'

const CHROMIUM = '/usr/bin/chromium'
const FRAME_KINDS = new Set(['client-packet', 'forwarded-copy', 'server-packet', 'rst'])

interface Loaded {
  page: Page
  errors: string[]
  requests: string[]
}

describe.skipIf(!existsSync(CHROMIUM))('HTML report in Chromium', () => {
  let browser: Browser
  const dir = tempDir('lvscope-browser-')

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
  })

  async function load(file: string): Promise<Loaded> {
    const page = await browser.newPage({viewport: {width: 1100, height: 900}})
    const errors: string[] = []
    const requests: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
    // Every request is seen here; anything but the page itself (file:) or inline data fails the test.
    await page.route('**/*', async (route) => {
      const url = route.request().url()
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue()
      requests.push(url)
      return route.abort()
    })
    page.on('request', (r) => {
      const url = r.url()
      if (!url.startsWith('file:') && !url.startsWith('data:') && !requests.includes(url)) requests.push(url)
    })
    await page.goto(pathToFileURL(file).href, {waitUntil: 'load'})
    return {page, errors, requests}
  }

  async function checkLadders(page: Page, r: Report): Promise<void> {
    for (const [i, f] of r.findings.entries()) {
      const svg = page.locator(`#ladder-${i + 1}`)
      expect(await svg.count(), `finding ${i + 1} has a ladder`).toBe(1)
      expect(await svg.locator('title').first().textContent()).toBe(f.summary)
      for (const ev of f.evidence) {
        const sel = `[data-capture="${ev.file}"][data-frame="${ev.frame}"]`
        const kind = f.events?.find((e) => e.capture === ev.file && e.frame === ev.frame && (FRAME_KINDS.has(e.kind) || e.kind === 'failover'))?.kind
        expect(kind, `${ev.file} #${ev.frame} has an event`).toBeDefined()
        const el = svg.locator(FRAME_KINDS.has(kind ?? '') ? `g.arrow${sel}` : `g.failover-mark${sel}`)
        expect(await el.count(), `finding ${i + 1}: ${ev.file} #${ev.frame}`).toBe(1)
        // The arrow links to its evidence row, which exists.
        const href = await el.locator('xpath=..').getAttribute('href')
        expect(href).toMatch(/^#ev-\d+-\d+$/)
        expect(await page.locator(href ?? '#none').count()).toBe(1)
      }
      if (f.kind === 'reset') {
        const rst = svg.locator(`g.arrow.rst[data-frame="${f.evidence[0].frame}"]`)
        expect(await rst.count()).toBe(1)
        const colour = await rst.locator('line').first().evaluate((l) => getComputedStyle(l).stroke)
        expect(colour).toBe('rgb(198, 40, 40)')
        const plain = svg.locator('g.arrow:not(.rst):not(.copy):not(.dropped) line')
        if ((await plain.count()) > 0) expect(await plain.first().evaluate((l) => getComputedStyle(l).stroke)).not.toBe(colour)
      }
    }
  }

  for (const name of SAMPLE_NAMES) {
    it(name, async () => {
      const r = goldenReport(name)
      const file = join(dir, `${name}.html`)
      writeFileSync(file, renderHtml(r))
      const {page, errors, requests} = await load(file)
      expect(errors).toEqual([])
      expect(requests).toEqual([])
      expect(await page.locator('#verdict').textContent()).toBe(`Verdict: ${r.verdict}`)
      await checkLadders(page, r)
      expect(await page.evaluate(() => document.scripts.length)).toBe(0)
      const shot = join(dir, `${name}.png`)
      await page.screenshot({path: shot, fullPage: true})
      expect(statSync(shot).size).toBeGreaterThan(10_000)
      await page.close()
    }, 60_000)
  }

  it('hostile MySQL query and PostgreSQL error text neither run nor disappear', async () => {
    for (const [label, build] of [['mysql', hostileMysql], ['postgres', hostilePostgres]] as const) {
      const capDir = tempDir(`lvscope-hostile-${label}-`)
      const out = join(dir, `hostile-${label}.html`)
      const args = build(capDir)
      const cli = runCli(['analyze', ...args, '--format', 'html', '-o', out])
      expect(cli.code, cli.stderr).toBe(0)
      const r = JSON.parse(runCli(['analyze', ...args, '--format', 'json']).stdout) as Report
      const app = r.findings[0].application
      expect(app).not.toBeNull()
      const {page, errors, requests} = await load(out)
      await page.waitForTimeout(200)
      expect(await page.evaluate(() => (window as unknown as {__pwned?: number}).__pwned)).toBeUndefined()
      expect(errors).toEqual([])
      expect(requests).toEqual([])
      expect(await page.evaluate(() => [document.scripts.length, document.images.length, document.querySelectorAll('svg').length])).toEqual([
        0,
        0,
        // Overview, one ladder per finding, seven legend swatches: no </svg> break-out opened or closed one.
        1 + r.findings.length + 7,
      ])
      // Shown literally, in the terminal's visible form for controls and bidi characters.
      expect(await page.locator('.app-command').first().textContent()).toBe(escapeTerminal(app?.lastCommand ?? ''))
      if (label === 'postgres') expect(await page.locator('.app-error').first().textContent()).toBe(escapeTerminal(app?.serverError ?? ''))
      await checkLadders(page, r)
      await page.screenshot({path: join(dir, `hostile-${label}.png`), fullPage: true})
      await page.close()
    }
  }, 120_000)

  it('prints, and honours dark mode', async () => {
    const file = join(dir, 'idle-expiry-mysql.html')
    const {page} = await load(file)
    await page.emulateMedia({colorScheme: 'dark'})
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(13, 17, 23)')
    await page.screenshot({path: join(dir, 'idle-expiry-mysql-dark.png'), fullPage: true})
    await page.emulateMedia({media: 'print', colorScheme: 'light'})
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(255, 255, 255)')
    const pdf = await page.pdf({path: join(dir, 'idle-expiry-mysql.pdf')})
    expect(pdf.length).toBeGreaterThan(10_000)
    await page.close()
    console.log(`screenshots in ${dir}`)
  }, 60_000)
})
