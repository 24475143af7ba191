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
  rows.push(...readingResults(taskTypes, quick))
  return Promise.resolve(rows)
}

/**
 * Flows whose every task's input reads the next task's result (so every one draws a warning):
 * 5,000 and 10,000 tasks. Validation must stay linear, so the second costs about twice the first.
 * Each run uses expressions of its own, so that the expression cache does not flatter either size.
 */
function readingResults(taskTypes: ReturnType<typeof createTaskRegistry>, quick: boolean): BenchRow[] {
  let run = 0
  const validate = (size: number): number => {
    run++
    const flow = chainFlow(size, 'nop')
    const tasks = flow.tasks.map((t, i) => ({ ...t, input: { v: `\${results.t${(i + 1) % size} == ${run}}` } }))
    const text = JSON.stringify({ flow: { ...flow, tasks } })
    const t0 = now()
    const result = parseFlow(JSON.parse(text), { taskTypes })
    const ms = now() - t0
    if (!result.ok || result.warnings.length !== size - 1) throw new Error('bench flow is invalid')
    return ms
  }
  validate(1000)
  const best = (size: number): number => Math.min(...Array.from({ length: quick ? 1 : 3 }, () => validate(size)))
  const small = best(5000)
  const large = best(10_000)
  return [
    {
      name: `validate a 10,000-task flow whose inputs read results (${((large * 1000) / 10_000).toFixed(2)} µs/task)`,
      value: large,
      unit: 'ms',
      baseline: { name: 'the same with 5,000 tasks', value: small },
      better: 'lower',
      goal: 'linear: about 2× the 5,000-task flow',
    },
  ]
}
