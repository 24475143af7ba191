import type { Logger, TaskContext, TaskResultView } from '../tasks/define-task.js'

/** What a run's context is made from: the execution it belongs to and the run itself. */
export interface RunContextSource {
  readonly executionId: string
  readonly flowId: string
  readonly flowInput: unknown
  readonly results: Readonly<Record<string, TaskResultView | undefined>>
}

/** The context handed to a task run; the logger is made only when a task asks for it. */
export class RunContext implements TaskContext {
  readonly executionId: string
  readonly flowId: string
  readonly flowInput: unknown
  readonly results: Readonly<Record<string, TaskResultView | undefined>>
  #logger: Logger | undefined
  readonly #base: Logger

  constructor(
    source: RunContextSource,
    readonly taskName: string,
    readonly idempotencyKey: string,
    readonly attempt: number,
    readonly signal: AbortSignal,
    base: Logger,
  ) {
    this.executionId = source.executionId
    this.flowId = source.flowId
    this.flowInput = source.flowInput
    this.results = source.results
    this.#base = base
  }

  get logger(): Logger {
    this.#logger ??= this.#base.child({ executionId: this.executionId, task: this.taskName, attempt: this.attempt })
    return this.#logger
  }
}
