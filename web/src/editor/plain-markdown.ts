/**
 * Stands in for codemirror-json-schema's Markdown renderer (markdown-it with shiki highlighting,
 * about 150 kB gzip), swapped in by web/vite.config.ts. The texts it gets are schema descriptions
 * and validation messages: plain sentences with `code` spans, which is all this renders.
 */
const escape = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

export function renderMarkdown(markdown: string, inline = true): string {
  const html = escape(markdown).replace(/`([^`]+)`/g, '<code>$1</code>')
  return inline ? html : html.replaceAll('\n', '<br>')
}
