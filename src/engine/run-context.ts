import type { Logger, TaskContext, TaskResultView } from '../tasks/define-task.js'

/** What a run's context is made from: the execution it belongs to and the run itself. */
export interface RunContextSource {
  readonly executionId: string
  readonly flowId: string
  readonly flowInput: unknown
  readonly results: Readonly<Record<string, TaskResultView | undefined>>
}

/**
 * A run's abort signal, made only when the task asks for it: most task runs end without reading
 * it, and an AbortController costs more than the rest of a transition.
 */
export class LazySignal {
  #controller: AbortController | undefined
  #reason: Error | undefined

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#reason !== undefined) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  abort(reason: Error): void {
    if (this.#controller === undefined) this.#reason ??= reason
    else this.#controller.abort(reason)
  }
}

/** The context handed to a task run; the logger and the signal are made only when a task asks for them. */
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
    readonly attempt: number,
    /** `${executionId}:${taskName}:${step}` (and `:${item}` for an item run), made when asked for. */
    private readonly keyParts: { readonly step: number; readonly item: number | null },
    private readonly abort: LazySignal,
    base: Logger,
  ) {
    this.executionId = source.executionId
    this.flowId = source.flowId
    this.flowInput = source.flowInput
    this.results = source.results
    this.#base = base
  }

  get idempotencyKey(): string {
    const { step, item } = this.keyParts
    return item === null ? `${this.executionId}:${this.taskName}:${step}` : `${this.executionId}:${this.taskName}:${step}:${item}`
  }

  get signal(): AbortSignal {
    return this.abort.signal
  }

  get logger(): Logger {
    this.#logger ??= this.#base.child({ executionId: this.executionId, task: this.taskName, attempt: this.attempt })
    return this.#logger
  }
}
