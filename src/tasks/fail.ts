import { z } from 'zod'
import { defineTask } from './define-task.js'

export const failTask = defineTask({
  name: 'fail',
  description: 'Always fails, with input.message as the error (default "failed on purpose").',
  input: z.looseObject({ message: z.string().max(10_000).default('failed on purpose').describe('The error the task fails with.') }),
  run: (input) => ({ status: 'failure', error: input.message }),
})
