import { indentWithTab } from '@codemirror/commands'
import { json, jsonLanguage, jsonParseLinter } from '@codemirror/lang-json'
import { linter, lintGutter, type Diagnostic } from '@codemirror/lint'
import { EditorState, StateEffect, StateField } from '@codemirror/state'
import { EditorView, hoverTooltip, keymap, type ViewUpdate } from '@codemirror/view'
import { basicSetup } from 'codemirror'
import { handleRefresh, jsonCompletion, jsonSchemaHover, JSONValidation, stateExtensions, updateSchema } from 'codemirror-json-schema'
import { useEffect, useImperativeHandle, useRef, type Ref } from 'react'
import { parseJsonDocument } from './json-document.js'

/** A problem found outside the editor (the server's validation), at a range of the text it judged. */
export interface ExternalDiagnostic {
  readonly from: number
  readonly to: number
  readonly severity: 'error' | 'warning'
  readonly message: string
}

export interface CodeEditorHandle {
  /** Selects a range, scrolls it into view and focuses the editor. */
  select(from: number, to: number): void
}

export interface CodeEditorProps {
  readonly value: string
  readonly onChange: (text: string) => void
  readonly schema: EditorSchema
  /** Shown inline beside what the JSON Schema finds; replaced whenever the prop changes. */
  readonly diagnostics: readonly ExternalDiagnostic[]
  readonly label: string
  readonly ref?: Ref<CodeEditorHandle>
}

/** A JSON Schema, as codemirror-json-schema takes it. */
export type EditorSchema = NonNullable<Parameters<typeof stateExtensions>[0]>

const setExternal = StateEffect.define<readonly ExternalDiagnostic[]>()

/** The server's diagnostics, carried along with edits until the next answer replaces them. */
const externalField = StateField.define<readonly ExternalDiagnostic[]>({
  create: () => [],
  update(value, tr) {
    for (const effect of tr.effects) if (effect.is(setExternal)) return effect.value
    if (!tr.docChanged) return value
    return value.map((d) => {
      const from = tr.changes.mapPos(d.from, 1)
      return { ...d, from, to: Math.max(from, tr.changes.mapPos(d.to, -1)) }
    })
  },
})

const externalChanged = (update: ViewUpdate): boolean => update.transactions.some((tr) => tr.effects.some((e) => e.is(setExternal)))

/** Where a problem's underline ends: at the end of its first line, so that a whole object is not underlined. */
const firstLineEnd = (state: EditorState, from: number, to: number): number => Math.max(Math.min(to, state.doc.lineAt(from).to), Math.min(from + 1, to))

const overlaps = (a: { from: number; to: number }, b: { from: number; to: number }): boolean => a.from <= b.to && b.from <= a.to

/**
 * The JSON Schema's findings (at once, as one types) and the server's (when it answers), as one
 * list. Where both speak of the same text, the server's message wins: it names the rule and often
 * the fix ("did you mean …").
 */
function combinedLinter(): (view: EditorView) => Diagnostic[] {
  const schema = new JSONValidation({ jsonParser: parseJsonDocument })
  return (view) => {
    const external = view.state.field(externalField)
    const fromSchema = schema.doValidation(view).map((d) => ({ ...d, to: firstLineEnd(view.state, d.from, d.to), source: 'flow schema' }))
    return [
      ...external.map((d): Diagnostic => ({ ...d, source: 'server' })),
      ...fromSchema.filter((d) => !external.some((e) => overlaps(e, d))),
    ]
  }
}

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '0.82rem', backgroundColor: 'var(--code-bg)', color: 'var(--text)' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.4' },
  '.cm-gutters': { backgroundColor: 'var(--panel)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
  '.cm-activeLine, .cm-activeLineGutter': { backgroundColor: 'color-mix(in srgb, var(--accent) 8%, transparent)' },
  '&.cm-focused': { outline: '3px solid var(--focus)', outlineOffset: '-3px' },
  '.cm-tooltip': { backgroundColor: 'var(--panel)', color: 'var(--text)', border: '1px solid var(--border)', maxWidth: '32rem' },
  '.cm-diagnostic': { whiteSpace: 'pre-wrap' },
})

/**
 * CodeMirror 6 for a JSON document checked against a JSON Schema: completion and hover from the
 * schema, problems inline (underlined, marked in the gutter, listed in a tooltip), from the schema
 * and from `diagnostics`. Tab indents; Escape then Tab leaves the editor, so the keyboard is never trapped.
 */
export function CodeEditor({ value, onChange, schema, diagnostics, label, ref }: CodeEditorProps): React.JSX.Element {
  const host = useRef<HTMLDivElement>(null)
  const view = useRef<EditorView | undefined>(undefined)
  const onChangeRef = useRef(onChange)
  onChangeRef.current = onChange

  useEffect(() => {
    if (host.current === null) return
    const editor = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          keymap.of([indentWithTab]),
          json(),
          stateExtensions(schema),
          externalField,
          linter(jsonParseLinter(), { delay: 150 }),
          linter(combinedLinter(), { delay: 150, needsRefresh: (update) => handleRefresh(update) || externalChanged(update) }),
          lintGutter(),
          jsonLanguage.data.of({ autocomplete: jsonCompletion({ jsonParser: parseJsonDocument }) }),
          hoverTooltip(jsonSchemaHover()),
          theme,
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) onChangeRef.current(update.state.doc.toString())
          }),
        ],
      }),
    })
    view.current = editor
    return () => {
      editor.destroy()
      view.current = undefined
    }
    // The editor is made once; value, schema and diagnostics reach it through the effects below.
  }, [])

  // A new text from outside (a loaded flow, the seed): replace the document, keep the history.
  useEffect(() => {
    const editor = view.current
    if (editor === undefined || editor.state.doc.toString() === value) return
    editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } })
  }, [value])

  useEffect(() => {
    if (view.current !== undefined) updateSchema(view.current, schema)
  }, [schema])

  useEffect(() => {
    const editor = view.current
    if (editor === undefined) return
    editor.dispatch({ effects: setExternal.of(diagnostics) })
  }, [diagnostics])

  useImperativeHandle(ref, () => ({
    select(from, to) {
      const editor = view.current
      if (editor === undefined) return
      const length = editor.state.doc.length
      editor.dispatch({ selection: { anchor: Math.min(from, length), head: Math.min(to, length) }, scrollIntoView: true })
      editor.focus()
    },
  }))

  return <div className="fm-code-editor" ref={host} />
}
