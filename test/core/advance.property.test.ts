import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseFlow } from '../../src/core/parse-flow.js'
import { compileFlow } from '../../src/core/plan.js'
import { drive, failure, success } from '../fixtures/drive.js'

interface GeneratedFlow {
  readonly document: {
    id: string
    name: string
    start_task: string
    max_steps: number
    tasks: { name: string }[]
    conditions: { name: string; source_task: string; outcome: 'success' | 'failure'; target_task_success: string; target_task_failure: string }[]
  }
}

/** Random valid flows: 1-8 tasks, any subset with a condition, targets anywhere (loops included) or end. */
const generatedFlow: fc.Arbitrary<GeneratedFlow> = fc
  .integer({ min: 1, max: 8 })
  .chain((n) => {
    const names = Array.from({ length: n }, (_, i) => `t${i}`)
    const target = fc.constantFrom(...names, 'end')
    const condition = fc.option(fc.record({ outcome: fc.constantFrom('success' as const, 'failure' as const), onMatch: target, otherwise: target }), { nil: undefined })
    return fc.record({
      start: fc.constantFrom(...names),
      maxSteps: fc.integer({ min: 1, max: 50 }),
      conditions: fc.array(condition, { minLength: n, maxLength: n }),
    }).map(({ start, maxSteps, conditions }) => ({
      document: {
        id: 'generated',
        name: 'Generated',
        start_task: start,
        max_steps: maxSteps,
        tasks: names.map((name) => ({ name })),
        conditions: conditions.flatMap((c, i) =>
          c === undefined ? [] : [{ name: `c${i}`, source_task: `t${i}`, outcome: c.outcome, target_task_success: c.onMatch, target_task_failure: c.otherwise }],
        ),
      },
    }))
  })

/** Per-step task outcomes: true is success; steps beyond the array repeat it. */
const outcomes = fc.array(fc.boolean(), { minLength: 1, maxLength: 60 })

describe('advance on generated flows', () => {
  it('accepts every generated flow as valid', () => {
    fc.assert(
      fc.property(generatedFlow, ({ document }) => {
        expect(parseFlow(document).ok).toBe(true)
      }),
    )
  })

  it('terminates within max_steps task runs with the status SPEC 2.5 gives', () => {
    fc.assert(
      fc.property(generatedFlow, outcomes, ({ document }, pattern) => {
        const parsed = parseFlow(document)
        if (!parsed.ok) throw new Error('generated an invalid flow')
        const plan = compileFlow(parsed.flow)
        const okAt = (step: number): boolean => pattern[(step - 1) % pattern.length]!
        const { state, ran, last } = drive(plan, (_task, step) => (okAt(step) ? success : failure()), undefined, document.max_steps + 1)

        expect(ran.length).toBeGreaterThanOrEqual(1)
        expect(ran.length).toBeLessThanOrEqual(document.max_steps)
        expect(ran[0]).toBe(document.start_task)
        expect(state.steps).toBe(ran.length)
        expect(last.command).toEqual({ type: 'finish' })
        expect(state.currentTask).toBeNull()

        // Every hop follows the condition of the task that just ran (SPEC 2.4).
        const conditionOf = new Map(document.conditions.map((c) => [c.source_task, c]))
        const routed = (task: string, ok: boolean): string | null => {
          const c = conditionOf.get(task)
          if (c === undefined) return null
          return (ok ? 'success' : 'failure') === c.outcome ? c.target_task_success : c.target_task_failure
        }
        for (let i = 0; i + 1 < ran.length; i++) expect(ran[i + 1]).toBe(routed(ran[i]!, okAt(i + 1)))

        const lastTask = ran[ran.length - 1]!
        const lastOk = okAt(ran.length)
        const next = routed(lastTask, lastOk)
        expect(last.routedTo ?? null).toBe(next)
        if (next !== null && next !== 'end') {
          // The flow wanted to go on: only the step limit stops it, and no task is blamed.
          expect(ran.length).toBe(document.max_steps)
          expect(state).toMatchObject({ status: 'failed', failedTask: null, error: { code: 'STEP_LIMIT_EXCEEDED' } })
        } else if (lastOk) {
          expect(state).toMatchObject({ status: 'completed', failedTask: null, error: null })
        } else {
          expect(state).toMatchObject({ status: 'failed', failedTask: lastTask, error: { code: 'TASK_FAILED' } })
        }
      }),
      { numRuns: 2000 },
    )
  })
})
