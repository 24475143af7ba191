import { useEffect, useMemo, useRef, useState } from 'react'
import { api, ApiError, flowPath, parseInputText, startExecution, type FlowView, type Issue, type ValidationResult } from '../api.js'
import { ErrorBox, useTitle } from '../components.js'
import { lineOf, locatePointers, spanOf, syntaxErrorOffset, type Span } from '../editor/json-locate.js'
import { FlowGraph } from '../graph/flow-graph.js'
import { preloadLayout } from '../graph/layout.js'
import { flowGraph, readFlow } from '../graph/model.js'
import { href, navigate, useLocation } from '../router.js'

const SEED_DOCUMENT = {
  flow: {
    id: 'flow123',
    name: 'Data processing flow',
    start_task: 'task1',
    tasks: [
      { name: 'task1', description: 'Fetch data' },
      { name: 'task2', description: 'Process data' },
      { name: 'task3', description: 'Store data' },
    ],
    conditions: [
      { name: 'condition_task1_result', description: 'Evaluate the result of task1', source_task: 'task1', outcome: 'success', target_task_success: 'task2', target_task_failure: 'end' },
      { name: 'condition_task2_result', description: 'Evaluate the result of task2', source_task: 'task2', outcome: 'success', target_task_success: 'task3', target_task_failure: 'end' },
    ],
  },
}
const DRAFT_KEY = 'flow-manager.editor-draft'
const VALIDATE_DELAY_MS = 300

interface Located extends Issue {
  readonly severity: 'error' | 'warning'
  readonly span: Span | undefined
  readonly line: number | undefined
}

type Check =
  | { readonly state: 'checking' }
  | { readonly state: 'syntax'; readonly message: string; readonly offset: number | undefined }
  | { readonly state: 'checked'; readonly valid: boolean; readonly issues: readonly Located[] }
  | { readonly state: 'failed'; readonly error: unknown }

function readDraft(): string {
  try {
    return sessionStorage.getItem(DRAFT_KEY) ?? JSON.stringify(SEED_DOCUMENT, null, 2)
  } catch {
    return JSON.stringify(SEED_DOCUMENT, null, 2)
  }
}

/** Key order does not change a flow; compare definitions without it. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  )
}

/**
 * Type or paste a flow: it is validated by the server as you type (debounced), problems are shown
 * at their JSON paths and lines, the graph follows, and the flow can be registered and run.
 */
