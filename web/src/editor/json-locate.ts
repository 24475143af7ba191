/** Where a JSON value sits in its source text: from its key (for members) to the end of the value. */
export interface Span {
  readonly start: number
  readonly end: number
}

const escapePointer = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1')

/**
 * Maps every JSON pointer of a document to its span in `text`, so that validation issues can be
 * shown where they are. `text` must be valid JSON (JSON.parse accepted it).
 */
export function locatePointers(text: string): Map<string, Span> {
  const spans = new Map<string, Span>()
  let i = 0
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++
  }
  const string = (): string => {
    const start = i
    i++
    while (i < text.length && text.charAt(i) !== '"') i += text.charAt(i) === '\\' ? 2 : 1
    i++
    return JSON.parse(text.slice(start, i)) as string
  }
  const value = (pointer: string, from: number): void => {
    ws()
    const start = from < 0 ? i : from
    const c = text.charAt(i)
    if (c === '{') {
      i++
      ws()
      while (text.charAt(i) !== '}' && i < text.length) {
        ws()
        const keyStart = i
        const key = string()
        ws()
        i++ // the colon
        value(`${pointer}/${escapePointer(key)}`, keyStart)
        ws()
        if (text.charAt(i) === ',') i++
        ws()
      }
      i++
    } else if (c === '[') {
      i++
      ws()
      let index = 0
      while (text.charAt(i) !== ']' && i < text.length) {
        value(`${pointer}/${index++}`, -1)
        ws()
        if (text.charAt(i) === ',') i++
        ws()
      }
      i++
    } else if (c === '"') {
      string()
    } else {
      while (i < text.length && !',}] \t\n\r'.includes(text.charAt(i))) i++
    }
    spans.set(pointer, { start, end: i })
  }
  value('', -1)
  return spans
}

/** The span of `pointer`, or of its nearest ancestor that exists (a missing field points into its parent). */
export function spanOf(spans: ReadonlyMap<string, Span>, pointer: string): Span | undefined {
  let p = pointer
  for (;;) {
    const span = spans.get(p)
    if (span !== undefined) return span
    if (p === '') return undefined
    p = p.slice(0, p.lastIndexOf('/'))
  }
}

/** 1-based line of an offset. */
export function lineOf(text: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++
  return line
}

/** Where JSON.parse stopped, from its message ("at position 12" or "line 2 column 5"), as an offset. */
export function syntaxErrorOffset(text: string, message: string): number | undefined {
  const position = /position (\d+)/.exec(message)
  if (position?.[1] !== undefined) return Number(position[1])
  const lineColumn = /line (\d+) column (\d+)/.exec(message)
  if (lineColumn?.[1] !== undefined && lineColumn[2] !== undefined) {
    const lines = text.split('\n').slice(0, Number(lineColumn[1]) - 1)
    return lines.reduce((sum, l) => sum + l.length + 1, 0) + Number(lineColumn[2]) - 1
  }
  return undefined
}
