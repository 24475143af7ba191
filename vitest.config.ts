import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that start real processes or databases share two cores; keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
  },
})
