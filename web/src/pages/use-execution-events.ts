import { useEffect, useRef, useState } from 'react'
import { isTerminal, type ExecutionView } from '../api.js'
import { followExecution, followExecutions, type IdentifiedEvent } from '../sse.js'

/**
 * An execution's event log, streamed: the whole history first, then live events until its end. Each
 * event that tells something new has the execution read again (`reload`, coalesced by the caller).
 * A failed execution can be resumed by anyone: once its stream has ended, the page listens to the
 * list stream for that execution starting again, and then reads its history anew, so that a resume
 * from elsewhere (the CLI, another tab) is followed without a reload. `reopen` does it at once
 * (after this page resumed it).
 */
export function useExecutionEvents(id: string, view: ExecutionView | undefined, reload: () => void): { events: IdentifiedEvent[]; reopen: () => void } {
  const [events, setEvents] = useState<IdentifiedEvent[]>([])
  const [generation, setGeneration] = useState(0)
  const loaded = view !== undefined
  const viewRef = useRef(view)
  viewRef.current = view
  const reloadRef = useRef(reload)
  reloadRef.current = reload

  useEffect(() => {
    if (!loaded) return
    const controller = new AbortController()
    const seen = new Set<number>()
    // A long history arrives as a burst: render it once per frame, not once per event. The first
    // batch replaces the previous stream's events, so that a reopened history does not flash empty.
    let batch: IdentifiedEvent[] = []
    let fresh = true
    let frame = 0
    const flush = (): void => {
      frame = 0
      const items = batch
      batch = []
      if (fresh) setEvents(items)
      else setEvents((list) => [...list, ...items])
      fresh = false
    }
    let endedAs: string | undefined
    let endedAt: string | undefined
    let lastSeq = 0
    void followExecution(
      id,
      (item) => {
        if (seen.has(item.id)) return
        seen.add(item.id)
        lastSeq = Math.max(lastSeq, item.id)
        batch.push(item)
        if (frame === 0) frame = requestAnimationFrame(flush)
        const known = viewRef.current
        // A finished execution's history needs no re-read, unless it goes on past the end read.
        const news = known === undefined || !isTerminal(known.status) || known.finished_at === null || Date.parse(item.event.at) > Date.parse(known.finished_at)
        if (news) reloadRef.current()
        if (item.event.type === 'execution_finished') {
          endedAs = typeof item.event.status === 'string' ? item.event.status : undefined
          endedAt = item.event.at
        } else if (item.event.type === 'execution_resumed') endedAs = undefined
      },
      controller.signal,
    ).then(() => {
      if (controller.signal.aborted) return
      if (frame !== 0) {
        cancelAnimationFrame(frame)
        flush()
      }
      if (endedAs !== 'failed') return
      // Only a failed execution can go on: wait for the list stream to say its log grew.
      return followExecutions(
        {
          onChange(change) {
            // Its log grew past what this page read: it was resumed (and may have ended again since).
            if (change.execution_id !== id || change.event_seq <= lastSeq) return
            controller.abort()
            reloadRef.current()
            setGeneration((g) => g + 1)
          },
          onReset: () => undefined,
        },
        controller.signal,
        // From its end on, so that a resume made while this stream closed is not missed.
        endedAt,
      )
    })
    return () => {
      controller.abort()
      cancelAnimationFrame(frame)
    }
  }, [id, loaded, generation])

  return { events, reopen: () => setGeneration((g) => g + 1) }
}
