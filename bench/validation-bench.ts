import { parseFlow, createTaskRegistry, defineTask } from '../src/index.js'
import { chainFlow, now, type BenchOptions, type BenchRow } from './bench-kit.js'

/** Validation time for flows of 10, 1,000 and 100,000 tasks, beside JSON.parse of the same text. */
export function validationBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const taskTypes = createTaskRegistry([defineTask({ name: 'nop', description: 'no-op', run: () => undefined })])
  const rows: BenchRow[] = []
  for (const size of quick ? [10, 1000, 10_000] : [10, 1000, 100_000]) {
    const text = JSON.stringify({ flow: chainFlow(size, 'nop') })
    const repeat = Math.max(1, Math.floor(20_000 / size))
    const time = (fn: () => void): number => {
      fn()
      const t0 = now()
      for (let i = 0; i < repeat; i++) fn()
      return (now() - t0) / repeat
    }
    const parseMs = time(() => {
      JSON.parse(text)
    })
    const validateMs = time(() => {
      const result = parseFlow(JSON.parse(text), { taskTypes })
      if (!result.ok) throw new Error('bench flow is invalid')
    })
    rows.push({
      name: `validate a ${size.toLocaleString('en')}-task flow (${((validateMs * 1000) / size).toFixed(2)} µs/task)`,
      value: validateMs,
      unit: 'ms',
      baseline: { name: 'JSON.parse of the same text', value: parseMs },
      better: 'lower',
      ...(size >= 10_000 ? { goal: 'linear; 10k tasks well under 1 s' } : {}),
    })
  }
  return Promise.resolve(rows)
}
