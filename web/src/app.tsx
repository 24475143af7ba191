import { lazy, Suspense, useEffect, type ReactNode } from 'react'
import { apiKey, setApiKey } from './api.js'
import { Link } from './components.js'
import { KeyPrompt } from './key-prompt.js'
import { ExecutionsPage } from './pages/executions-page.js'
import { FlowsPage } from './pages/flows-page.js'
import { TasksPage } from './pages/tasks-page.js'
import { href, onLinkClick, parseRoute, useLocation, type Route } from './router.js'
import { ServerBanner } from './server-banner.js'

/** The editor (CodeMirror and the flow schema) is a chunk of its own: the other pages do not pay for it. */
const loadEditor = () => import('./pages/editor-page.js')
const EditorPage = lazy(() => loadEditor().then((m) => ({ default: m.EditorPage })))
/** Starts fetching the editor when a pointer or the keyboard reaches its link, before the click. */
const preloadEditor = (): void => void loadEditor()
/**
 * The pages that draw graphs (an execution, a flow) come with React Flow: a chunk of their own, so
 * that the executions list, where people land, does not wait for it. A pointer or the keyboard
 * reaching a link to one starts fetching it, before the click.
 */
const loadExecution = () => import('./pages/execution-page.js')
const loadFlow = () => import('./pages/flow-page.js')
const ExecutionPage = lazy(() => loadExecution().then((m) => ({ default: m.ExecutionPage })))
const FlowPage = lazy(() => loadFlow().then((m) => ({ default: m.FlowPage })))
function preloadLinked(event: Event): void {
  const link = event.target instanceof Element ? event.target.closest('a') : null
  const route = link === null || link.origin !== location.origin ? undefined : parseRoute(link.pathname)
  if (route?.page === 'execution') void loadExecution()
  else if (route?.page === 'flow') void loadFlow()
}

function Loading({ children }: { children: ReactNode }): React.JSX.Element {
  return <Suspense fallback={<p className="fm-muted">Loading…</p>}>{children}</Suspense>
}

const NAV = [
  { to: href.executions(), label: 'Executions', pages: ['executions', 'execution'] },
  { to: href.flows(), label: 'Flows', pages: ['flows', 'flow'] },
  { to: href.editor(), label: 'Editor', pages: ['editor'] },
  { to: href.tasks(), label: 'Task types', pages: ['tasks'] },
] as const

function Page({ route }: { route: Route }): React.JSX.Element {
  switch (route.page) {
    case 'executions':
      return <ExecutionsPage />
    case 'execution':
      return (
        <Loading>
          <ExecutionPage key={route.id} id={route.id} />
        </Loading>
      )
    case 'flows':
      return <FlowsPage />
    case 'flow':
      return (
        <Loading>
          <FlowPage key={route.id} id={route.id} />
        </Loading>
      )
    case 'editor':
      return (
        <Suspense fallback={<p className="fm-muted">Loading the editor…</p>}>
          <EditorPage />
        </Suspense>
      )
    case 'tasks':
      return <TasksPage />
    case 'not-found':
      return (
        <section className="fm-page">
          <h1>Not found</h1>
          <p>
            Nothing at this address. Go to the <Link to={href.executions()}>executions</Link>.
          </p>
        </section>
      )
  }
}

export function App(): React.JSX.Element {
  useEffect(() => {
    window.addEventListener('pointerover', preloadLinked, { passive: true })
    window.addEventListener('focusin', preloadLinked)
    return () => {
      window.removeEventListener('pointerover', preloadLinked)
      window.removeEventListener('focusin', preloadLinked)
    }
  }, [])
  const { pathname } = useLocation()
  const route = parseRoute(pathname)
  return (
    <>
      <a className="fm-skip" href="#fm-main">
        Skip to content
      </a>
      <header className="fm-top">
        <Link to={href.executions()} className="fm-brand">
          Flow Manager
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <a
                  href={item.to}
                  aria-current={(item.pages as readonly string[]).includes(route.page) ? 'page' : undefined}
                  onClick={onLinkClick}
                  {...(item.label === 'Editor' ? { onPointerEnter: preloadEditor, onFocus: preloadEditor } : {})}
                >
                  {item.label}
                </a>
              </li>
            ))}
            <li>
              <a href="/docs">API docs</a>
            </li>
          </ul>
        </nav>
        {apiKey() !== null ? (
          <button
            type="button"
            className="fm-button small fm-forget"
            onClick={() => {
              setApiKey(null)
              location.reload()
            }}
          >
            Forget key
          </button>
        ) : null}
      </header>
      <ServerBanner />
      <main id="fm-main" tabIndex={-1}>
        <Page route={route} />
      </main>
      <KeyPrompt />
    </>
  )
}
