/**
 * Type-level tests of defineFlow, checked by `npm run typecheck` (tsc covers test/). Each
 * @ts-expect-error line must be an error: if one compiles, tsc reports the unused directive.
 */
import { defineFlow, type Execution, type TypedFlow } from '../../src/index.js'

const tasks = [
  { name: 'fetch', type: 'http-get', retry: { max_attempts: 3 } },
  { name: 'store', input: { rows: '${results.fetch.data.rows}' } },
] as const

export const good: TypedFlow<'fetch' | 'store'> = defineFlow({
  id: 'typed',
  name: 'Typed',
  start_task: 'fetch',
  tasks,
  conditions: [
    { name: 'after_fetch', source_task: 'fetch', outcome: 'success', target_task_success: 'store', target_task_failure: 'end' },
    { name: 'after_store', source_task: 'store', cases: [{ when: 'input.again == true', target: 'fetch' }], default: 'end' },
  ],
})

defineFlow({
  id: 'typo-in-a-key',
  name: 'Typo',
  // @ts-expect-error start_tsk is not a field of a flow
  start_tsk: 'fetch',
  tasks,
  conditions: [],
})

defineFlow({
  id: 'unknown-start',
  name: 'Unknown start',
  // @ts-expect-error "fetchh" is not a task of the flow
  start_task: 'fetchh',
  tasks,
  conditions: [],
})

defineFlow({
  id: 'unknown-target',
  name: 'Unknown target',
  start_task: 'fetch',
  tasks,
  conditions: [
    // @ts-expect-error "stor" is not a task of the flow (nor "end")
    { name: 'after_fetch', source_task: 'fetch', outcome: 'success', target_task_success: 'stor', target_task_failure: 'end' },
  ],
})

defineFlow({
  id: 'unknown-case-target',
  name: 'Unknown case target',
  start_task: 'fetch',
  tasks,
  // @ts-expect-error a case's target must be a task of the flow
  conditions: [{ name: 'c', source_task: 'fetch', cases: [{ when: 'true', target: 'nowhere' }], default: 'end' }],
})

defineFlow({
  id: 'unknown-source',
  name: 'Unknown source',
  start_task: 'fetch',
  tasks,
  // @ts-expect-error "fecth" is not a task of the flow
  conditions: [{ name: 'c', source_task: 'fecth', outcome: 'success', target_task_success: 'store', target_task_failure: 'end' }],
})

defineFlow({
  id: 'bad-outcome',
  name: 'Bad outcome',
  start_task: 'fetch',
  tasks,
  // @ts-expect-error outcome is "success" or "failure"
  conditions: [{ name: 'c', source_task: 'fetch', outcome: 'succeeded', target_task_success: 'store', target_task_failure: 'end' }],
})

// @ts-expect-error a flow needs its conditions, even when there are none
defineFlow({ id: 'no-conditions', name: 'No conditions', start_task: 'fetch', tasks })

/** The wire representation of an execution, as the package exports it. */
export function summary(execution: Execution): string {
  const failed = execution.failed_task === null ? '' : ` at ${execution.failed_task}`
  // @ts-expect-error executions have no "state" field: it is "status"
  void execution.state
  return `${execution.execution_id}: ${execution.status}${failed} after ${execution.task_results.length} task runs`
}
