import { useId, useState } from 'react'
import { api, ApiError, executionPath } from '../api.js'

type Outcome = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly text: string }

/** What an answer of the signals route means for the person who sent it. */
function outcomeOf(error: unknown): Outcome {
  if (!(error instanceof ApiError)) return { ok: false, text: error instanceof Error ? error.message : String(error) }
  if (error.status === 409) return { ok: false, text: `409: the execution has already finished, so it takes no more signals (${error.code}).` }
  if (error.status === 404) return { ok: false, text: `404: the server knows no such execution (${error.code}).` }
  return { ok: false, text: `${error.status}: ${error.message} (${error.code})` }
}

/**
 * Sends a signal to an execution (`POST /api/v1/executions/{id}/signals/{name}`): the name filled
 * in, the payload typed as JSON and checked as one types, and the server's answer shown as it is.
 */
export function SignalForm({ executionId, signal, onSent }: { executionId: string; signal: string; onSent?: () => void }): React.JSX.Element {
  const [name, setName] = useState(signal)
  const [payload, setPayload] = useState('{}')
  const [busy, setBusy] = useState(false)
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined)
  const payloadId = useId()
  let parsed: { value: unknown } | { error: string }
  try {
    parsed = { value: JSON.parse(payload.trim() === '' ? 'null' : payload) as unknown }
  } catch (e) {
    parsed = { error: e instanceof Error ? e.message : String(e) }
  }
  const nameValid = /^[A-Za-z0-9._~-]{1,200}$/.test(name)
  const send = async (): Promise<void> => {
    if (!('value' in parsed) || !nameValid) return
    setBusy(true)
    setOutcome(undefined)
    try {
      await api(`${executionPath(executionId)}/signals/${encodeURIComponent(name)}`, { method: 'POST', body: parsed.value })
      setOutcome({ ok: true, text: `202: signal "${name}" accepted; the waiting task takes it as its data.` })
      onSent?.()
    } catch (error) {
      setOutcome(outcomeOf(error))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form
      className="fm-signal-form"
      data-signal={signal}
      onSubmit={(event) => {
        event.preventDefault()
        void send()
      }}
    >
      <label>
        Signal
        <input value={name} onChange={(e) => setName(e.target.value)} spellCheck={false} autoComplete="off" aria-invalid={!nameValid} className="fm-mono" />
      </label>
      <label className="fm-stack" htmlFor={payloadId}>
        Payload (JSON): the task's data
      </label>
      <textarea
        id={payloadId}
        className="fm-code"
        rows={Math.min(8, Math.max(2, payload.split('\n').length))}
        value={payload}
        onChange={(e) => setPayload(e.target.value)}
        spellCheck={false}
        aria-invalid={'error' in parsed}
        aria-describedby={`${payloadId}-check`}
      />
      <p id={`${payloadId}-check`} className={'error' in parsed || !nameValid ? 'fm-error-text small' : 'fm-muted small'}>
        {!nameValid ? 'A signal name is 1 to 200 letters, digits, ".", "_", "~" or "-".' : 'error' in parsed ? `Not JSON: ${parsed.error}` : 'Valid JSON.'}
      </p>
      <div className="fm-actions">
        <button type="submit" className="fm-button primary small" disabled={busy || 'error' in parsed || !nameValid}>
          Send signal
        </button>
      </div>
      {outcome !== undefined ? (
        <p className={outcome.ok ? 'fm-ok-text small' : 'fm-error'} role="status" data-outcome={outcome.ok ? 'accepted' : 'refused'}>
          {outcome.text}
        </p>
      ) : null}
    </form>
  )
}
