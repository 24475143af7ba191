import flowSchema from '../../../schema/flow.schema.json'
import type { EditorSchema } from './code-editor.js'

type Node = { readonly [key: string]: unknown }

/**
 * The flow JSON Schema with every `$ref` to its `$defs` replaced by the definition itself.
 * codemirror-json-schema's completion does not follow a `$ref` under `items`, and the generated
 * schema refers to shared definitions everywhere; it has no recursion, so inlining terminates.
 */
function inline(value: unknown, defs: Node): unknown {
  if (Array.isArray(value)) return value.map((v) => inline(v, defs))
  if (typeof value !== 'object' || value === null) return value
  const { $ref, $defs: _defs, ...rest } = value as Node
  const out: Record<string, unknown> = {}
  if (typeof $ref === 'string' && $ref.startsWith('#/$defs/')) Object.assign(out, inline(defs[$ref.slice('#/$defs/'.length)], defs))
  for (const [key, v] of Object.entries(rest)) out[key] = inline(v, defs)
  return out
}

const whole = inline(flowSchema, flowSchema.$defs) as { anyOf?: readonly Node[] }
const forms = whole.anyOf ?? []
const isEnvelope = (s: Node): boolean => typeof s.properties === 'object' && s.properties !== null && Object.keys(s.properties).join() === 'flow'

/**
 * A flow document is a flow, or `{"flow": …}`. The schema says so with an `anyOf`, which the
 * completion cannot choose between in a half-typed document, so the editor is given the one form
 * the text is in.
 */
export const flowSchemas: { readonly envelope: EditorSchema; readonly bare: EditorSchema } = {
  envelope: (forms.find(isEnvelope) ?? whole) as EditorSchema,
  bare: (forms.find((s) => !isEnvelope(s)) ?? whole) as EditorSchema,
}

/** Whether a text is (or is becoming) a `{"flow": …}` envelope: its first key is "flow". */
export const looksLikeEnvelope = (text: string): boolean => /^\s*\{\s*"flow"\s*:/.test(text)
