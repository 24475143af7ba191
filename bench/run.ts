import { cpus, totalmem } from 'node:os'
import type { BenchOptions, BenchRow } from './bench-kit.js'
import { cliBench } from './cli-bench.js'
import { conditionBench } from './condition-bench.js'
import { engineBench } from './engine-bench.js'
import { expressionBudgetBench } from './expression-budget-bench.js'
import { httpBench } from './http-bench.js'
import { memoryBench } from './memory-bench.js'
import { orchestrationBench } from './orchestration-bench.js'
import { postgresBench } from './postgres-bench.js'
import { sqliteBench } from './sqlite-bench.js'
import { uiBench } from './ui-bench.js'
import { validationBench } from './validation-bench.js'

/** `npm run bench [-- --quick] [-- --only NAME]`: prints one table of figures beside their baselines. */
const args = process.argv.slice(2)
const options: BenchOptions = { quick: args.includes('--quick') }
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined

const suites: Record<string, (o: BenchOptions) => Promise<BenchRow[]>> = {
  engine: engineBench,
  condition: conditionBench,
  expression: expressionBudgetBench,
  sqlite: sqliteBench,
  validation: validationBench,
  memory: memoryBench,
  orchestration: orchestrationBench,
  http: httpBench,
  postgres: postgresBench,
  ui: uiBench,
  cli: cliBench,
}

const format = (value: number): string =>
  Number.isNaN(value) ? 'skipped' : value >= 100 ? Math.round(value).toLocaleString('en') : value >= 1 ? value.toFixed(2) : value.toFixed(3)

const cpu = cpus()[0]?.model ?? 'unknown CPU'
console.log(`Flow Manager benchmarks${options.quick ? ' (quick)' : ''}: Node ${process.version}, ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB`)
console.log('')
console.log('| benchmark | ours | baseline (same run) | ratio | goal |')
console.log('|---|---|---|---|---|')
let failed = false
for (const [name, suite] of Object.entries(suites)) {
  if (only !== undefined && only !== name) continue
  try {
    for (const row of await suite(options)) {
      const base = row.baseline
      const ratio = base === undefined || base.value === 0 ? '' : `${(row.value / base.value).toFixed(2)}×`
      const baseline = base === undefined ? '' : `${format(base.value)} ${row.unit} (${base.name})`
      console.log(`| ${row.name} | ${`${format(row.value)} ${row.unit}`.trim()} | ${baseline} | ${ratio} | ${row.goal ?? ''} |`)
    }
  } catch (error) {
    failed = true
    console.log(`| ${name} | failed: ${error instanceof Error ? error.message : String(error)} | | | |`)
  }
}
if (failed) process.exitCode = 1
