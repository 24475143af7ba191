import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { REPO, testIo } from '../cli/cli-test-io.js'

/** Documents users do not have: the project's internal contract and notes. */
const INTERNAL = /SPEC ?§|SPEC Appendix|\bSPEC\.md|STACK\.md/

function files(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path).flatMap((entry) => (entry === 'generated' || entry === 'node_modules' ? [] : files(join(path, entry))))
}

describe('what users read points only at what they have', () => {
  it('cites the README or docs/, never internal documents, in sources, examples and docs', () => {
    const cited = ['src', 'examples', 'docs', 'scripts', 'README.md', 'web/vite.config.ts', 'web/src/api.ts']
      .flatMap((path) => files(join(REPO, path)))
      .filter((file) => /\.(ts|tsx|mjs|js|json|md)$/.test(file))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => ({ where: `${relative(REPO, file)}:${i + 1}`, line }))
          .filter(({ line }) => INTERNAL.test(line)),
      )
    expect(cited).toEqual([])
  })

  it.each(['', 'run', 'validate', 'graph', 'simulate', 'serve', 'worker'])('keeps the help of "flow-manager %s" free of them', async (command) => {
    const io = testIo()
    expect(await main([...(command === '' ? [] : [command]), '--help'], io)).toBe(0)
    expect(io.out()).not.toMatch(INTERNAL)
  })

  it('names docs/ files that exist', () => {
    const text = [join(REPO, 'README.md'), ...files(join(REPO, 'docs')), ...files(join(REPO, 'src'))].map((f) => readFileSync(f, 'utf8')).join('\n')
    const named = new Set([...text.matchAll(/\bdocs\/[\w./-]+\.(md|png|svg)/g)].map((m) => m[0]))
    expect([...named].filter((path) => !files(join(REPO, 'docs')).some((f) => relative(REPO, f) === path))).toEqual([])
  })
})
