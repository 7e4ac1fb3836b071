/** Types of short-flows.js for the tests that generate a capture with it. */
export function generateShortFlows(opts: {flows: number; out: string; rate?: number; port?: number}): {file: string; flows: number; frames: number; bytes: number; seconds: number}
