/** The formats `renderGraph` draws, kept apart from the renderer so that the CLI can list them without loading it. */
export const GRAPH_FORMATS = ['mermaid', 'dot'] as const
export type GraphFormat = (typeof GRAPH_FORMATS)[number]
