import { join } from 'node:path'
import { chainFlow, median, withTempDir, type BenchOptions, type BenchRow, type DurableRate } from './bench-kit.js'
import { inProcessRate, serveRate } from './durable-rates.js'
import { distMissing, warnIfDistStale } from './processes.js'
import { captureSteps, rawMinimalRows, rawSameRows } from './sqlite-raw.js'

const TASKS = 200

const mid = (rates: readonly DurableRate[]): DurableRate => ({ perSecond: median(rates.map((r) => r.perSecond)), bytesPerTransition: median(rates.map((r) => r.bytesPerTransition)) })

/**
 * Durable transitions per second on SQLite (synchronous=FULL): the engine in-process, and through a
 * real `serve` process, beside the SQLite store's own statements writing the engine's steps with
 * nothing of the engine running (the limit those rows set on this machine), and beside the least a
 * transition could write. The flow is a chain of 200 `noop` tasks. The in-flight figures run in
 * alternating rounds (median of 2 in full mode), so that a busy moment weighs on all of them.
 * Bytes written to storage per transition (Linux only) say what the rows cost the disk.
 */
export async function sqliteBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const inFlight = quick ? 50 : 1000
  const rounds = quick ? 1 : 2
  const flow = chainFlow(TASKS, 'noop', 'bench')
  const missing = distMissing()
  if (missing === undefined) warnIfDistStale()
  return withTempDir(async (dir) => {
    const template = await captureSteps(dir, flow)
    let file = 0
    const db = (): string => join(dir, `bench-${file++}.db`)
    const single = await rawSameRows(db(), template, quick ? 1 : 5, 1)
    const one = await inProcessRate(db(), flow, 1, quick ? 2 : 10)
    const batched: DurableRate[] = []
    const ours: DurableRate[] = []
    const served: DurableRate[] = []
    const minimal = await rawMinimalRows(db(), inFlight, TASKS, 100)
    for (let r = 0; r < rounds; r++) {
      batched.push(await rawSameRows(db(), template, inFlight, 100))
      ours.push(await inProcessRate(db(), flow, inFlight))
      if (missing === undefined) served.push(await serveRate(db(), flow, inFlight))
    }
    const n = `${inFlight.toLocaleString('en')} executions in flight`
    const raw = mid(batched)
    const inProcess = mid(ours)
    const sameRows = { name: 'raw writes of the same rows, 100 transitions per commit', value: raw.perSecond }
    const rows: BenchRow[] = [
      {
        name: 'durable transitions/s, SQLite FULL, 1 execution at a time, in-process',
        value: one.perSecond,
        unit: '/s',
        baseline: { name: 'raw writes of the same rows, 1 transition per commit', value: single.perSecond },
        better: 'higher',
        goal: '≥ 0.50× raw',
      },
      { name: `durable transitions/s, SQLite FULL, ${n}, in-process`, value: inProcess.perSecond, unit: '/s', baseline: sameRows, better: 'higher', goal: '≥ 0.50× raw' },
    ]
    if (missing === undefined) {
      const serve = mid(served)
      const name = `durable transitions/s, SQLite FULL, ${n}, through \`serve\` (posted with wait: false)`
      rows.push(
        { name, value: serve.perSecond, unit: '/s', baseline: sameRows, better: 'higher', goal: '≥ 0.50× raw' },
        { name, value: serve.perSecond, unit: '/s', baseline: { name: 'the same executions in-process', value: inProcess.perSecond }, better: 'higher', goal: '≥ 0.80× in-process' },
        {
          name: `bytes written to storage per transition, ${n}, through \`serve\``,
          value: serve.bytesPerTransition,
          unit: 'B',
          baseline: { name: 'raw writes of the same rows', value: raw.bytesPerTransition },
          better: 'lower',
        },
      )
    } else {
      rows.push({ name: `durable transitions/s through \`serve\`: skipped, ${missing}`, value: Number.NaN, unit: '' })
    }
    const least = 'raw writes of minimal rows (insert a run, update the execution), 100 per commit'
    rows.push(
      { name: "raw writes of the engine's rows, 100 transitions per commit", value: raw.perSecond, unit: '/s', baseline: { name: least, value: minimal.perSecond }, better: 'higher' },
      {
        name: "bytes written to storage per transition, raw writes of the engine's rows",
        value: raw.bytesPerTransition,
        unit: 'B',
        baseline: { name: 'raw writes of minimal rows', value: minimal.bytesPerTransition },
        better: 'lower',
      },
    )
    return rows
  })
}
