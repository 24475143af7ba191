import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { now, type BenchOptions, type BenchRow } from './bench-kit.js'

const BIN = fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url))

/** Wall time of one process start to exit, in ms. */
function timed(args: readonly string[]): number {
  const start = now()
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  const ms = now() - start
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr.toString()}`)
  return ms
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN

/**
 * How long `flow-manager --version` takes from the shell, beside an empty Node process measured in
 * the same run (`node -e ''`): what a command costs before it does anything. Runs alternate, so
 * that a busy moment of the machine weighs on both. Measures the build in dist/ (npm run build).
 */
export function cliBench(options: BenchOptions): Promise<BenchRow[]> {
  if (!existsSync(BIN)) return Promise.resolve([{ name: 'flow-manager --version: skipped, dist/ is not built (npm run build)', value: Number.NaN, unit: '' }])
  const runs = options.quick ? 3 : 15
  const ours: number[] = []
  const empty: number[] = []
  timed([BIN, '--version'])
  for (let i = 0; i < runs; i++) {
    empty.push(timed(['-e', '']))
    ours.push(timed([BIN, '--version']))
  }
  return Promise.resolve([
    { name: '`flow-manager --version`, process start to exit (median)', value: median(ours), unit: 'ms', baseline: { name: "`node -e ''`", value: median(empty) }, better: 'lower', goal: '< 300 ms' },
  ])
}
