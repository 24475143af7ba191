/**
 * An example task module (the README's "Writing tasks"). Load it with --tasks:
 *
 *   flow-manager run examples/custom-flow.json --tasks examples/custom-tasks.ts --input '{"name": "Ada"}'
 *
 * TypeScript modules load as they are (through tsx); no build step is needed. In your own project,
 * install durable-flow-manager (and zod 4, for input schemas) and import them the same way.
 */
import { defineTask } from 'durable-flow-manager'
import { z } from 'zod'

export default [
  defineTask({
    name: 'greet',
    description: 'Greets input.name (default "world").',
    // The input is checked before run is called; a mismatch fails the task run with INPUT_INVALID.
    input: z.looseObject({ name: z.string().min(1).max(100).default('world') }),
    run: (input) => ({ greeting: `Hello, ${input.name}!` }),
  }),
  defineTask({
    name: 'shout',
    description: "Upper-cases the greeting in the result of the task named 'greet'.",
    run: (_input, context) => {
      const data = context.results.greet?.data as { greeting?: unknown } | undefined
      // Throwing fails the task run; the message is kept in the execution.
      if (typeof data?.greeting !== 'string') throw new Error('there is no greeting to shout: run "greet" first')
      context.logger.debug({ greeting: data.greeting }, 'shouting')
      return { shouted: data.greeting.toUpperCase() }
    },
  }),
]
