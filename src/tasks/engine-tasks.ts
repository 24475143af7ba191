import { FlowManagerError } from '../core/errors.js'
import { SubflowInput, WaitForSignalInput, WaitInput } from '../core/system-tasks.js'
import { defineTask, type TaskType } from './define-task.js'

/** These types are carried out by the engine itself (it parks the execution in the store); no code runs. */
const byEngine = (): never => {
  throw new FlowManagerError('INTERNAL', 'this task type is carried out by the engine, not called')
}

export const waitTask = defineTask({
  name: 'wait',
  description:
    'Waits {"ms": N} or {"until": "ISO 8601"} durably: the execution is parked in the store, holding no worker, and goes on when its time comes, after a restart too and on any node.',
  input: WaitInput,
  run: byEngine,
})

export const waitForSignalTask = defineTask({
  name: 'wait_for_signal',
  description:
    'Parks the execution until POST /api/v1/executions/{id}/signals/{signal} (or `flow-manager signal`) delivers a signal; its payload becomes the data. A signal sent earlier is kept and taken at once. timeout_ms fails the task with SIGNAL_TIMEOUT.',
  input: WaitForSignalInput,
  run: byEngine,
})

export const subflowTask = defineTask({
  name: 'subflow',
  description:
    'Runs a registered flow as a child execution and parks until it ends: success with {execution_id, status, results} when it completed, failure otherwise. Cancelling the parent cancels the child; nesting is limited to 10 levels.',
  input: SubflowInput,
  run: byEngine,
})

/** The flow language's own task types: waits, signals and sub-flows. */
export const engineTasks: readonly TaskType[] = [waitTask, waitForSignalTask, subflowTask]
