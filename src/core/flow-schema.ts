import { z } from 'zod'

/** Longest task, condition or flow name accepted. Names show up in logs, URLs and graphs. */
export const MAX_NAME_LENGTH = 200
/** Default and highest allowed step limit (task runs per execution). */
export const DEFAULT_MAX_STEPS = 1000
export const MAX_MAX_STEPS = 1_000_000
/** Task names with a meaning of their own. */
export const END = 'end'
/** Flow ids that would hide behind a fixed route segment (SPEC §4). */
export const RESERVED_FLOW_IDS = ['execute', 'executions', 'validate', 'simulate'] as const
export const OUTCOMES = ['success', 'failure'] as const

const name = z.string().min(1).max(MAX_NAME_LENGTH)
const description = z.string().max(10_000).optional()

export const TaskSchema = z
  .strictObject({
    name: name.describe('The task\'s identity in the flow; conditions refer to it. "end" is reserved.'),
    description,
    type: name
      .optional()
      .describe('The registered task type that runs this task. Defaults to the task name.'),
    input: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Input given to the task type. When absent the task receives the execution input.'),
  })
  .describe('A named node of the flow.')

export const ConditionSchema = z
  .strictObject({
    name: name.describe('The condition\'s name, unique in the flow.'),
    description,
    source_task: name.describe('The task after which this condition decides.'),
    outcome: z.enum(OUTCOMES).describe('The task status that counts as a match.'),
    target_task_success: name.describe('Next task when the source task\'s status equals `outcome`, or "end".'),
    target_task_failure: name.describe('Next task otherwise, or "end".'),
  })
  .describe('The rule after a task that picks the next task.')

export const FlowSchema = z
  .strictObject({
    id: name.describe('The flow\'s id; registering the same id again makes a new version.'),
    name: z.string().min(1).max(MAX_NAME_LENGTH).describe('A human name for the flow.'),
    description,
    start_task: name.describe('The first task to run.'),
    tasks: z.array(TaskSchema).min(1).describe('The tasks of the flow; names are unique.'),
    conditions: z.array(ConditionSchema).describe('At most one condition per source task.'),
    max_steps: z
      .int()
      .min(1)
      .max(MAX_MAX_STEPS)
      .optional()
      .describe(`Most task runs one execution may make; default ${DEFAULT_MAX_STEPS}.`),
  })
  .describe('A Flow Manager flow definition.')

export const FlowDocumentSchema = z
  .union([z.strictObject({ flow: FlowSchema }), FlowSchema])
  .describe('A flow, bare or in a {"flow": …} envelope.')

export type Flow = z.infer<typeof FlowSchema>
export type FlowTask = z.infer<typeof TaskSchema>
export type FlowCondition = z.infer<typeof ConditionSchema>
export type Outcome = (typeof OUTCOMES)[number]
