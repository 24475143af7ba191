import { normalizeTaskOutput, toFailure, type NormalizedResult } from '../core/task-result.js'
import type { PlanTask } from '../core/plan.js'
import { checkInput, type TaskContext, type TaskType } from '../tasks/define-task.js'

const failure = (message: string, code: string, retryable: boolean): NormalizedResult => ({
  result: { status: 'failure', error: { message, code, retryable } },
  dataJson: undefined,
})

/**
 * Runs one task run and always settles with a result: a throw, a rejected promise, a non-JSON
 * value or an unregistered type all become failures. When `signal` aborts, the run stops waiting
 * for a task that ignores the signal, so a stuck task cannot hold the execution.
 */
export function runTask(
  type: TaskType | undefined,
  task: PlanTask,
  input: unknown,
  context: TaskContext,
  maxResultBytes: number,
): NormalizedResult | Promise<NormalizedResult> {
  if (type === undefined) return failure(`task type "${task.type}" is not registered in this process`, 'TASK_TYPE_NOT_REGISTERED', false)
  if (type.input !== undefined) {
    const checked = checkInput(type, task.name, input)
    if (!checked.ok) return { result: { status: 'failure', error: checked.failure }, dataJson: undefined }
    input = checked.value
  }
  let output: unknown
  try {
    output = type.run(input, context)
  } catch (error) {
    return thrown(error, task)
  }
  // A task that answers synchronously costs no extra turn of the event loop.
  if (!isThenable(output)) return normalizeTaskOutput(output, maxResultBytes)
  return untilAborted(output, context.signal).then(
    (value) => normalizeTaskOutput(value, maxResultBytes),
    (error: unknown) => thrown(error, task),
  )
}

function thrown(error: unknown, task: PlanTask): NormalizedResult {
  return { result: { status: 'failure', error: toFailure(error, `task "${task.name}" threw without a message`) }, dataJson: undefined }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

function untilAborted(promise: PromiseLike<unknown>, signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.reject(abortError(signal))
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error instanceof Error ? error : new Error(toFailure(error, 'the task rejected without a reason').message))
      },
    )
  })
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'aborted'))
}
