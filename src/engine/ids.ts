import { randomUUID } from 'node:crypto'

/**
 * A time-ordered UUID (version 7, RFC 9562): ids sort by creation time, which keeps newest-first
 * paging and index inserts cheap. The random bits come from randomUUID, whose entropy is buffered
 * (randomBytes per id was the engine's largest cost per execution).
 */
export function uuidv7(now: number = Date.now()): string {
  const random = randomUUID()
  const time = Math.floor(now).toString(16).padStart(12, '0').slice(-12)
  // random: xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx (V already carries the RFC 9562 variant bits)
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`
}
