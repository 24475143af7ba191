import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import semver from 'semver'
import { describe, expect, it } from 'vitest'
import { REPO } from '../cli/cli-test-io.js'

interface PackageJson {
  name: string
  bin: Record<string, string>
  engines: { node: string }
}
interface Lockfile {
  packages: Record<string, { dev?: boolean; engines?: { node?: string } | string[] }>
}

const pkg = JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as PackageJson
const readme = readFileSync(`${REPO}README.md`, 'utf8')

describe('the package', () => {
  it('is named durable-flow-manager (flow-manager on npm is another package) and installs the flow-manager command', () => {
    expect(pkg.name).toBe('durable-flow-manager')
    expect(pkg.bin).toEqual({ 'flow-manager': './dist/cli/bin.js' })
  })

  it('installs only packages that declare support for the oldest Node it supports', () => {
    const oldest = semver.minVersion(pkg.engines.node)?.version ?? ''
    expect(oldest).toBe('20.19.0')
    const lock = JSON.parse(readFileSync(`${REPO}package-lock.json`, 'utf8')) as Lockfile
    const refusing = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.dev !== true)
      .map(([path, entry]) => ({ path, node: Array.isArray(entry.engines) ? undefined : entry.engines?.node }))
      .filter(({ node }) => node !== undefined && !semver.satisfies(oldest, node))
    expect(refusing).toEqual([])
  })
})

describe("the README's quickstart", () => {
  const block = /## Quickstart[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
  const commands = block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '')

  it('runs the checkout\'s own build, the file the package\'s bin names', () => {
    expect(commands.length).toBeGreaterThan(2)
    for (const command of commands) expect(command.startsWith(`node ${pkg.bin['flow-manager']?.replace('./', '')} `)).toBe(true)
  })

  it.each(commands.map((c) => [c]))('works: %s', (command) => {
    // From the sources, so that a stale build cannot make it pass or fail; the arguments are the README's.
    const args = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '').slice(2)
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], {
      cwd: REPO,
      env: { ...process.env, DATABASE_URL: 'sqlite::memory:', NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    })
    const failurePath = args.includes('--input')
    expect({ command, status: result.status, stderr: failurePath ? '' : result.stderr }).toEqual({ command, status: failurePath ? 1 : 0, stderr: '' })
  })
})
