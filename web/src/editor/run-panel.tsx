import { useState } from 'react'
import { api, ApiError, flowPath, parseInputText, startExecution, type FlowView } from '../api.js'
import { ErrorBox } from '../components.js'
import { href, navigate } from '../router.js'

/** Key order does not change a flow; compare definitions without it. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  )
}

/** Registers the flow (a new version only when it changed) and runs it with the given input. */
export function RunPanel({ doc, valid }: { doc: unknown; valid: boolean }): React.JSX.Element {
  const [input, setInput] = useState('{}')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const register = async (): Promise<FlowView> => {
    const flow = (typeof doc === 'object' && doc !== null && 'flow' in doc ? doc.flow : doc) as { id?: unknown }
    const id = typeof flow.id === 'string' ? flow.id : ''
    const latest = await api<FlowView>(flowPath(id)).catch((e: unknown) => {
      if (e instanceof ApiError && e.status === 404) return undefined
      throw e
    })
    if (latest !== undefined && canonical(latest.flow) === canonical(flow)) return latest
    return api<FlowView>('/api/v1/flows', { method: 'POST', body: doc })
  }
  const act = async (run: boolean): Promise<void> => {
    setBusy(true)
    setError(undefined)
    try {
      const parsedInput = parseInputText(input)
      const record = await register()
      if (!run) {
        navigate(href.flow(record.id, record.version))
        return
      }
      const started = await startExecution(record.id, record.version, parsedInput)
      navigate(href.execution(started.execution_id))
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  return (
    <section className="fm-run-panel" aria-labelledby="fm-run-title">
      <h2 id="fm-run-title">Run it</h2>
      <label className="fm-stack">
        Input (JSON)
        <textarea className="fm-code" rows={3} value={input} onChange={(e) => setInput(e.target.value)} aria-label="Execution input" spellCheck={false} />
      </label>
      <p className="fm-muted small">Running registers the flow first, as a new version when it changed.</p>
      <div className="fm-actions">
        <button type="button" className="fm-button primary" disabled={!valid || busy} onClick={() => void act(true)}>
          Run
        </button>
        <button type="button" className="fm-button" disabled={!valid || busy} onClick={() => void act(false)}>
          Register only
        </button>
      </div>
      <ErrorBox error={error} />
    </section>
  )
}
