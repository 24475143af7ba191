import { FlowManagerError } from '../core/errors.js'
import type { NewExecution } from './store.js'

/** Why a new execution was not recorded: its idempotency key, or its id, is taken. The same error from every store. */
export function creationRefused(create: NewExecution, taken: 'key' | 'id'): FlowManagerError {
  return taken === 'key' && create.idempotencyKey !== null
    ? new FlowManagerError('IDEMPOTENCY_KEY_REUSED', `idempotency key "${create.idempotencyKey}" is taken by another execution`)
    : new FlowManagerError('INTERNAL', `execution id "${create.id}" is taken`)
}
