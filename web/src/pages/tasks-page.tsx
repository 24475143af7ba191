import { api, type TaskTypeView } from '../api.js'
import { ErrorBox, JsonBlock, useLoad, useTitle } from '../components.js'
import { schemaFields } from './schema-fields.js'

/** The registered task types, with descriptions and their input fields. */
export function TasksPage(): React.JSX.Element {
  useTitle('Task types')
  const tasks = useLoad((signal) => api<{ items: readonly TaskTypeView[] }>('/api/v1/tasks', { signal }), [])
  return (
    <section className="fm-page">
      <header className="fm-page-head">
        <h1>Task types</h1>
      </header>
      <p className="fm-muted">
        A task runs the task type named by its <code>type</code>, or by its name when it has none. Its <code>input</code> must fit the fields below.
      </p>
      <ErrorBox error={tasks.error} />
      <ul className="fm-cards wide">
        {tasks.data?.items.map((t) => (
          <li key={t.name} className="fm-card" data-task-type={t.name}>
            <h2 className="fm-mono">{t.name}</h2>
            <p>{t.description}</p>
            {t.input_schema === null ? <p className="fm-muted small">Accepts any input.</p> : <InputFields name={t.name} schema={t.input_schema} />}
          </li>
        ))}
      </ul>
    </section>
  )
}

function InputFields({ name, schema }: { name: string; schema: Record<string, unknown> }): React.JSX.Element {
  const described = schemaFields(schema)
  const raw = (
    <details className="fm-details">
      <summary>Input JSON Schema</summary>
      <JsonBlock value={schema} label={`Input schema of ${name}`} />
    </details>
  )
  if (described === undefined) return raw
  return (
    <>
      {described.fields.length === 0 ? (
        <p className="fm-muted small">No named fields.</p>
      ) : (
        <div className="fm-table-scroll">
          <table className="fm-table fm-fields">
            <caption className="fm-sr-only">Input fields of {name}</caption>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Type</th>
                <th scope="col">Required</th>
                <th scope="col">Description</th>
                <th scope="col">Default</th>
              </tr>
            </thead>
            <tbody>
              {described.fields.map((f) => (
                <tr key={f.name} data-field={f.name}>
                  <th scope="row" className="fm-mono">
                    {f.name}
                  </th>
                  <td data-label="Type">{f.type}</td>
                  <td data-label="Required">{f.required ? 'required' : 'optional'}</td>
                  <td data-label="Description">{f.description === '' ? <span className="fm-muted">—</span> : f.description}</td>
                  <td data-label="Default" className="fm-mono">{f.default === '' ? <span className="fm-muted">—</span> : f.default}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="fm-muted small">{described.otherKeys === 'allowed' ? 'Other keys are allowed and passed to the task as they are.' : 'No other keys are allowed.'}</p>
      {raw}
    </>
  )
}
