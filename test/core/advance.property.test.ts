import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Command, FinishRun, StartRun } from '../../src/core/commands.js'
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

const finishOf = (commands: readonly Command[], seq: number): FinishRun | undefined => commands.find((c): c is FinishRun => c.type === 'finish_run' && c.seq === seq)

describe('advance on generated flows', () => {
  it('accepts every generated flow as valid', () => {
    fc.assert(
      fc.property(generatedFlow, ({ document }) => {
        expect(parseFlow(document).ok).toBe(true)
      }),
    )
  })

  it('terminates within max_steps task runs with the status the routing rules give', () => {
    fc.assert(
      fc.property(generatedFlow, outcomes, ({ document }, pattern) => {
        const parsed = parseFlow(document)
        if (!parsed.ok) throw new Error('generated an invalid flow')
        const plan = compileFlow(parsed.flow)
        const okAt = (step: number): boolean => pattern[(step - 1) % pattern.length]!
        const { state, ran, commands, last } = drive(plan, (_task, step) => (okAt(step) ? success : failure()), undefined, document.max_steps + 2)

        expect(ran.length).toBeGreaterThanOrEqual(1)
        expect(ran.length).toBeLessThanOrEqual(document.max_steps)
        expect(ran[0]).toBe(document.start_task)
        expect(state.steps).toBe(ran.length)
        expect(last.commands.at(-1)?.type).toBe('finish')

        // Every hop follows the condition of the task that just ran.
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
        const finishes = commands.filter((c): c is FinishRun => c.type === 'finish_run')
        expect(finishes.at(-1)?.nextTask ?? null).toBe(next)
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

interface GroupSpec {
  readonly join: 'all' | 'any'
  readonly max: number | undefined
  /** Each branch: its length, whether its last task loops back to its first on failure, and a nested group at its end. */
  readonly branches: readonly { readonly length: number; readonly loop: boolean; readonly nested: GroupSpec | undefined }[]
}

const groupSpec = (depth: number): fc.Arbitrary<GroupSpec> =>
  fc.record({
    join: fc.constantFrom('all' as const, 'any' as const),
    max: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    branches: fc.array(
      fc.record({
        length: fc.integer({ min: 1, max: 3 }),
        loop: fc.boolean(),
        nested: depth > 0 ? fc.option(groupSpec(depth - 1), { nil: undefined, freq: 3 }) : fc.constant(undefined),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })

/** Builds a flow: pre → group → post, each branch a chain (maybe looping, maybe ending in a nested group). */
function groupFlow(spec: GroupSpec, maxSteps: number): { document: unknown; groups: Map<string, GroupSpec> } {
  const tasks: Record<string, unknown>[] = [{ name: 'pre' }, { name: 'post' }]
  const conditions: Record<string, string>[] = []
  const groups = new Map<string, GroupSpec>()
  let n = 0
  const route = (source: string, onSuccess: string, onFailure: string): void => {
    conditions.push({ name: `c${conditions.length}`, source_task: source, outcome: 'success', target_task_success: onSuccess, target_task_failure: onFailure })
  }
  const build = (g: GroupSpec): string => {
    const name = `g${n++}`
    groups.set(name, g)
    const members = g.branches.map((b) => {
      const chain = Array.from({ length: b.length }, () => `t${n++}`)
      for (const t of chain) tasks.push({ name: t })
      chain.forEach((t, i) => {
        const next = chain[i + 1]
        if (next !== undefined) route(t, next, 'end')
      })
      const last = chain[chain.length - 1]!
      if (b.nested !== undefined) route(last, build(b.nested), b.loop ? chain[0]! : 'end')
      else if (b.loop) route(last, 'end', chain[0]!)
      return chain[0]!
    })
    tasks.push({ name, parallel: members, join: g.join, ...(g.max === undefined ? {} : { max_concurrency: g.max }) })
    return name
  }
  const top = build(spec)
  route('pre', top, 'end')
  route(top, 'post', 'post')
  return { document: { id: 'groups', name: 'Groups', start_task: 'pre', max_steps: maxSteps, tasks, conditions }, groups }
}

describe('advance on generated flows with nested parallel groups', () => {
  it('always terminates, closes every run it opened, and joins each group as its join rule says', () => {
    fc.assert(
      fc.property(groupSpec(2), fc.integer({ min: 5, max: 80 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), (spec, maxSteps, pattern) => {
        const { document, groups } = groupFlow(spec, maxSteps)
        const parsed = parseFlow(document)
        if (!parsed.ok) throw new Error(`generated an invalid flow: ${JSON.stringify(parsed.errors)}`)
        let i = 0
        const { state, commands } = drive(compileFlow(parsed.flow), () => (pattern[i++ % pattern.length]! ? success : failure()), undefined, 10_000)

        expect(['completed', 'failed']).toContain(state.status)
        expect(state.steps - state.stepBase).toBeLessThanOrEqual(maxSteps)
        const starts = commands.filter((c): c is StartRun => c.type === 'start_run')
        // Every run is closed exactly once.
        for (const s of starts) {
          expect(commands.filter((c) => (c.type === 'finish_run' || c.type === 'interrupt_run') && c.seq === s.seq)).toHaveLength(1)
        }
        if (state.error?.code === 'STEP_LIMIT_EXCEEDED') return
        for (const s of starts.filter((s) => s.task.group !== undefined)) {
          const spec = groups.get(s.task.name)!
          const group = finishOf(commands, s.seq)!
          // A group inside a branch that another join cancelled did not join at all.
          if (group.error?.code === 'BRANCH_CANCELLED') continue
          // How each branch ended: the last run of each branch, unless it was cancelled by the join.
          const lastByBranch = new Map<string, FinishRun>()
          for (const child of starts.filter((c) => c.parentSeq === s.seq)) {
            const f = finishOf(commands, child.seq)
            if (f !== undefined && f.error?.code !== 'BRANCH_CANCELLED') lastByBranch.set(child.branch!, f)
          }
          const ended = [...lastByBranch.values()]
          if (spec.join === 'all') {
            if (group.status === 'success') {
              expect(ended.every((f) => f.status === 'success' && f.retryAt === null)).toBe(true)
              expect(lastByBranch.size).toBe(spec.branches.length)
            } else {
              expect(ended.some((f) => f.status === 'failure')).toBe(true)
            }
          } else if (group.status === 'success') {
            expect(ended.some((f) => f.status === 'success')).toBe(true)
          } else {
            expect(lastByBranch.size).toBe(spec.branches.length)
            expect(ended.every((f) => f.status === 'failure')).toBe(true)
          }
        }
      }),
      { numRuns: 500 },
    )
  })
})
