/**
 * What a cause rule returns: the cause, the evidence it rests on (by name, present or missing: docs/causes.md),
 * and what would decide it when the evidence is missing. Findings carry it as `rule`.
 */
import type {Cause, Confidence} from '../model/finding.js'
import type {TimelineEvent} from '../model/timeline.js'
import type {EvidenceFrame, Finding} from '../report/report.js'

export interface RuleCheck {
  name: string
  present: boolean
}

export interface Verdict {
  cause: Cause
  confidence: Confidence
  /** The rule (docs/causes.md heading) that decided, with each piece of evidence it needs. */
  rule: string
  checks: RuleCheck[]
  /** What would decide it (a capture, a flag), when the rule could not. */
  decide: string | null
  timeline: string[]
  evidence: EvidenceFrame[]
  events: TimelineEvent[]
  recommendation: string
}

export function ruleOf(v: Verdict): NonNullable<Finding['rule']> {
  return {name: v.rule, evidence: v.checks.map((c) => ({name: c.name, present: c.present})), decide: v.decide}
}

/** The rule's verdict if all its checks hold; otherwise `unknown`, keeping the checks and saying what decides it. */
export function unknownUnless(v: Verdict, decide: string): Verdict {
  if (v.checks.every((c) => c.present)) return v
  return {...v, cause: 'unknown', confidence: 'low', decide, recommendation: `Not decided from these captures: ${decide}.`}
}
