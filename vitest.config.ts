import {defineConfig} from 'vitest/config'

/**
 * The slow oracle tests: differentials against tshark and pcap-parser, the third-party corpus, the CLI spawned
 * over hostile input and misuse and over every sample, and the fuzz test. Two projects: `npm test` runs `fast`, `npm run test:oracle`
 * runs `oracle`; `npx vitest run FILE` finds a file in either. New oracle tests can be named *.oracle.test.ts.
 */
const ORACLE_TESTS = [
  'test/**/*.oracle.test.ts',
  'test/capture/corpus.test.ts',
  'test/capture/pcap-parser-oracle.test.ts',
  'test/decode/tshark.test.ts',
  'test/decode/tshark-built.test.ts',
  'test/decode/app/corpus.test.ts',
  'test/flow/tshark-diff.test.ts',
  'test/flow/scenarios-tshark.test.ts',
  'test/commands/flows.test.ts',
  'test/commands/dedupe.test.ts',
  'test/commands/hostile.test.ts',
  'test/commands/misuse.test.ts',
  // Not oracles, but CLI spawns by the dozen (the lab's ground truth per sample; info against tshark): 45 % of the
  // fast suite's time before they moved, which kept `npm test` over its 3-minute budget.
  'test/commands/info.test.ts',
  'test/samples/analyze.test.ts',
]

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {extends: true, test: {name: 'fast', include: ['test/**/*.test.ts'], exclude: ['**/node_modules/**', ...ORACLE_TESTS]}},
      {extends: true, test: {name: 'oracle', include: ORACLE_TESTS, testTimeout: 600_000, hookTimeout: 600_000}},
    ],
  },
})
