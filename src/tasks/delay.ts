import { z } from 'zod'
import { defineTask } from './define-task.js'

/** Longest wait the delay task accepts: one day. */
export const MAX_DELAY_MS = 86_400_000

export const delayTask = defineTask({
  name: 'delay',
  description: 'Waits input.ms milliseconds (at most one day), then succeeds; a cancelled execution stops the wait.',
  input: z.looseObject({ ms: z.number().int().min(0).max(MAX_DELAY_MS).describe('How long to wait, in milliseconds.') }),
  run: (input, context) =>
    new Promise((resolve, reject) => {
      const { signal } = context
      if (signal.aborted) {
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
        return
      }
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
      }
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort)
        resolve({ waited_ms: input.ms })
      }, input.ms)
      signal.addEventListener('abort', onAbort, { once: true })
    }),
})
