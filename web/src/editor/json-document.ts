import { syntaxTree } from '@codemirror/language'
import type { EditorState } from '@codemirror/state'
import { parseJSONDocumentState, type JSONPointersMap } from 'codemirror-json-schema'

/**
 * codemirror-json-schema's JSON document parser, with the value ranges its problems are drawn at
 * put right. It takes the node after a property's name for the value, but @lezer/json 1.0.3 and
 * later put the ":" there (and a "," or "]" after an array's object), so every problem would
 * underline a colon. Here a property's value is the node after the colon, and an object in an
 * array is its own value.
 */
export function parseJsonDocument(state: EditorState): { data: unknown; pointers: JSONPointersMap } {
  const parsed = parseJSONDocumentState(state)
  const tree = syntaxTree(state)
  const doc = state.doc
  const pointers: JSONPointersMap = new Map()
  for (const [pointer, where] of parsed.pointers) {
    const keyText = doc.sliceString(where.keyFrom, where.keyFrom + 1)
    if (keyText === '{' || keyText === '[') {
      pointers.set(pointer, { ...where, valueFrom: where.keyFrom, valueTo: where.keyTo })
      continue
    }
    if (!('valueFrom' in where) || doc.sliceString(where.valueFrom, where.valueTo) !== ':') {
      pointers.set(pointer, where)
      continue
    }
    // The property's name node; its value is the next sibling that is not the colon.
    const name = tree.resolveInner(where.keyFrom, 1)
    let value = name.nextSibling
    while (value !== null && value.name === ':') value = value.nextSibling
    pointers.set(pointer, value === null ? { keyFrom: where.keyFrom, keyTo: where.keyTo } : { ...where, valueFrom: value.from, valueTo: value.to })
  }
  return { data: parsed.data, pointers }
}
