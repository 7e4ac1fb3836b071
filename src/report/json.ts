import {INVISIBLE_CLASS} from '../util/escape.js'
import type {Report} from './report.js'

/** JSON.stringify escapes C0 controls itself; DEL, C1 and the bidi/invisible characters become \uXXXX too. */
const UNSAFE = new RegExp(`[${INVISIBLE_CLASS.replace('\\u0000-\\u001f', '')}]`, 'g')

/** The report as `lvscope/report@1` JSON: no raw bidi or invisible character, even inside strings. */
export function renderJson(r: Report): string {
  return `${JSON.stringify(r, null, 2).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`
}
