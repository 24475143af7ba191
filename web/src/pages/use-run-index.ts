import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { api, executionPath, query, type ExecutionView, type TaskRunPage, type TaskRunView } from '../api.js'
import { isOpen, type RunIndex } from '../runs.js'
import type { IdentifiedEvent } from '../sse.js'

/** Runs per page when reading the older runs that the execution's representation leaves out. */
const PAGE = 1000

/**
 * Every task run of an execution, kept current. The representation (`GET …/executions/{id}`, re-read
 * as events come) holds the latest 1,000 runs; an execution with more has its older runs read once,
 * page by page (`GET …/task-runs`), and an older run that the event log says changed (a group or a
 * for_each run ending long after it started) is read again alone (`GET …/task-runs/{seq}`).
 */
export function useRunIndex(id: string, view: ExecutionView | undefined, events: readonly IdentifiedEvent[]): RunIndex {
  const [older, setOlder] = useState<ReadonlyMap<number, TaskRunView>>(new Map())
  const [complete, setComplete] = useState(false)
  const windowStart = view === undefined ? 0 : (view.task_results[0]?.seq ?? Infinity)
  const needsOlder = view !== undefined && view.task_run_count > view.task_results.length

  // The older runs, once: pages of runs before the representation's window.
  useEffect(() => {
    if (!needsOlder) return
    const controller = new AbortController()
    void (async () => {
      let cursor: string | undefined
      for (;;) {
        const page = await api<TaskRunPage>(`${executionPath(id)}/task-runs${query({ limit: PAGE, cursor })}`, { signal: controller.signal })
        setOlder((map) => {
          const next = new Map(map)
          for (const run of page.items) next.set(run.seq, run)
          return next
        })
        const last = page.items[page.items.length - 1]
        if (page.next_cursor === null || last === undefined || last.seq >= windowStart) break
        cursor = page.next_cursor
      }
      setComplete(true)
    })().catch(() => {
      // A failed read leaves the timeline with the latest runs; the next visit reads them again.
    })
    return () => controller.abort()
    // Read once per execution: later changes come from the representation and the events.
  }, [id, needsOlder])

  // An older run still open (a group or a for_each run, a long task) is read again when the log
  // tells of it; a replayed event about a run already ended is history, not news.
  const olderRef = useRef(older)
  olderRef.current = older
  const seen = useRef(0)
  const refetch = useCallback(
    (seqs: Iterable<number>) => {
      for (const seq of seqs) {
        api<TaskRunView>(`${executionPath(id)}/task-runs/${seq}`).then(
          (run) => setOlder((map) => new Map(map).set(run.seq, run)),
          () => undefined,
        )
      }
    },
    [id],
  )
  useEffect(() => {
    if (events.length < seen.current) seen.current = 0
    const changed = new Set<number>()
    for (const { event } of events.slice(seen.current)) {
      const seq = typeof event.seq === 'number' ? event.seq : undefined
      if (seq !== undefined && seq < windowStart && event.type !== 'task_started' && isOpen(olderRef.current.get(seq))) changed.add(seq)
    }
    seen.current = events.length
    if (needsOlder) refetch(changed)
  }, [events, windowStart, needsOlder, refetch])
  // Runs that were open when their page was read may have ended before the events above were seen.
  useEffect(() => {
    if (complete) refetch([...olderRef.current.values()].filter((run) => run.seq < windowStart && isOpen(run)).map((run) => run.seq))
    // Once, when the older runs are in.
  }, [complete])

  const itemCounts = useMemo(() => {
    const counts = new Map<number, number>()
    for (const { event } of events) if (event.type === 'task_started' && typeof event.seq === 'number' && typeof event.item_count === 'number') counts.set(event.seq, event.item_count)
    return counts
  }, [events])

  return useMemo((): RunIndex => {
    const bySeq = new Map<number, TaskRunView>()
    for (const [seq, run] of older) if (seq < windowStart) bySeq.set(seq, run)
    for (const run of view?.task_results ?? []) bySeq.set(run.seq, run)
    const runs = [...bySeq.values()].sort((a, b) => a.seq - b.seq)
    return { runs, bySeq, itemCounts, partial: needsOlder && !complete }
  }, [older, view, windowStart, itemCounts, needsOlder, complete])
}
