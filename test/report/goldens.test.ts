/**
 * Goldens pin every sample's Markdown and the text content of its HTML (the JSON golden, the same file as
 * test/samples/analyze.test.ts pins, byte for byte). A missing golden fails; `npm run goldens`
 * (LVSCOPE_UPDATE_GOLDENS=1) rewrites them.
 */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {renderHtml} from '../../src/report/html.js'
import {renderMarkdown} from '../../src/report/markdown.js'
import {REPO_ROOT} from '../helpers/cli.js'
import {SAMPLE_NAMES, htmlText, sampleReport} from './samples.js'

const GOLDEN = join(REPO_ROOT, 'test/samples/golden')
const UPDATE = !!process.env.LVSCOPE_UPDATE_GOLDENS

function pinned(file: string, actual: string): void {
  const path = join(GOLDEN, file)
  if (UPDATE) {
    mkdirSync(GOLDEN, {recursive: true})
    writeFileSync(path, actual)
  }
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run goldens and commit it`)
  expect(actual, file).toBe(readFileSync(path, 'utf8'))
}

describe('goldens: Markdown, JSON and HTML text of every sample', () => {
  for (const name of SAMPLE_NAMES) {
    it(name, () => {
      const report = sampleReport(name)
      pinned(`${name}.json`, `${JSON.stringify(report, null, 2)}\n`)
      pinned(`${name}.md`, renderMarkdown(report))
      const html = renderHtml(report)
      // Deterministic: the same report renders byte for byte the same page.
      expect(renderHtml(structuredClone(report))).toBe(html)
      pinned(`${name}.html.txt`, htmlText(html))
    })
  }

  it.skipIf(UPDATE)('a missing golden fails rather than being written', () => {
    expect(() => pinned('no-such-sample.md', 'x')).toThrow(/is missing: run npm run goldens/)
    expect(existsSync(join(GOLDEN, 'no-such-sample.md'))).toBe(false)
  })
})
