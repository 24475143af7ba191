import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { parseFlow } from '../../src/core/parse-flow.js'
import { compileFlow } from '../../src/core/plan.js'
import { simulate } from '../../src/core/simulate.js'
import { createEngine } from '../../src/engine/engine.js'
import { toExecutionView } from '../../src/engine/execution-view.js'
import { createMemoryStore } from '../../src/store/memory/memory-store.js'
import { createTaskRegistry, defineTask, type TaskContext } from '../../src/tasks/define-task.js'
import { fakeClock, sequentialIds } from '../fixtures/engine.js'

/** The outcomes and data of the run in progress: the scripted task reads them by task name. */
let script: { outcomes: Record<string, 'success' | 'failure'>; data: Record<string, unknown> } = { outcomes: {}, data: {} }

const scripted = defineTask({
  name: 'scripted',
  description: 'ends as the script says, with the scripted data',
  run: (_input: unknown, context: TaskContext) => {
    const data = script.data[context.taskName]
    if (script.outcomes[context.taskName] === 'failure') return { status: 'failure', error: 'scripted failure', ...(data === undefined ? {} : { data }) }
    return data === undefined ? undefined : { status: 'success', data }
  },
})

const engine = createEngine({ store: createMemoryStore(), tasks: createTaskRegistry([scripted]), clock: fakeClock(), newId: sequentialIds(), flowCacheMs: 0 })
afterAll(() => engine.close({ graceMs: 0 }))

const N = 5
const names = Array.from({ length: N }, (_, i) => `t${i}`)
const target = fc.constantFrom(...names, 'end')
const condition = (source: string): fc.Arbitrary<Record<string, unknown>> =>
  fc.oneof(
    fc.record({ outcome: fc.constantFrom('success', 'failure'), target_task_success: target, target_task_failure: target }),
    fc.record({ when: fc.constantFrom(`results.${source}.data.n > 2.0`, `input.flag`, `results.${source}.status == 'success'`), target_task_success: target, target_task_failure: target }),
    fc.record({
      cases: fc.array(fc.record({ when: fc.constantFrom(`results.${source}.data.n > 3.0`, '!input.flag', `results.${source}.status == 'failure'`), target }), { minLength: 1, maxLength: 3 }),
      default: target,
    }),
  ).map((c) => ({ name: `c_${source}`, source_task: source, ...c }))

const flowArb = fc
  .record({
    conditions: fc.tuple(...names.map((n) => fc.option(condition(n), { nil: undefined }))),
    retries: fc.tuple(...names.map(() => fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }))),
  })
  .map(({ conditions, retries }) => ({
    id: 'prop',
    name: 'Property',
    start_task: 't0',
    max_steps: 12,
    tasks: names.map((name, i) => {
      const attempts = retries[i]
      return { name, type: 'scripted', ...(attempts === undefined ? {} : { retry: { max_attempts: attempts, backoff_ms: 0 } }) }
    }),
    conditions: conditions.filter((c) => c !== undefined),
  }))

describe('simulate and a real execution', () => {
  it('take the same path and end the same way for the same outcomes and data', async () => {
    await fc.assert(
      fc.asyncProperty(
        flowArb,
        fc.dictionary(fc.constantFrom(...names), fc.constantFrom('success' as const, 'failure' as const)),
        fc.dictionary(fc.constantFrom(...names), fc.record({ n: fc.integer({ min: 0, max: 6 }) })),
        fc.boolean(),
        async (flow, outcomes, data, flag) => {
          const parsed = parseFlow(flow)
          if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
          const simulated = simulate(compileFlow(parsed.flow), { input: { flag }, outcomes, data })
          script = { outcomes, data }
          const detail = await engine.run({ flow }, { input: { flag } })
          const view = toExecutionView(detail)
          expect(simulated.path).toEqual(view.executed_tasks)
          expect(simulated.status).toBe(view.status)
          expect(simulated.error?.code ?? null).toBe(view.error?.code ?? null)
        },
      ),
      { numRuns: 150 },
    )
  })
})
