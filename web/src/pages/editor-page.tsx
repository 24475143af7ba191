import { useEffect, useMemo, useRef, useState } from 'react'
import { api, flowPath, type FlowView, type Issue, type ValidationResult } from '../api.js'
import { ErrorBox, useTitle } from '../components.js'
import { CodeEditor, type CodeEditorHandle, type ExternalDiagnostic } from '../editor/code-editor.js'
import { flowSchemas, looksLikeEnvelope } from '../editor/flow-schema.js'
import { lineOf, locatePointers, spanOf, syntaxErrorOffset, type Span } from '../editor/json-locate.js'
import { RunPanel } from '../editor/run-panel.js'
import { FlowGraph } from '../graph/flow-graph.js'
import { preloadLayout } from '../graph/layout.js'
import { flowGraph } from '../graph/model.js'
import { readFlow } from '../graph/read-flow.js'
import { useLocation } from '../router.js'

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

/** The diagnostic of an issue: from its start to the end of that line, so that a large object is not all underlined. */
function diagnosticOf(text: string, issue: Located): ExternalDiagnostic | undefined {
  if (issue.span === undefined) return undefined
  const lineEnd = text.indexOf('\n', issue.span.start)
  const to = Math.min(issue.span.end, lineEnd < 0 ? text.length : lineEnd)
  return { from: issue.span.start, to: Math.max(to, issue.span.start + 1), severity: issue.severity, message: `${issue.message} (${issue.code} at ${issue.path === '' ? 'the document' : issue.path})` }
}

/**
 * Type or paste a flow in CodeMirror: completion and problems inline from the flow JSON Schema as
 * you type, and from the server's validation (debounced), also listed with their JSON paths; the
 * graph follows, and the flow can be registered and run.
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
  // The server's problems stay in the editor (moved along with edits) until its next answer.
  const [diagnostics, setDiagnostics] = useState<readonly ExternalDiagnostic[]>([])
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
        setDiagnostics([])
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
          const issues = [...result.errors.map((i) => locate(i, 'error')), ...result.warnings.map((i) => locate(i, 'warning'))]
          setCheck({ state: 'checked', valid: result.valid, issues })
          setDiagnostics(issues.map((i) => diagnosticOf(text, i)).filter((d) => d !== undefined))
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
  const editor = useRef<CodeEditorHandle>(null)
  const showSpan = (span: Span | undefined): void => {
    if (span !== undefined) editor.current?.select(span.start, span.end)
  }

  const issues = check.state === 'checked' ? check.issues : []
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
        <div className="fm-editor-main">
          <CodeEditor ref={editor} value={text} onChange={setText} schema={looksLikeEnvelope(text) ? flowSchemas.envelope : flowSchemas.bare} diagnostics={diagnostics} label="Flow JSON" />
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
        </div>
        <div className="fm-graph-panel">
          {model === undefined ? <p className="fm-muted">The graph appears once the document is a flow object.</p> : <FlowGraph model={model} label="Graph of the flow being edited" />}
        </div>
        <RunPanel doc={doc} valid={check.state === 'checked' && check.valid} />
      </div>
    </section>
  )
}
