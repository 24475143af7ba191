/** Builds an RFC 6901 JSON pointer from path segments, escaping `~` and `/`. */
export function pointer(segments: readonly (string | number)[]): string {
  let out = ''
  for (const segment of segments) {
    out += '/' + String(segment).replaceAll('~', '~0').replaceAll('/', '~1')
  }
  return out
}
