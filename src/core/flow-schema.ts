import { z } from 'zod'

/** Longest task, condition or flow name accepted. Names show up in logs, URLs and graphs. */
export const MAX_NAME_LENGTH = 200
/** Default and highest allowed step limit (task runs per execution). */
export const DEFAULT_MAX_STEPS = 1000
export const MAX_MAX_STEPS = 1_000_000
/** Task names with a meaning of their own. */
export const END = 'end'
/** Flow ids that would hide behind a fixed route segment of the HTTP API. */
export const RESERVED_FLOW_IDS = ['execute', 'executions', 'validate', 'simulate'] as const
export const OUTCOMES = ['success', 'failure'] as const
/** Bounds of the retry policy and of timeouts. */
export const MAX_ATTEMPTS = 100
export const MAX_BACKOFF_MS = 24 * 60 * 60 * 1000
export const MAX_TIMEOUT_MS = 7 * 24 * 60 * 60 * 1000
/** Longest CEL expression accepted, in characters, and most cases in one condition. */
export const MAX_EXPRESSION_LENGTH = 2000
export const MAX_CASES = 100
/** What a `retry` object means where it leaves a field out (a task without `retry` runs once). */
export const RETRY_DEFAULTS = { max_attempts: 3, backoff_ms: 1000, backoff_factor: 2, max_backoff_ms: 60_000, jitter: false } as const
/** How a parallel group joins its branches. */
export const JOINS = ['all', 'any'] as const
/** Item runs of a `for_each` task at once when `max_concurrency` is not given. */
export const DEFAULT_FOR_EACH_CONCURRENCY = 10
/** Longest list a `for_each` task accepts; a longer one fails the task. */
export const MAX_FOR_EACH_ITEMS = 10_000
export const MAX_CONCURRENCY = 10_000

const name = z.string().min(1).max(MAX_NAME_LENGTH)
const description = z.string().max(10_000).optional()

const timeout = z.int().min(1).max(MAX_TIMEOUT_MS)
const expression = z.string().min(1).max(MAX_EXPRESSION_LENGTH)

export const RetrySchema = z
  .strictObject({
    max_attempts: z
      .int()
      .min(1)
      .max(MAX_ATTEMPTS)
      .optional()
      .describe(`Most attempts, the first included; default ${RETRY_DEFAULTS.max_attempts}.`),
    backoff_ms: z
      .int()
      .min(0)
      .max(MAX_BACKOFF_MS)
      .optional()
      .describe(`Wait before the second attempt, in ms; default ${RETRY_DEFAULTS.backoff_ms}.`),
    backoff_factor: z
      .number()
      .min(1)
      .max(10)
      .optional()
      .describe(`Each further wait is the previous one times this; default ${RETRY_DEFAULTS.backoff_factor}.`),
    max_backoff_ms: z
      .int()
      .min(0)
      .max(MAX_BACKOFF_MS)
      .optional()
      .describe(`Longest wait between attempts, in ms; default ${RETRY_DEFAULTS.max_backoff_ms}.`),
    jitter: z.boolean().optional().describe('Wait a random 50–100% of the computed backoff, so that many retries do not fire together; default false.'),
  })
  .describe('Run the task again after a failure. A NonRetryableError, INPUT_INVALID or RESULT_INVALID failure is not retried.')

export const CaseSchema = z
  .strictObject({
    when: expression.describe('A CEL expression over `input` and `results`; the first case that is true picks `target`.'),
    target: name.describe('Next task when `when` is true, or "end".'),
  })
  .describe('One branch of a multi-way condition.')

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
      .describe(
        'Input given to the task type. When absent the task receives the execution input. A string that is exactly "${expr}" becomes the value of the CEL expression; "${expr}" inside a string is replaced by its text.',
      ),
    retry: RetrySchema.optional(),
    timeout_ms: timeout.optional().describe('Longest one attempt may run, in ms; then its signal is aborted and the attempt fails with TASK_TIMEOUT.'),
    parallel: z
      .array(name)
      .min(1)
      .optional()
      .describe(
        'Makes the task a parallel group: each named task starts a branch that follows its own conditions until "end" or a task without a condition. A group has no type, input, retry or timeout of its own.',
      ),
    join: z
      .enum(JOINS)
      .optional()
      .describe('For a parallel group: "all" (default) succeeds when every branch succeeded and fails fast; "any" succeeds with the first branch that succeeds.'),
    max_concurrency: z
      .int()
      .min(1)
      .max(MAX_CONCURRENCY)
      .optional()
      .describe(`Most branches (parallel) or item runs (for_each) at once; default every branch, or ${DEFAULT_FOR_EACH_CONCURRENCY} item runs.`),
    for_each: expression
      .optional()
      .describe(
        `A CEL expression giving a list: the task's type runs once per item (at most ${MAX_FOR_EACH_ITEMS}), with \`item\` and \`index\` usable in its input; its data is the list of the item runs' data.`,
      ),
  })
  .describe('A named node of the flow.')

export const ConditionSchema = z
  .strictObject({
    name: name.describe('The condition\'s name, unique in the flow.'),
    description,
    source_task: name.describe('The task after which this condition decides.'),
    outcome: z.enum(OUTCOMES).optional().describe('The task status that counts as a match. Give `outcome`, `when` or `cases`.'),
    when: expression
      .optional()
      .describe('A CEL expression over `input` and `results` (instead of `outcome`): true goes to target_task_success, false to target_task_failure.'),
    target_task_success: name.optional().describe('Next task when the source task\'s status equals `outcome` (or `when` is true), or "end".'),
    target_task_failure: name.optional().describe('Next task otherwise, or "end".'),
    cases: z.array(CaseSchema).min(1).max(MAX_CASES).optional().describe('Multi-way branching: the first case whose `when` is true picks the next task.'),
    default: name.optional().describe('Next task when no case matches, or "end"; required with `cases`.'),
  })
  .describe('The rule after a task that picks the next task.')
  .meta({
    oneOf: [
      { required: ['outcome', 'target_task_success', 'target_task_failure'], not: { anyOf: [{ required: ['when'] }, { required: ['cases'] }, { required: ['default'] }] } },
      { required: ['when', 'target_task_success', 'target_task_failure'], not: { anyOf: [{ required: ['outcome'] }, { required: ['cases'] }, { required: ['default'] }] } },
      {
        required: ['cases', 'default'],
        not: { anyOf: [{ required: ['outcome'] }, { required: ['when'] }, { required: ['target_task_success'] }, { required: ['target_task_failure'] }] },
      },
    ],
  })

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
      .describe(`Most steps (task runs, retries not counted) one execution may make; default ${DEFAULT_MAX_STEPS}.`),
    timeout_ms: timeout.optional().describe('Longest the execution may run, in ms from its start; then it fails with EXECUTION_TIMEOUT and the running task is cancelled.'),
  })
  .describe('A Flow Manager flow definition.')

export const FlowDocumentSchema = z
  .union([z.strictObject({ flow: FlowSchema }), FlowSchema])
  .describe('A flow, bare or in a {"flow": …} envelope.')

export type Flow = z.infer<typeof FlowSchema>
export type FlowTask = z.infer<typeof TaskSchema>
export type FlowCondition = z.infer<typeof ConditionSchema>
export type Outcome = (typeof OUTCOMES)[number]
export type FlowRetry = z.infer<typeof RetrySchema>
export type FlowCase = z.infer<typeof CaseSchema>
