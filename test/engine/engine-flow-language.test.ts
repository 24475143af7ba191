import { afterEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { toExecutionView } from '../../src/engine/execution-view.js'
import { createMemoryStore } from '../../src/store/memory/memory-store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry, defineTask, NonRetryableError, type TaskContext } from '../../src/tasks/define-task.js'
import { sequentialIds } from '../fixtures/engine.js'
import { fakeTime, type FakeTime } from '../fixtures/fake-time.js'

/** What the tasks below saw, by task name: input and attempt of each run. */
const seen: { task: string; input: unknown; attempt: number; key: string }[] = []
const failTimes = new Map<string, number>()

const tasks = [
  ...builtinTasks,
  defineTask({
    name: 'flaky',
    description: 'fails its first input.fail_times attempts, then succeeds with the attempt number',
    run: (input: unknown, context: TaskContext) => {
      seen.push({ task: context.taskName, input, attempt: context.attempt, key: context.idempotencyKey })
      const times = (input as { fail_times?: number }).fail_times ?? failTimes.get(context.taskName) ?? 0
      if (context.attempt <= times) throw new Error(`attempt ${context.attempt} failed`)
      return { attempt: context.attempt }
    },
  }),
  defineTask({
    name: 'fatal',
    description: 'throws a NonRetryableError',
    run: (_input: unknown, context: TaskContext) => {
      seen.push({ task: context.taskName, input: _input, attempt: context.attempt, key: context.idempotencyKey })
      throw new NonRetryableError('the account is closed')
    },
  }),
  defineTask({
    name: 'deaf',
    description: 'never settles and ignores its signal',
    run: () => new Promise(() => undefined),
  }),
  defineTask({
    name: 'echo',
    description: 'records and returns its input',
    run: (input: unknown, context: TaskContext) => {
      seen.push({ task: context.taskName, input, attempt: context.attempt, key: context.idempotencyKey })
      return input
    },
  }),
]

let engine: Engine
let time: FakeTime

/** An engine on fake time: backoffs, timeouts and deadlines happen when the test moves the clock. */
function makeEngine(): Engine {
  time = fakeTime()
  return createEngine({ store: createMemoryStore(), tasks: createTaskRegistry(tasks), clock: time.clock, timers: time.timers, newId: sequentialIds(), flowCacheMs: 0 })
}

/** Each failed attempt's planned wait before the next, from the log: retry_at minus the time it was decided. */
async function plannedWaits(executionId: string): Promise<(number | undefined)[]> {
  const events = await engine.reads.events(executionId, 0, 1000)
  return events.filter((e) => e.type === 'task_finished').map((e) => {
    const retryAt = (e.data as { retry_at?: string }).retry_at
    return retryAt === undefined ? undefined : Date.parse(retryAt) - e.at
  })
}

afterEach(async () => {
  seen.length = 0
  failTimes.clear()
  await engine.close({ graceMs: 0 })
})

const flow = (tasksJson: unknown[], conditions: unknown[] = [], extra: Record<string, unknown> = {}): unknown => ({
  id: 'lang',
  name: 'Flow language',
  start_task: (tasksJson[0] as { name: string }).name,
  tasks: tasksJson,
  conditions,
  ...extra,
})

describe('retries', () => {
  it('records every attempt as a task run with its attempt number and the planned delay, then succeeds', async () => {
    engine = makeEngine()
    const detail = await engine.run({ flow: flow([{ name: 'a', type: 'flaky', input: { fail_times: 2 }, retry: { max_attempts: 3, backoff_ms: 0 } }]) })
    expect(detail.execution.status).toBe('completed')
    expect(detail.runs.map((r) => [r.taskName, r.attempt, r.status])).toEqual([
      ['a', 1, 'failure'],
      ['a', 2, 'failure'],
      ['a', 3, 'success'],
    ])
    // One step: the retries share the task's idempotency key and do not use up max_steps.
    expect(new Set(seen.map((s) => s.key)).size).toBe(1)
    expect(detail.execution.steps).toBe(1)
    expect(await plannedWaits(detail.execution.id)).toEqual([0, 0, undefined])
    expect(toExecutionView(detail).executed_tasks).toEqual(['a', 'a', 'a'])
  })

  it('fails with TASK_FAILED once the attempts are used up', async () => {
    engine = makeEngine()
    const detail = await engine.run({ flow: flow([{ name: 'a', type: 'flaky', input: { fail_times: 5 }, retry: { max_attempts: 2, backoff_ms: 0 } }]) })
    expect(detail.execution).toMatchObject({ status: 'failed', failedTask: 'a', error: { code: 'TASK_FAILED' } })
    expect(detail.runs.map((r) => r.attempt)).toEqual([1, 2])
  })

  it('waits the backoff before the next attempt, recording when it is due as retry_at', async () => {
    engine = makeEngine()
    const started = await engine.start({ flow: flow([{ name: 'a', type: 'flaky', input: { fail_times: 2 }, retry: { max_attempts: 3, backoff_ms: 2000, backoff_factor: 2 } }]) })
    await time.advance(1999)
    // The first attempt failed; the second is planned and not yet run.
    expect(seen.map((s) => s.attempt)).toEqual([1])
    const view = toExecutionView((await engine.reads.execution(started.executionId))!)
    expect(view.task_results[0]).toMatchObject({ status: 'failure', retry_at: new Date(time.clock.now() + 1).toISOString() })
    const detail = await time.drive(started.done)
    expect(detail.execution.status).toBe('completed')
    expect(await plannedWaits(detail.execution.id)).toEqual([2000, 4000, undefined])
  })

  it('does not retry a NonRetryableError', async () => {
    engine = makeEngine()
    const detail = await engine.run({ flow: flow([{ name: 'a', type: 'fatal', retry: { max_attempts: 5, backoff_ms: 0 } }]) })
    expect(detail.execution.status).toBe('failed')
    expect(detail.runs).toHaveLength(1)
    expect(detail.runs[0]?.error).toMatchObject({ retryable: false, message: 'the account is closed' })
  })

  it('does not retry invalid input', async () => {
    engine = makeEngine()
    const detail = await engine.run({ flow: flow([{ name: 'a', type: 'delay', input: { ms: '${input.when}' }, retry: { max_attempts: 5, backoff_ms: 0 } }]) }, { input: { when: 'soon' } })
    expect(detail.runs.map((r) => r.error?.code)).toEqual(['INPUT_INVALID'])
  })
})

describe('timeouts', () => {
  it('fails an attempt with TASK_TIMEOUT when the task ignores its signal, and moves on', async () => {
    engine = makeEngine()
    const detail = await time.drive(engine.run({
      flow: flow(
        [{ name: 'stuck', type: 'deaf', timeout_ms: 5 }, { name: 'after', type: 'noop' }],
        [{ name: 'c', source_task: 'stuck', outcome: 'success', target_task_success: 'end', target_task_failure: 'after' }],
      ),
    }))
    expect(detail.execution.status).toBe('completed')
    expect(detail.runs.map((r) => [r.taskName, r.status, r.error?.code ?? null])).toEqual([
      ['stuck', 'failure', 'TASK_TIMEOUT'],
      ['after', 'success', null],
    ])
  })

  it('retries a timed-out attempt', async () => {
    engine = makeEngine()
    const detail = await time.drive(engine.run({ flow: flow([{ name: 'stuck', type: 'deaf', timeout_ms: 2, retry: { max_attempts: 2, backoff_ms: 0 } }]) }))
    expect(detail.runs.map((r) => [r.attempt, r.error?.code])).toEqual([
      [1, 'TASK_TIMEOUT'],
      [2, 'TASK_TIMEOUT'],
    ])
  })

  it("fails the execution with EXECUTION_TIMEOUT when the flow's timeout passes, cancelling the running task", async () => {
    engine = makeEngine()
    const detail = await time.drive(engine.run({ flow: flow([{ name: 'stuck', type: 'deaf' }], [], { timeout_ms: 5 }) }))
    expect(detail.execution).toMatchObject({ status: 'failed', error: { code: 'EXECUTION_TIMEOUT' } })
    expect(detail.runs[0]).toMatchObject({ status: 'failure', error: { code: 'EXECUTION_TIMEOUT' } })
  })
})

describe('data conditions and input mapping', () => {
  const routed = (input: unknown): Promise<string[]> =>
    engine
      .run(
        {
          flow: flow(
            [
              { name: 'fetch', type: 'echo', input: { count: '${input.count}', label: 'n=${input.count}' } },
              { name: 'big', type: 'echo', input: { seen: '${results.fetch.data.count}', text: 'got ${results.fetch.data}' } },
              { name: 'small', type: 'noop' },
              { name: 'none', type: 'noop' },
            ],
            [
              {
                name: 'size',
                source_task: 'fetch',
                cases: [
                  { when: 'results.fetch.data.count > 100.0', target: 'big' },
                  { when: 'results.fetch.data.count > 0.0', target: 'small' },
                ],
                default: 'none',
              },
            ],
          ),
        },
        { input },
      )
      .then((d) => d.runs.map((r) => r.taskName))

  it('routes to the first case that matches, else to the default', async () => {
    engine = makeEngine()
    expect(await routed({ count: 500 })).toEqual(['fetch', 'big'])
    expect(await routed({ count: 5 })).toEqual(['fetch', 'small'])
    expect(await routed({ count: 0 })).toEqual(['fetch', 'none'])
  })

  it('maps typed values and interpolated text into task inputs', async () => {
    engine = makeEngine()
    await routed({ count: 500 })
    expect(seen.map((s) => s.input)).toEqual([
      { count: 500, label: 'n=500' },
      { seen: 500, text: 'got {"count":500,"label":"n=500"}' },
    ])
  })

  it('fails the execution with CONDITION_ERROR naming the condition when an expression cannot be evaluated', async () => {
    engine = makeEngine()
    const detail = await engine.run({ flow: flow([{ name: 'fetch', type: 'echo' }, { name: 'b', type: 'noop' }], [{ name: 'check', source_task: 'fetch', when: 'input.missing == 1.0', target_task_success: 'b', target_task_failure: 'end' }]) }, { input: {} })
    expect(detail.execution).toMatchObject({ status: 'failed', error: { code: 'CONDITION_ERROR' } })
    expect(detail.execution.error?.message).toContain('condition "check"')
  })

  it('fails the task run with INPUT_MAPPING_ERROR when its input cannot be mapped, without running it', async () => {
    engine = makeEngine()
    const detail = await engine.run({ flow: flow([{ name: 'a', type: 'echo', input: { x: '${input.nothing.here}' }, retry: { max_attempts: 3, backoff_ms: 0 } }]) }, { input: {} })
    expect(detail.runs.map((r) => r.error?.code)).toEqual(['INPUT_MAPPING_ERROR'])
    expect(seen).toEqual([])
  })

  it('routes a when condition on data: true to target_task_success, false to target_task_failure', async () => {
    engine = makeEngine()
    const doc = flow(
      [{ name: 'a', type: 'noop' }, { name: 'yes', type: 'noop' }, { name: 'no', type: 'noop' }],
      [{ name: 'c', source_task: 'a', when: "input.tier == 'gold'", target_task_success: 'yes', target_task_failure: 'no' }],
    )
    expect((await engine.run({ flow: doc }, { input: { tier: 'gold' } })).runs.map((r) => r.taskName)).toEqual(['a', 'yes'])
    expect((await engine.run({ flow: doc }, { input: { tier: 'tin' } })).runs.map((r) => r.taskName)).toEqual(['a', 'no'])
  })
})