export function EditorPage(): React.JSX.Element {
  useTitle('Flow editor')
  useEffect(preloadLayout, [])
  const { search } = useLocation()
  const source = search.get('flow')
  const sourceVersion = search.get('version')
  const [text, setText] = useState(readDraft)
  const [loadError, setLoadError] = useState<unknown>(undefined)

  useEffect(() => {
    if (source === null) return
    const controller = new AbortController()
    api<FlowView>(flowPath(source, sourceVersion === null ? undefined : Number(sourceVersion)), { signal: controller.signal }).then(
      (view) => setText(JSON.stringify({ flow: view.flow }, null, 2)),
      (error: unknown) => {
        if (!controller.signal.aborted) setLoadError(error)
      },
    )
    return () => controller.abort()
  }, [source, sourceVersion])

  useEffect(() => {
    try {
      sessionStorage.setItem(DRAFT_KEY, text)
    } catch {
      // no storage: the draft lasts as long as the page
    }
  }, [text])

  // What the graph shows: the last text that parsed, so a half-typed line does not blank it.
  const [doc, setDoc] = useState<unknown>(() => {
    try {
      return JSON.parse(text) as unknown
    } catch {
      return undefined
    }
  })
  const [check, setCheck] = useState<Check>({ state: 'checking' })
  useEffect(() => {
    setCheck({ state: 'checking' })
    const controller = new AbortController()
    const timer = setTimeout(() => {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        setCheck({ state: 'syntax', message, offset: syntaxErrorOffset(text, message) })
        return
      }
      setDoc(parsed)
      api<ValidationResult>('/api/v1/flows/validate', { method: 'POST', body: parsed, signal: controller.signal }).then(
        (result) => {
          const spans = locatePointers(text)
          const locate = (issue: Issue, severity: 'error' | 'warning'): Located => {
            const span = spanOf(spans, issue.path)
            return { ...issue, severity, span, line: span === undefined ? undefined : lineOf(text, span.start) }
          }
          setCheck({ state: 'checked', valid: result.valid, issues: [...result.errors.map((i) => locate(i, 'error')), ...result.warnings.map((i) => locate(i, 'warning'))] })
        },
        (error: unknown) => {
          if (!controller.signal.aborted) setCheck({ state: 'failed', error })
        },
      )
    }, VALIDATE_DELAY_MS)
    return () => {
      clearTimeout(timer)
      controller.abort()
    }
  }, [text])

  const flow = useMemo(() => readFlow(doc), [doc])
  const model = useMemo(() => (flow === undefined ? undefined : flowGraph(flow)), [flow])
  const textarea = useRef<HTMLTextAreaElement>(null)
  const showSpan = (span: Span | undefined): void => {
    const area = textarea.current
    if (area === null || span === undefined) return
    area.focus()
    area.setSelectionRange(span.start, span.end)
    const line = lineOf(text, span.start)
    area.scrollTop = Math.max(0, (line - 3) * lineHeight(area))
  }

  const issues = check.state === 'checked' ? check.issues : []
  const markers = new Map<number, 'error' | 'warning'>()
  for (const issue of issues) if (issue.line !== undefined && markers.get(issue.line) !== 'error') markers.set(issue.line, issue.severity)
  if (check.state === 'syntax' && check.offset !== undefined) markers.set(lineOf(text, check.offset), 'error')
  const errorCount = issues.filter((i) => i.severity === 'error').length

  return (
    <section className="fm-page fm-editor">
      <header className="fm-page-head">
        <h1>Flow editor</h1>
        <button type="button" className="fm-button" onClick={() => setText(JSON.stringify(SEED_DOCUMENT, null, 2))}>
          Load the seed flow
        </button>
      </header>
      <ErrorBox error={loadError} />
      <div className="fm-editor-body">
        <div className="fm-editor-left">
          <CodeArea text={text} onChange={setText} markers={markers} textareaRef={textarea} />
          <div className="fm-check" role="status" aria-live="polite" data-state={check.state === 'checked' ? (check.valid ? 'valid' : 'invalid') : check.state}>
            {check.state === 'checking' ? <span className="fm-muted">Checking…</span> : null}
            {check.state === 'syntax' ? (
              <span className="fm-error-text">
                JSON syntax error{check.offset === undefined ? '' : ` on line ${lineOf(text, check.offset)}`}: {check.message}
              </span>
            ) : null}
            {check.state === 'checked' ? (
              check.valid ? (
                <span className="fm-ok-text">✓ Valid{issues.length > 0 ? `, with ${issues.length} warning${issues.length === 1 ? '' : 's'}` : ''}</span>
              ) : (
                <span className="fm-error-text">
                  ✕ {errorCount} problem{errorCount === 1 ? '' : 's'}
                </span>
              )
            ) : null}
            {check.state === 'failed' ? <ErrorBox error={check.error} /> : null}
          </div>
          {issues.length > 0 ? (
            <ul className="fm-issues" aria-label="Validation problems">
              {issues.map((issue, index) => (
                <li key={index} className={`fm-issue ${issue.severity}`} data-path={issue.path} data-code={issue.code}>
                  <button type="button" className="fm-issue-where" onClick={() => showSpan(issue.span)} title="Show it in the editor">
                    <code>{issue.path === '' ? '(document)' : issue.path}</code>
                    {issue.line !== undefined ? <span className="fm-muted"> line {issue.line}</span> : null}
                  </button>
                  <span className="fm-issue-message">
                    {issue.message} <span className="fm-muted">{issue.code}</span>
                  </span>
                </li>
              ))}
            </ul>
          ) : null}
          <RunPanel doc={doc} valid={check.state === 'checked' && check.valid} />
        </div>
        <div className="fm-graph-panel">
          {model === undefined ? <p className="fm-muted">The graph appears once the document is a flow object.</p> : <FlowGraph model={model} label="Graph of the flow being edited" />}
        </div>
      </div>
    </section>
  )
}

function lineHeight(area: HTMLTextAreaElement): number {
  const value = Number.parseFloat(getComputedStyle(area).lineHeight)
  return Number.isFinite(value) ? value : 18
}

/** A textarea with a line-number gutter that marks the lines with problems. */
function CodeArea(props: { text: string; onChange: (text: string) => void; markers: ReadonlyMap<number, 'error' | 'warning'>; textareaRef: React.RefObject<HTMLTextAreaElement | null> }): React.JSX.Element {
  const gutter = useRef<HTMLDivElement>(null)
  const lines = props.text.split('\n').length
  return (
    <div className="fm-code-editor">
      <div className="fm-gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => {
          const marker = props.markers.get(i + 1)
          return (
            <div key={i} className={marker === undefined ? undefined : `marked ${marker}`}>
              {i + 1}
            </div>
          )
        })}
      </div>
      <textarea
        ref={props.textareaRef}
        className="fm-code"
        aria-label="Flow JSON"
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        wrap="off"
        value={props.text}
        onChange={(event) => props.onChange(event.target.value)}
        onScroll={(event) => {
          if (gutter.current !== null) gutter.current.scrollTop = event.currentTarget.scrollTop
        }}
        onKeyDown={(event) => {
          // Tab indents; Escape then Tab leaves the editor, so the keyboard is never trapped.
          if (event.key !== 'Tab' || event.shiftKey || (event.currentTarget.dataset.escaped ?? '') === 'true') return
          event.preventDefault()
          const area = event.currentTarget
          const { selectionStart, selectionEnd, value } = area
          props.onChange(value.slice(0, selectionStart) + '  ' + value.slice(selectionEnd))
          requestAnimationFrame(() => area.setSelectionRange(selectionStart + 2, selectionStart + 2))
        }}
        onKeyUp={(event) => {
          event.currentTarget.dataset.escaped = event.key === 'Escape' ? 'true' : 'false'
        }}
        aria-describedby="fm-editor-help"
      />
      <p id="fm-editor-help" className="fm-sr-only">
        Tab inserts two spaces; press Escape, then Tab, to leave the editor.
      </p>
    </div>
  )
}

/** Registers the flow (a new version only when it changed) and runs it with the given input. */
function RunPanel({ doc, valid }: { doc: unknown; valid: boolean }): React.JSX.Element {
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
