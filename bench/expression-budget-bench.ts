import { compileExpression } from '../src/core/expression.js'
import { compileInput, renderInput } from '../src/core/input-mapping.js'
import { now, type BenchOptions, type BenchRow } from './bench-kit.js'

const repeat = (n: number, part: string, join: string): string => Array.from({ length: n }, () => part).join(join)

/**
 * Expressions built to use as much time as they can, each against data of about 1 MB (the data
 * limit): every one must end, with its answer or stopped by the budget, in about 100 ms.
 * The row shows the slowest; the figure is what the work count in expression-meter.ts promises.
 */
function hostileCases(): { name: string; run: () => unknown }[] {
  const strings = Array.from({ length: 100_000 }, (_, i) => `s${i}`)
  const numbers = Array.from({ length: 200_000 }, (_, i) => i)
  const empties = Array.from({ length: 150_000 }, () => ({}))
  const wide = JSON.parse(JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])))) as unknown
  const text = 'a'.repeat(1_000_000)
  const input = {
    strings,
    numbers,
    copy: [...numbers],
    empties,
    wide,
    wide2: JSON.parse(JSON.stringify(wide)) as unknown,
    text,
    pattern: `${'a'.repeat(5000)}b${'a'.repeat(5000)}`,
    sep: 'x'.repeat(2000),
  }
  const expression = (source: string) => () => {
    const compiled = compileExpression(source, 'value')
    if (!compiled.ok) throw new Error(`${source}: ${compiled.message}`)
    return compiled.expression.evaluate({ input, results: {} })
  }
  const mapping = (template: unknown) => () => renderInput(compileInput(template).mapping!, { input, results: {} })
  return [
    { name: 'joins with a long separator', run: expression(`size([${repeat(12, 'input.strings.join(input.sep)', ', ')}])`) },
    { name: 'split into characters, joined', run: expression("size(input.text.split('').join(input.text))") },
    { name: 'list concatenation', run: expression(repeat(60, 'input.numbers', ' + ')) },
    { name: 'errors absorbed by exists()', run: expression('input.empties.exists(x, x.missing == 1)') },
    { name: 'deep comparisons', run: expression(repeat(30, 'input.numbers == input.copy', ' && ')) },
    { name: 'comparisons of wide maps', run: expression(repeat(30, 'input.wide == input.wide2', ' && ')) },
    { name: 'size() of a wide map', run: expression(repeat(40, 'size(input.wide)', ' + ')) },
    { name: 'comprehension over a wide map', run: expression(repeat(10, 'size(input.wide.filter(k, k == "k1"))', ' + ')) },
    { name: 'membership in a long list', run: expression(repeat(30, '-1 in input.numbers', ' || ')) },
    { name: 'size() of a long text', run: expression(repeat(40, 'size(input.text)', ' + ')) },
    { name: 'repetitive search', run: expression(repeat(20, 'input.text.contains(input.pattern)', ' || ')) },
    { name: 'heavy comprehension body', run: expression(`input.numbers.map(x, ${repeat(30, 'x', ' + ')})`) },
    { name: 'input mapping copying the input', run: mapping(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, '${input.numbers}']))) },
  ]
}

export function expressionBudgetBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const cases = hostileCases()
  let slowest = { name: '', ms: 0 }
  for (const c of cases) {
    c.run()
    let best = Infinity
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const t0 = now()
      c.run()
      best = Math.min(best, now() - t0)
    }
    if (best > slowest.ms) slowest = { name: c.name, ms: best }
  }
  return Promise.resolve([
    {
      name: `slowest of ${cases.length} hostile expressions on 1 MB of data (${slowest.name})`,
      value: slowest.ms,
      unit: 'ms',
      better: 'lower',
      goal: 'each stops or finishes within the budget: about 100 ms',
    },
  ])
}

/** Each case's time, for calibrating the costs in expression-meter.ts: `npx tsx bench/expression-budget-bench.ts`. */
if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  // CPU time beside wall time: on a shared machine it shows the work itself.
  for (const c of hostileCases()) {
    c.run()
    const t0 = now()
    const cpu = process.cpuUsage()
    const result = c.run() as { ok: boolean; message?: string }
    const used = process.cpuUsage(cpu)
    const wall = (now() - t0).toFixed(1).padStart(7)
    const cpuMs = ((used.user + used.system) / 1000).toFixed(1).padStart(7)
    console.log(`${c.name.padEnd(36)} ${wall} ms wall ${cpuMs} ms CPU  ${result.ok ? 'answered' : (result.message ?? '').slice(12, 60)}`)
  }
}
