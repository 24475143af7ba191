import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO } from './cli-test-io.js'

const dir = mkdtempSync(join(tmpdir(), 'flow-manager-startup-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs `flow-manager …` as a process and answers the modules it loaded. */
function loadedBy(name: string, args: readonly string[]): string[] {
  const record = join(dir, `${name}.txt`)
  execFileSync(process.execPath, ['--import', 'tsx', '--import', './test/support/record-imports.mjs', 'src/cli/bin.ts', ...args], {
    cwd: REPO,
    env: { ...process.env, RECORD_IMPORTS_TO: record, NO_COLOR: '1' },
    stdio: 'ignore',
  })
  return readFileSync(record, 'utf8').split('\n').filter((url) => url !== '')
}

/** What only running a flow, serving or validating needs. */
const HEAVY = /node_modules\/(zod|fastify|@fastify|kysely|better-sqlite3|pg|pino|@marcbachmann|tsx\/dist\/esm\/api)\/|\/src\/(engine|store|http|tasks)\//

describe('starting flow-manager', () => {
  it('loads neither the engine, the store, the HTTP server nor zod for --version and --help', () => {
    for (const args of [['--version'], ['--help'], ['run', '--help'], ['serve', '--help']]) {
      const loaded = loadedBy(args.join('-'), args)
      expect(loaded.some((url) => url.includes('/src/cli/main.ts'))).toBe(true)
      expect({ args, heavy: loaded.filter((url) => HEAVY.test(url)) }).toEqual({ args, heavy: [] })
    }
  })

  it('loads what a command needs when it runs', () => {
    const loaded = loadedBy('validate', ['validate', 'examples/seed-flow.json'])
    expect(loaded.some((url) => url.includes('node_modules/zod/'))).toBe(true)
    expect(loaded.some((url) => url.includes('/src/cli/commands/validate-command.ts'))).toBe(true)
  })
})
