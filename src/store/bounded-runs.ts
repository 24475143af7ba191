import type { ReadLimits, TaskRunRecord } from './store.js'

/** Bytes a run's data takes as JSON (what a bounded read counts). */
export const dataBytes = (run: TaskRunRecord): number => (run.data === null || run.data === undefined ? 0 : JSON.stringify(run.data).length)

/**
 * The latest `maxRuns` runs, in order; the newest keep their data up to `maxDataBytes` in all,
 * older ones beyond that come without it (`dataOmitted`).
 */
export function boundRuns(runs: readonly TaskRunRecord[], limits: ReadLimits): TaskRunRecord[] {
  const latest = runs.slice(Math.max(0, runs.length - limits.maxRuns))
  let budget = limits.maxDataBytes
  for (let i = latest.length - 1; i >= 0; i--) {
    const run = latest[i] as TaskRunRecord
    const size = dataBytes(run)
    if (size <= budget) budget -= size
    else {
      budget = 0
      latest[i] = { ...run, data: null, dataOmitted: true }
    }
  }
  return latest
}

/** The latest ended run of each task, item runs aside: what `results` holds. In run order. */
export function latestByTask(runs: readonly TaskRunRecord[]): TaskRunRecord[] {
  const latest = new Map<string, TaskRunRecord>()
  for (const run of runs) {
    if (run.itemIndex !== null || (run.status !== 'success' && run.status !== 'failure')) continue
    latest.delete(run.taskName)
    latest.set(run.taskName, run)
  }
  return [...latest.values()]
}
