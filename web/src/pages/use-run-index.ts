import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { api, executionPath, query, type ExecutionView, type TaskRunPage, type TaskRunView } from '../api.js'
import { isOpen, type RunIndex } from '../runs.js'
import type { IdentifiedEvent } from '../sse.js'

/** Runs per page when reading the older runs that the execution's representation leaves out. */
const PAGE = 1000

/** How far a run has gone: a read of it never goes back, so the furthest read wins when reads cross. */
const progress = (run: TaskRunView): number => (run.finished_at !== null ? 2 : run.status === 'waiting' ? 1 : 0)

/**
 * Every task run of an execution, kept current. The representation (`GET …/executions/{id}`, read
 * again as events come) holds the latest 1,000 runs; the runs it held before stay known when newer
 * ones push them out. Runs never seen (an execution opened with more than 1,000) are read once, page
 * by page (`GET …/task-runs`), and a known run still open that the event log tells of (a group or a
 * for_each run ending long after it started) is read again alone (`GET …/task-runs/{seq}`).
 */
export function useRunIndex(id: string, view: ExecutionView | undefined, events: readonly IdentifiedEvent[]): RunIndex {
  const known = useRef(new Map<number, TaskRunView>())
  const [version, setVersion] = useState(0)
  const [paging, setPaging] = useState(false)
  const put = useCallback((runs: Iterable<TaskRunView>): boolean => {
    let changed = false
    for (const run of runs) {
      const old = known.current.get(run.seq)
      if (old === run || (old !== undefined && progress(old) > progress(run))) continue
      known.current.set(run.seq, run)
      changed = true
    }
    return changed
  }, [])
  const results = view?.task_results
  // Each read of the execution adds its runs (during render, so that the index is never a read behind).
  useMemo(() => put(results ?? []), [results, put])
  const windowStart = results?.[0]?.seq ?? 1
  let seenBefore = 0
  for (const seq of known.current.keys()) if (seq < windowStart) seenBefore++
  const missing = view !== undefined && seenBefore < windowStart - 1

  // The runs never seen: pages of runs before the representation's window. Again only if the window
  // has moved on since (more than 1,000 runs started between two reads left a gap), never in a loop.
  const pagedTo = useRef(0)
  const reading = useRef<AbortController | undefined>(undefined)
  useEffect(() => () => reading.current?.abort(), [id])
  useEffect(() => {
    if (!missing || paging || windowStart <= pagedTo.current) return
    pagedTo.current = windowStart
    setPaging(true)
    const controller = new AbortController()
    reading.current = controller
    void (async () => {
      let cursor: string | undefined
      for (;;) {
        const page = await api<TaskRunPage>(`${executionPath(id)}/task-runs${query({ limit: PAGE, cursor })}`, { signal: controller.signal })
        if (put(page.items)) setVersion((v) => v + 1)
        const last = page.items[page.items.length - 1]
        if (page.next_cursor === null || last === undefined || last.seq >= windowStart) break
        cursor = page.next_cursor
      }
    })()
      .catch(() => {
        // A failed read leaves the latest runs shown; the next visit reads the others again.
      })
      .finally(() => setPaging(false))
  }, [id, missing, paging, windowStart, put])

  // A run the page holds as open, told of by the log while out of the representation's window, is read again.
  const seen = useRef(0)
  useEffect(() => {
    if (events.length < seen.current) seen.current = 0
    const changed = new Set<number>()
    for (const { event } of events.slice(seen.current)) {
      const seq = typeof event.seq === 'number' ? event.seq : undefined
      if (seq !== undefined && seq < windowStart && event.type !== 'task_started' && isOpen(known.current.get(seq))) changed.add(seq)
    }
    seen.current = events.length
    for (const seq of changed) {
      api<TaskRunView>(`${executionPath(id)}/task-runs/${seq}`).then(
        (run) => {
          if (put([run])) setVersion((v) => v + 1)
        },
        () => undefined,
      )
    }
  }, [events, id, windowStart, put])

  const itemCounts = useMemo(() => {
    const counts = new Map<number, number>()
    for (const { event } of events) if (event.type === 'task_started' && typeof event.seq === 'number' && typeof event.item_count === 'number') counts.set(event.seq, event.item_count)
    return counts
  }, [events])

  return useMemo((): RunIndex => {
    const bySeq = new Map([...known.current].sort((a, b) => a[0] - b[0]))
    return { runs: [...bySeq.values()], bySeq, itemCounts, partial: missing }
    // `results` and `version` say when `known` changed.
  }, [results, version, itemCounts, missing])
}
