import { setImmediate as turn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { batchedLines } from '../../src/cli/batched-lines.js'

describe('batchedLines', () => {
  it('writes the lines of one turn of the event loop in one write, in order, by the next turn', async () => {
    const writes: string[] = []
    const lines = batchedLines({ write: (text) => writes.push(text) })
    lines.write('a\n')
    lines.write('b\n')
    expect(writes).toEqual([])
    await turn()
    expect(writes).toEqual(['a\nb\n'])
    lines.write('c\n')
    await turn()
    expect(writes).toEqual(['a\nb\n', 'c\n'])
    lines.close()
  })

  it('writes at once past 64 KiB waiting, and writes what waits when closed', () => {
    const writes: string[] = []
    const lines = batchedLines({ write: (text) => writes.push(text) })
    const big = `${'x'.repeat(70 * 1024)}\n`
    lines.write(big)
    expect(writes).toEqual([big])
    lines.write('last\n')
    lines.close()
    expect(writes).toEqual([big, 'last\n'])
  })
})
