/** Table shapes shared by the SQL adapters. Times are epoch milliseconds; JSON is stored as text. */
export interface ExecutionsTable {
  id: string
  flow_id: string
  flow_version: number | null
  definition_hash: string
  status: string
  input: string
  current_task: string | null
  steps: number
  step_base: number
  failed_task: string | null
  error: string | null
  idempotency_key: string | null
  created_at: number
  started_at: number | null
  finished_at: number | null
  updated_at: number
  lease_owner: string | null
  lease_expires_at: number | null
  cancel_requested: number
  event_seq: number
  wake_at: number | null
  seq: number
  deadline: number | null
  threads: string | null
  next_thread: number
  stored_bytes: number
  poke: number
  parent_execution_id: string | null
  parent_seq: number | null
  parent_task: string | null
  depth: number
}

/**
 * The event log, one row per step: the events a step appended, as a JSON array, with the first and
 * last of their sequence numbers. One row per step instead of per event halves what a step writes.
 */
export interface ExecutionEventsTable {
  execution_id: string
  seq: number
  last_seq: number
  at: number
  events: string
}

export interface TaskRunsTable {
  execution_id: string
  seq: number
  task_name: string
  task_type: string
  attempt: number
  status: string
  data: string | null
  error: string | null
  started_at: number
  finished_at: number | null
  duration_ms: number | null
  next_task: string | null
  parent_seq: number | null
  branch: string | null
  item_index: number | null
  waiting_for: string | null
  retry_at: number | null
  items: string | null
}

/** Signals sent to an execution, kept until a wait_for_signal run consumes them. */
export interface SignalsTable {
  execution_id: string
  seq: number
  name: string
  payload: string
  created_at: number
  consumed_by: number | null
}

/** One row per live node: its heartbeat proves it alive, so that its work is taken only once it stopped. */
export interface NodesTable {
  id: string
  host: string
  pid: number
  machine: string
  started_at: number
  beat_at: number
}

export interface DefinitionsTable {
  hash: string
  definition: string
  created_at: number
}

export interface FlowsTable {
  id: string
  version: number
  definition_hash: string
  created_at: number
}

export interface Database {
  executions: ExecutionsTable
  task_runs: TaskRunsTable
  flow_definitions: DefinitionsTable
  flows: FlowsTable
  execution_events: ExecutionEventsTable
  signals: SignalsTable
  nodes: NodesTable
}
