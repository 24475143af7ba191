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

/** A line of nodes: the main line of a flow, or one branch of a group. */
interface LineSpec {
  readonly nodes: readonly NodeSpec[]
}
/** Where a condition goes: the next node of the line (end after the last), end, or any node of the line (a loop when it is not ahead). */
type TargetSpec = 'next' | 'end' | number
interface RouteSpec {
  readonly onSuccess: TargetSpec
  readonly onFailure: TargetSpec
  readonly byData: boolean
}
type NodeSpec =
  | { readonly kind: 'task'; readonly attempts: number | undefined; readonly route: RouteSpec | undefined }
  | { readonly kind: 'group'; readonly join: 'all' | 'any'; readonly max: number | undefined; readonly branches: readonly LineSpec[]; readonly route: RouteSpec | undefined }

const targetSpec: fc.Arbitrary<TargetSpec> = fc.oneof({ weight: 5, arbitrary: fc.constant('next' as const) }, { weight: 2, arbitrary: fc.constant('end' as const) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 }) })
const routeSpec = fc.option(fc.record({ onSuccess: targetSpec, onFailure: targetSpec, byData: fc.boolean() }), { nil: undefined, freq: 4 })
const taskNode: fc.Arbitrary<NodeSpec> = fc.record({ kind: fc.constant('task' as const), attempts: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }), route: routeSpec })
const groupNode = (depth: number): fc.Arbitrary<NodeSpec> =>
  fc.record({
    kind: fc.constant('group' as const),
    join: fc.constantFrom('all' as const, 'any' as const),
    max: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    branches: fc.array(lineSpec(depth - 1), { minLength: 1, maxLength: 3 }),
    route: routeSpec,
  })
const lineSpec = (depth: number): fc.Arbitrary<LineSpec> =>
  fc.record({
    nodes: fc.array(depth === 0 ? taskNode : fc.oneof({ weight: 2, arbitrary: taskNode }, { weight: 1, arbitrary: groupNode(depth) }), { minLength: 1, maxLength: 3 }),
  })
/** The main line of a flow: most often it starts with a group, so that most executions run one. */
const mainLine: fc.Arbitrary<LineSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(groupNode(2), lineSpec(2)).map(([group, rest]) => ({ nodes: [group, ...rest.nodes] })) },
  { weight: 1, arbitrary: lineSpec(2) },
)

/**
 * A flow from a line spec: groups whose branches route only among their own tasks (forward, back
 * in loops, or to end), as validation requires, with `outcome` or `when` conditions.
 */
function flowOf(main: LineSpec): { flow: Record<string, unknown>; tasks: string[] } {
  const tasks: Record<string, unknown>[] = []
  const conditions: Record<string, unknown>[] = []
  const names: string[] = []
  let n = 0
  const build = (line: LineSpec): string[] => {
    const own = line.nodes.map((node) => (node.kind === 'task' ? `t${n++}` : `g${n++}`))
    line.nodes.forEach((node, i) => {
      const name = own[i] as string
      if (node.kind === 'task') {
        names.push(name)
        tasks.push({ name, type: 'scripted', ...(node.attempts === undefined ? {} : { retry: { max_attempts: node.attempts, backoff_ms: 0 } }) })
      } else {
        const members = node.branches.map((b) => build(b)[0] as string)
        tasks.push({ name, parallel: members, join: node.join, ...(node.max === undefined ? {} : { max_concurrency: node.max }) })
      }
      const r = node.route
      if (r === undefined) return
      const at = (k: TargetSpec): string => (k === 'end' ? 'end' : k === 'next' ? (own[i + 1] ?? 'end') : (own[k % own.length] as string))
      conditions.push(
        r.byData
          ? { name: `c_${name}`, source_task: name, when: `results.${name}.status == 'success'`, target_task_success: at(r.onSuccess), target_task_failure: at(r.onFailure) }
          : { name: `c_${name}`, source_task: name, outcome: 'success', target_task_success: at(r.onSuccess), target_task_failure: at(r.onFailure) },
      )
    })
    return own
  }
  const start = build(main)[0] as string
  return { flow: { id: 'prop_groups', name: 'Property with groups', start_task: start, max_steps: 25, tasks, conditions }, tasks: names }
}

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

  // Same order, not only the same set: simulate() ends runs first started, first ended; the engine
  // launches a step's runs in the order the core started them, their (synchronous) results come
  // back in that order, and its actor decides them one after the other in arrival order.
  it('take the same path through parallel groups, branch by branch, and end the same way', async () => {
    await fc.assert(
      fc.asyncProperty(
        mainLine.map(flowOf),
        fc.array(fc.constantFrom('success' as const, 'failure' as const), { minLength: 1, maxLength: 30 }),
        async ({ flow, tasks }, pattern) => {
          const parsed = parseFlow(flow)
          if (!parsed.ok) throw new Error(`generated an invalid flow: ${JSON.stringify(parsed.errors)}`)
          const outcomes = Object.fromEntries(tasks.map((t, i) => [t, pattern[i % pattern.length] as 'success' | 'failure']))
          const simulated = simulate(compileFlow(parsed.flow), { outcomes })
          script = { outcomes, data: {} }
          const view = toExecutionView(await engine.run({ flow }))
          expect(view.executed_tasks).toEqual(simulated.path)
          expect(view.status).toBe(simulated.status)
          expect(view.error?.code ?? null).toBe(simulated.error?.code ?? null)
          expect(view.failed_task).toBe(simulated.failedTask)
        },
      ),
      { numRuns: 300 },
    )
  })
})
