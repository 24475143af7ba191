import { useEffect, useLayoutEffect, useRef, useState } from 'react'
import { onKeyNeeded, setApiKey } from './api.js'

/**
 * Asks for an API key when the server answers 401, keeps it in session storage (gone when the tab
 * closes), and lets the requests that were refused try again.
 */
export function KeyPrompt(): React.JSX.Element | null {
  const [request, setRequest] = useState<{ reason: string; done: () => void } | undefined>(undefined)
  const [value, setValue] = useState('')
  const dialog = useRef<HTMLDialogElement>(null)
  // A layout effect runs before any page's effects start their requests, so no 401 finds no prompt.
  useLayoutEffect(() => {
    onKeyNeeded((reason) => new Promise<void>((resolve) => setRequest({ reason, done: resolve })))
  }, [])
  useEffect(() => {
    const element = dialog.current
    if (request !== undefined && element !== null && !element.open) element.showModal()
  }, [request])
  if (request === undefined) return null
  return (
    <dialog ref={dialog} className="fm-dialog" aria-labelledby="fm-key-title" onCancel={(event) => event.preventDefault()}>
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault()
          const key = value.trim()
          if (key === '') return
          setApiKey(key)
          dialog.current?.close()
          setRequest(undefined)
          setValue('')
          request.done()
        }}
      >
        <h2 id="fm-key-title">API key</h2>
        <p>{request.reason}</p>
        <label className="fm-stack">
          Key (kept for this tab only)
          <input type="password" autoComplete="current-password" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        </label>
        <div className="fm-actions">
          <button type="submit" className="fm-button primary">
            Use this key
          </button>
        </div>
      </form>
    </dialog>
  )
}
