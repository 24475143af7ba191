import { renderGraph, type GraphFormat } from '../../core/graph.js'
import { parseFlow } from '../../core/parse-flow.js'
import { colorsFor, type CliIo } from '../cli-io.js'
import { EXIT } from '../exit-codes.js'
import { readJsonFile } from '../read-json.js'
import { writeInvalidFlow } from './flow-file.js'

/**
 * Draws a flow's tasks and conditions. Only the flow's own structure is checked, not whether its
 * task types are registered: a drawing does not run anything, so it needs no --tasks.
 */
export async function graphCommand(path: string, format: GraphFormat, io: CliIo): Promise<number> {
  const parsed = parseFlow(await readJsonFile(path, io.cwd))
  if (!parsed.ok) {
    writeInvalidFlow(io.stderr, colorsFor(io.stderr, io.env), path, parsed)
    return EXIT.usage
  }
  io.stdout.write(renderGraph(parsed.flow, format))
  return EXIT.ok
}
