import type { Flow } from '../core/flow-schema.js'
import type { ExecutionDetail, ExecutionEventRecord, ExecutionFilter, ExecutionRecord, FlowRecord, Page, Store, TaskRunRecord } from '../store/store.js'

/** What one read of an execution carries at most (a larger execution is paged through its task runs). */
export const REPRESENTATION_LIMITS = { maxRuns: 1000, maxDataBytes: 8 * 1024 * 1024 } as const
/** Most bytes of run data in one page of task runs (a page has at least one run). */
const PAGE_BYTES = 8 * 1024 * 1024

/**
 * The read side of executions, as the HTTP API and the UI see them: every read is bounded, so that
 * answering for an execution of any size is quick and takes little memory.
 */
export interface ReadModel {
  /** The execution with its latest 1,000 runs and up to 8 MiB of their data; older data is left out. */
  execution(id: string): Promise<ExecutionDetail | undefined>
  record(id: string): Promise<ExecutionRecord | undefined>
  list(filter: ExecutionFilter): Promise<Page<ExecutionRecord>>
  /** Task runs after `afterSeq`, `limit` at most, within 8 MiB of data. */
  taskRuns(id: string, afterSeq: number, limit: number): Promise<readonly TaskRunRecord[]>
  taskRun(id: string, seq: number): Promise<TaskRunRecord | undefined>
  events(id: string, afterSeq: number, limit: number): Promise<readonly ExecutionEventRecord[]>
  /** The definition an execution runs. */
  definition(execution: ExecutionRecord): Promise<Flow | undefined>
  /** Sub-flow executions a parent started. */
  children(id: string, limit: number): Promise<Page<ExecutionRecord>>
  countQueued(): Promise<number>
  /** A registered flow: its latest version, or the one asked for. */
  flow(id: string, version?: number): Promise<FlowRecord | undefined>
  /** Registered flows by id, each at its latest version. */
  flows(limit: number, cursor?: string): Promise<Page<FlowRecord>>
}

/**
 * How long an execution that just ended on this node is answered from memory. Within a second
 * another node could have resumed it (a resume on this node forgets the copy at once).
 */
const RECENT_MS = 1000

export function createReadModel(store: Store, recent: (id: string, maxAgeMs: number) => ExecutionDetail | undefined = () => undefined): ReadModel {
  return {
    execution: (id) => {
      const ended = recent(id, RECENT_MS)
      return ended === undefined ? store.getExecution(id, REPRESENTATION_LIMITS) : Promise.resolve(ended)
    },
    record: (id) => store.getExecutionRecord(id),
    list: (filter) => store.listExecutions(filter),
    taskRuns: (id, afterSeq, limit) => store.listTaskRuns(id, afterSeq, limit, PAGE_BYTES),
    taskRun: (id, seq) => store.getTaskRun(id, seq),
    events: (id, afterSeq, limit) => store.listEvents(id, afterSeq, limit),
    definition: (execution) => store.getDefinition(execution.definitionHash),
    children: (id, limit) => store.listExecutions({ parentExecutionId: id, limit }),
    countQueued: () => store.countQueued(),
    flow: (id, version) => store.getFlow(id, version),
    flows: (limit, cursor) => store.listFlows(limit, cursor),
  }
}
