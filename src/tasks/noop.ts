import { defineTask } from './define-task.js'

export const noopTask = defineTask({
  name: 'noop',
  description: 'Succeeds at once and returns its input as data.',
  run: (input) => input,
})
