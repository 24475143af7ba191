import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { REPO, testIo } from './cli-test-io.js'

const version = (JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as { version: string }).version

describe('flow-manager (the program)', () => {
  it('prints the package version with --version and -v', async () => {
    for (const flag of ['--version', '-v']) {
      const io = testIo()
      expect(await main([flag], io)).toBe(0)
      expect(io.out()).toBe(`${version}\n`)
    }
  })

  it('prints help with examples and exit codes on stdout with --help, exit 0', async () => {
    const io = testIo()
    expect(await main(['--help'], io)).toBe(0)
    expect(io.out()).toContain('Usage: flow-manager [options] [command]')
    for (const command of ['run', 'validate', 'graph', 'serve']) expect(io.out()).toMatch(new RegExp(`\\n  ${command} `))
    expect(io.out()).toContain('Examples:')
    expect(io.out()).toContain('Exit codes:')
  })

  it.each(['run', 'validate', 'graph', 'serve'])('prints help with examples for %s', async (command) => {
    const io = testIo()
    expect(await main([command, '--help'], io)).toBe(0)
    expect(io.out()).toContain(`Usage: flow-manager ${command}`)
    expect(io.out()).toContain(`$ flow-manager ${command}`)
  })

  it('shows the help on stderr and exits 2 when no command is given', async () => {
    const io = testIo()
    expect(await main([], io)).toBe(2)
    expect(io.err()).toContain('Usage: flow-manager')
    expect(io.out()).toBe('')
  })

  it('exits 2 for an unknown command and suggests the closest one', async () => {
    const io = testIo()
    expect(await main(['rnu'], io)).toBe(2)
    expect(io.err()).toBe("flow-manager: unknown command 'rnu'\n(Did you mean run?)\n")
  })

})
