import { api, type TaskTypeView } from '../api.js'
import { ErrorBox, JsonBlock, useLoad, useTitle } from '../components.js'

/** The registered task types, with descriptions and input schemas. */
export function TasksPage(): React.JSX.Element {
  useTitle('Task types')
  const tasks = useLoad((signal) => api<{ items: readonly TaskTypeView[] }>('/api/v1/tasks', { signal }), [])
  return (
    <section className="fm-page">
      <header className="fm-page-head">
        <h1>Task types</h1>
      </header>
      <p className="fm-muted">
        A task runs the task type named by its <code>type</code>, or by its name when it has none.
      </p>
      <ErrorBox error={tasks.error} />
      <ul className="fm-cards">
        {tasks.data?.items.map((t) => (
          <li key={t.name} className="fm-card" data-task-type={t.name}>
            <h2 className="fm-mono">{t.name}</h2>
            <p>{t.description}</p>
            {t.input_schema === null ? (
              <p className="fm-muted small">Accepts any input.</p>
            ) : (
              <details className="fm-details">
                <summary>Input schema</summary>
                <JsonBlock value={t.input_schema} label={`Input schema of ${t.name}`} />
              </details>
            )}
          </li>
        ))}
      </ul>
    </section>
  )
}
