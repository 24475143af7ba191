import type { RunEnd, RunWrite, TaskRunRecord, WaitingForView } from './store.js'

const ended = (run: TaskRunRecord, end: RunEnd): TaskRunRecord => ({
  executionId: run.executionId,
  seq: run.seq,
  taskName: run.taskName,
  taskType: run.taskType,
  attempt: run.attempt,
  status: end.status,
  data: end.dataJson === undefined ? null : JSON.parse(end.dataJson),
  error: end.error,
  startedAt: run.startedAt,
  finishedAt: end.finishedAt,
  durationMs: end.durationMs,
  nextTask: end.nextTask,
  parentSeq: run.parentSeq,
  branch: run.branch,
  itemIndex: run.itemIndex,
  waitingFor: null,
  retryAt: end.retryAt,
})

/**
 * Applies one run write to a list of run records, as a SQL store would to its rows: the memory
 * store keeps its runs this way, and the engine its recent history.
 */
export function applyRunWrite(runs: TaskRunRecord[], executionId: string, w: RunWrite): void {
  if (w.kind === 'start') {
    const run: TaskRunRecord = {
      executionId,
      seq: w.seq,
      taskName: w.taskName,
      taskType: w.taskType,
      attempt: w.attempt,
      status: w.waitingForJson === undefined ? 'running' : 'waiting',
      data: null,
      error: null,
      startedAt: w.startedAt,
      finishedAt: null,
      durationMs: null,
      nextTask: null,
      parentSeq: w.parentSeq,
      branch: w.branch,
      itemIndex: w.itemIndex,
      waitingFor: w.waitingForJson === undefined ? null : (JSON.parse(w.waitingForJson) as WaitingForView),
      retryAt: null,
    }
    runs.push(w.end === undefined ? run : ended(run, w.end))
    return
  }
  const i = runs.findLastIndex((r) => r.seq === w.seq)
  const run = runs[i]
  if (run === undefined) return
  if (w.kind === 'end') runs[i] = ended(run, w)
  else if (w.kind === 'park') runs[i] = { ...run, status: 'waiting', waitingFor: JSON.parse(w.waitingForJson) as WaitingForView }
  else runs[i] = { ...run, status: 'interrupted', finishedAt: w.at, waitingFor: null }
}
