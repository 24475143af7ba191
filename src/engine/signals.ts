import { FlowManagerError } from '../core/errors.js'
import { SIGNAL_NAME, SIGNAL_NAME_RULE } from '../core/system-tasks.js'
import type { Store } from '../store/store.js'

/**
 * Keeps a signal for an execution, until a wait_for_signal task that waits for `name` takes it
 * (the oldest first, one per wait). The one way signals are sent, by the engine's API and by
 * `flow-manager signal`; whichever node holds the execution is woken by the store.
 */
export async function sendSignal(store: Store, executionId: string, name: string, payload: unknown, options: { readonly dataLimit: number; readonly at: number }): Promise<void> {
  if (!SIGNAL_NAME.test(name)) {
    const shown = name.length > 50 ? `${name.slice(0, 50)}…` : name
    throw new FlowManagerError('INPUT_INVALID', `signal name "${shown}" is not valid: ${SIGNAL_NAME_RULE}`)
  }
  const payloadJson = JSON.stringify(payload ?? null)
  if (payloadJson.length > options.dataLimit) {
    throw new FlowManagerError('DATA_TOO_LARGE', `the signal's payload is ${payloadJson.length} bytes, over the data limit of ${options.dataLimit}`)
  }
  const outcome = await store.addSignal(executionId, name, payloadJson, options.at)
  if (outcome === 'not_found') throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${executionId}"`)
  if (outcome === 'finished') throw new FlowManagerError('EXECUTION_FINISHED', `execution "${executionId}" has finished; it takes no more signals`)
}
