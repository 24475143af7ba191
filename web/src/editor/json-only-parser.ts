import { parseJSONDocumentState } from 'codemirror-json-schema'

/**
 * Stands in for codemirror-json-schema's parser table, swapped in by web/vite.config.ts: the editor
 * edits JSON only, and the table's YAML and JSON5 parsers would add about 70 kB gzip to it.
 */
export const getDefaultParser = (): typeof parseJSONDocumentState => parseJSONDocumentState
