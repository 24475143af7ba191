import { z } from 'zod'
import { defineTask, NonRetryableError, type TaskContext } from './define-task.js'

/** Input the sample tasks understand: which tasks to fail, and a random failure rate. */
const SampleInput = z.looseObject({
  fail: z.union([z.array(z.string()), z.string()]).optional().describe('The name of a task to fail, or a list of them.'),
  failure_rate: z.number().min(0).max(1).optional().describe('The chance, from 0 to 1, that the task fails at random.'),
})
type SampleInput = z.output<typeof SampleInput>

interface SampleRecord {
  readonly id: number
  readonly value: string
}

function failureRequested(input: SampleInput, context: TaskContext): string | undefined {
  const fail = typeof input.fail === 'string' ? [input.fail] : (input.fail ?? [])
  if (fail.includes(context.taskName)) return `asked to fail by the execution input ("fail" names task "${context.taskName}")`
  if (input.failure_rate !== undefined && input.failure_rate > 0 && Math.random() < input.failure_rate) {
    return `failed at random (failure_rate ${input.failure_rate})`
  }
  return undefined
}

/**
 * The records an upstream task left in this execution. Like the samples of the original services,
 * a task without its upstream data fails rather than working on nothing: a flow that starts at
 * task2, or reaches it after task1 failed, is a flow that does not do what it says.
 */
function upstreamRecords(context: TaskContext, upstream: string): SampleRecord[] {
  const result = context.results[upstream]
  const records: unknown = result?.status === 'success' && typeof result.data === 'object' && result.data !== null ? (result.data as { records?: unknown }).records : undefined
  if (Array.isArray(records)) return records as SampleRecord[]
  const why = result === undefined ? `${upstream} has not run in this execution` : result.status === 'failure' ? `${upstream} failed in this execution` : `${upstream}'s result has no "records"`
  throw new NonRetryableError(
    `no data from ${upstream}: ${context.taskName} works on the records in ${upstream}'s result, and ${why}; route to ${context.taskName} after ${upstream} succeeds`,
  )
}

export const task1 = defineTask({
  name: 'task1',
  description: 'Sample: fetches three records. Fails when its name is in input.fail, or at random with input.failure_rate.',
  input: SampleInput,
  run: (input, context) => {
    const failure = failureRequested(input, context)
    if (failure !== undefined) return { status: 'failure', error: failure }
    const records: SampleRecord[] = [1, 2, 3].map((id) => ({ id, value: `record-${id}` }))
    return { records, count: records.length }
  },
})

export const task2 = defineTask({
  name: 'task2',
  description: "Sample: processes the records in task1's result; fails when task1 has not succeeded in this execution.",
  input: SampleInput,
  run: (input, context) => {
    const failure = failureRequested(input, context)
    if (failure !== undefined) return { status: 'failure', error: failure }
    const records = upstreamRecords(context, 'task1').map((r) => ({ ...r, value: r.value.toUpperCase(), processed: true }))
    return { records, count: records.length }
  },
})

export const task3 = defineTask({
  name: 'task3',
  description: "Sample: stores the records processed by task2; fails when task2 has not succeeded in this execution.",
  input: SampleInput,
  run: (input, context) => {
    const failure = failureRequested(input, context)
    if (failure !== undefined) return { status: 'failure', error: failure }
    const stored = upstreamRecords(context, 'task2').map((r) => r.id)
    return { stored, count: stored.length }
  },
})
