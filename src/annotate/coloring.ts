/**
 * A Wireshark colouring-rules file (`colorfilters`) for the annotated captures. Format, as
 * epan/color_filters.c reads it: one rule a line, `@name@display filter@[bg r,g,b][fg r,g,b]` with 16-bit
 * components, `#` lines are comments; the first rule that matches a frame colours it. Neither the name nor
 * the filter may hold `@` or a line break. The filters test only lvscope's own comments, so one file serves
 * every capture of the incident.
 */
import type {FindingKind, Report} from '../report/report.js'
import {DR_COPY, GENUINE_RETRANSMISSION, MIRROR_DUPLICATE, findingTag} from './frame-notes.js'

type Rgb = readonly [number, number, number]
interface Colours {
  bg: Rgb
  fg: Rgb
}

const BLACK: Rgb = [0, 0, 0]
/** Per finding kind: strong enough to find in a long list, dark text stays readable. */
export const KIND_COLOURS: Record<FindingKind, Colours> = {
  reset: {bg: [65535, 36494, 36494], fg: BLACK},
  stall: {bg: [65535, 50372, 25700], fg: BLACK},
  reschedule: {bg: [53456, 41120, 65535], fg: BLACK},
  failover: {bg: [33410, 50886, 65535], fg: BLACK},
}
/** DR copies and mirror duplicates: grey, so the eye skips them. */
export const COPY_COLOURS: Colours = {bg: [57054, 57054, 57054], fg: [35980, 35980, 35980]}
export const RETRANSMISSION_COLOURS: Colours = {bg: [65535, 64764, 40092], fg: BLACK}

/** A display-filter string literal. */
function literal(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

/** A rule name: no `@`, no control characters, not too long for the dialog. */
function ruleName(s: string): string {
  const clean = s.replace(/[@\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\s+/g, ' ').trim()
  return clean.length > 120 ? `${clean.slice(0, 119)}…` : clean
}

function rule(name: string, filter: string, c: Colours): string {
  return `@${ruleName(name)}@${filter}@[${c.bg.join(',')}][${c.fg.join(',')}]`
}

/** The file's text. */
export function coloringRules(report: Report): string {
  const lines = [
    `# Wireshark colouring rules written by ${report.generatedBy} (lvscope annotate --coloring-rules).`,
    '# Install as "colorfilters" in a Wireshark configuration profile; the rules match the comments lvscope annotate writes.',
  ]
  report.findings.forEach((f, i) => {
    const tag = findingTag(i, f)
    // Every comment of the finding starts with its tag; "lvscope #1 reset" is no part of "lvscope #10 reset".
    lines.push(rule(`${tag}: ${f.summary}`, `frame.comment contains ${literal(tag)}`, KIND_COLOURS[f.kind]))
  })
  lines.push(rule(GENUINE_RETRANSMISSION, `frame.comment contains ${literal(GENUINE_RETRANSMISSION)}`, RETRANSMISSION_COLOURS))
  lines.push(rule(`${DR_COPY} or mirror duplicate`, `frame.comment contains ${literal(DR_COPY)} || frame.comment contains ${literal(MIRROR_DUPLICATE)}`, COPY_COLOURS))
  return `${lines.join('\n')}\n`
}
