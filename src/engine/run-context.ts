import type { Logger, TaskContext, TaskResultView } from '../tasks/define-task.js'
import type { Live } from './live-execution.js'

/** The context handed to a task run; the logger is made only when a task asks for it. */
export class RunContext implements TaskContext {
  readonly executionId: string
  readonly flowId: string
  readonly idempotencyKey: string
  readonly flowInput: unknown
  readonly results: Readonly<Record<string, TaskResultView | undefined>>
  #logger: Logger | undefined
  readonly #base: Logger

  constructor(
    l: Live,
    readonly taskName: string,
    step: number,
    readonly attempt: number,
    readonly signal: AbortSignal,
    base: Logger,
  ) {
    this.executionId = l.id
    this.flowId = l.plan.flow.id
    this.idempotencyKey = `${l.id}:${taskName}:${step}`
    this.flowInput = l.input
    this.results = l.results
    this.#base = base
  }

  get logger(): Logger {
    this.#logger ??= this.#base.child({ executionId: this.executionId, task: this.taskName, attempt: this.attempt })
    return this.#logger
  }
}
