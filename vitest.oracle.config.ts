import {defineConfig} from 'vitest/config'

import {ORACLE_TESTS} from './vitest.config.js'

/** `npm run test:oracle`: the slow tests that judge lvscope by real tools, corpora and hostile input. */
export default defineConfig({
  test: {
    include: ORACLE_TESTS,
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
})
