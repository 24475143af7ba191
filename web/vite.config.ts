import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

const root = decodeURIComponent(new URL('.', import.meta.url).pathname)

/**
 * codemirror-json-schema renders its messages as Markdown with shiki, and its parser table brings
 * YAML and JSON5 parsers: neither is used by a JSON editor, and together they were half the
 * editor's chunk. Two of its modules are swapped for small local ones (web/src/editor/).
 */
function trimCodemirrorJsonSchema(): Plugin {
  const swaps: Record<string, string> = {
    '../utils/markdown': `${root}src/editor/plain-markdown.ts`,
    '../parsers': `${root}src/editor/json-only-parser.ts`,
  }
  return {
    name: 'flow-manager:trim-codemirror-json-schema',
    enforce: 'pre',
    resolveId(source, importer) {
      if (importer === undefined || !importer.includes('/codemirror-json-schema/dist/features/')) return null
      return swaps[source] ?? null
    },
  }
}

/** The UI is served by the API server under /ui/ (the README's "Web UI"); `npm run build` writes it to web/dist. */
export default defineConfig({
  // The build runs from the repository root; the UI's sources sit beside this file.
  root,
  base: '/ui/',
  plugins: [react(), trimCodemirrorJsonSchema()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The build's size table is the payload benchmark's first reading: keep the gzip column.
    reportCompressedSize: true,
    chunkSizeWarningLimit: 1600,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
})
