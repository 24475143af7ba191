import { formatMs, formatTime } from '../format.js'
import type { IdentifiedEvent, WireEvent } from '../sse.js'

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined)

function describe(event: WireEvent): { what: string; status?: string; detail?: string } {
  switch (event.type) {
    case 'execution_queued':
      return { what: 'queued' }
    case 'execution_started':
      return { what: 'execution started' }
    case 'task_started': {
      const attempt = typeof event.attempt === 'number' && event.attempt > 1 ? ` (attempt ${event.attempt})` : ''
      return { what: `started${attempt}` }
    }
    case 'task_finished': {
      const status = text(event.status) ?? ''
      const word = status === 'success' ? 'succeeded' : status === 'failure' ? 'failed' : status
      const duration = typeof event.duration_ms === 'number' ? ` in ${formatMs(event.duration_ms)}` : ''
      const error = text(event.error)
      return { what: `${word}${duration}`, status, ...(error === undefined ? {} : { detail: error }) }
    }
    case 'routed':
      return { what: `→ ${text(event.to) ?? '?'}` }
    case 'task_interrupted':
      return { what: 'interrupted; it runs again', status: 'interrupted' }
    case 'execution_resumed':
      return { what: `execution resumed${text(event.reason) === undefined ? '' : ` (${text(event.reason)})`}` }
    case 'cancel_requested':
      return { what: 'cancel requested', status: 'cancelled' }
    case 'execution_finished': {
      const status = text(event.status) ?? ''
      const error = event.error as { message?: unknown } | null | undefined
      const message = text(error?.message)
      return { what: `execution ${status}`, status, ...(message === undefined ? {} : { detail: message }) }
    }
    default:
      return { what: event.type.replaceAll('_', ' ') }
  }
}

/** The execution's event history as it streams in; task events select their task. */
export function Timeline({ events, onSelect }: { events: readonly IdentifiedEvent[]; onSelect: (task: string) => void }): React.JSX.Element {
  return (
    <section className="fm-timeline" aria-labelledby="fm-timeline-title">
      <h2 id="fm-timeline-title">Events</h2>
      {events.length === 0 ? <p className="fm-muted">Waiting for events…</p> : null}
      <ol aria-live="polite" aria-relevant="additions">
        {events.map(({ id, event }) => {
          const { what, status, detail } = describe(event)
          const task = event.task_name
          return (
            <li key={id} className={`fm-event${status === undefined ? '' : ` status-${status}`}`} data-type={event.type}>
              <time dateTime={event.at}>{formatTime(event.at)}</time>{' '}
              {task !== null && task !== undefined ? (
                <>
                  <button type="button" className="fm-link" onClick={() => onSelect(task)}>
                    {task}
                  </button>{' '}
                </>
              ) : null}
              <span className={status === undefined ? undefined : `fm-event-status status-${status}`}>{what}</span>
              {detail !== undefined ? <div className="fm-event-error">{detail}</div> : null}
            </li>
          )
        })}
      </ol>
    </section>
  )
}
