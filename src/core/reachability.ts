/**
 * Answers many "is there a path of one or more edges from a to b?" questions about one graph at
 * once, in time linear in the graph for the questions flows ask in practice. Answering each by a
 * walk costs O(questions × graph), which made validating a 6,000-task flow whose inputs read
 * other tasks' results take seconds. Here:
 * 1. strongly connected components (Tarjan) number the graph in reverse topological order, so
 *    a path from a to b needs comp(a) ≥ comp(b), and within one component it needs a cycle;
 * 2. a depth-first forest gives each node an interval; b inside a's interval means a path;
 * 3. the few questions neither settles (paths across branches that merged) are answered 32 at a
 *    time by propagating bit sets along the component graph in topological order.
 */
export function reachablePairs(n: number, next: readonly (readonly number[])[], pairs: readonly (readonly [number, number])[]): boolean[] {
  const { comp, count, cyclic } = components(n, next)
  const { pre, post } = depthFirst(n, next)
  const answers = new Array<boolean>(pairs.length).fill(false)
  const open: number[] = []
  pairs.forEach(([from, to], i) => {
    const a = comp[from] ?? 0
    const b = comp[to] ?? 0
    if (a === b) answers[i] = cyclic[a] === 1
    else if (a < b) answers[i] = false
    else if ((pre[from] ?? 0) < (pre[to] ?? 0) && (post[to] ?? 0) < (post[from] ?? 0)) answers[i] = true
    else open.push(i)
  })
  if (open.length > 0) settle(n, next, comp, count, pairs, open, answers)
  return answers
}

/** Tarjan's algorithm without recursion; components are numbered sinks first. */
function components(n: number, next: readonly (readonly number[])[]): { comp: Int32Array; count: number; cyclic: Uint8Array } {
  const index = new Int32Array(n).fill(-1)
  const low = new Int32Array(n)
  const comp = new Int32Array(n).fill(-1)
  const onStack = new Uint8Array(n)
  const stack: number[] = []
  const cyclicList: number[] = []
  let counter = 0
  let count = 0
  const frames: number[] = []
  const edge = new Int32Array(n)
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue
    frames.push(root)
    while (frames.length > 0) {
      const v = frames[frames.length - 1] ?? 0
      if (index[v] === -1) {
        index[v] = low[v] = counter++
        stack.push(v)
        onStack[v] = 1
      }
      const out = next[v] ?? []
      const e = edge[v] ?? 0
      if (e < out.length) {
        edge[v] = e + 1
        const w = out[e] ?? 0
        if (index[w] === -1) frames.push(w)
        else if (onStack[w] === 1) low[v] = Math.min(low[v] ?? 0, index[w] ?? 0)
        continue
      }
      frames.pop()
      const parent = frames[frames.length - 1]
      if (parent !== undefined) low[parent] = Math.min(low[parent] ?? 0, low[v] ?? 0)
      if (low[v] === index[v]) {
        let size = 0
        let w: number | undefined
        do {
          w = stack.pop() ?? v
          onStack[w] = 0
          comp[w] = count
          size++
        } while (w !== v)
        cyclicList.push(size > 1 || (next[v] ?? []).includes(v) ? 1 : 0)
        count++
      }
    }
  }
  return { comp, count, cyclic: Uint8Array.from(cyclicList) }
}

/** Pre- and post-order numbers of a depth-first forest, without recursion. */
function depthFirst(n: number, next: readonly (readonly number[])[]): { pre: Int32Array; post: Int32Array } {
  const pre = new Int32Array(n).fill(-1)
  const post = new Int32Array(n)
  const edge = new Int32Array(n)
  let clock = 0
  const frames: number[] = []
  for (let root = 0; root < n; root++) {
    if (pre[root] !== -1) continue
    pre[root] = clock++
    frames.push(root)
    while (frames.length > 0) {
      const v = frames[frames.length - 1] ?? 0
      const out = next[v] ?? []
      const e = edge[v] ?? 0
      if (e < out.length) {
        edge[v] = e + 1
        const w = out[e] ?? 0
        if (pre[w] === -1) {
          pre[w] = clock++
          frames.push(w)
        }
        continue
      }
      post[v] = clock++
      frames.pop()
    }
  }
  return { pre, post }
}

/** Answers the open questions by propagating 32 sources at a time over the component graph. */
function settle(
  n: number,
  next: readonly (readonly number[])[],
  comp: Int32Array,
  count: number,
  pairs: readonly (readonly [number, number])[],
  open: readonly number[],
  answers: boolean[],
): void {
  const successors: number[][] = Array.from({ length: count }, () => [])
  for (let v = 0; v < n; v++) {
    for (const w of next[v] ?? []) {
      const a = comp[v] ?? 0
      const b = comp[w] ?? 0
      if (a !== b) successors[a]?.push(b)
    }
  }
  const questions = new Map<number, number[]>()
  for (const i of open) {
    const source = comp[pairs[i]?.[0] ?? 0] ?? 0
    const list = questions.get(source)
    if (list === undefined) questions.set(source, [i])
    else list.push(i)
  }
  const sources = [...questions.keys()]
  const bit = new Map<number, number>()
  const seen = new Int32Array(count)
  for (let chunk = 0; chunk < sources.length; chunk += 32) {
    const group = sources.slice(chunk, chunk + 32)
    bit.clear()
    group.forEach((c, k) => bit.set(c, k))
    seen.fill(0)
    // Components are numbered sinks first, so every edge goes from a higher number to a lower one.
    for (let c = count - 1; c >= 0; c--) {
      const own = bit.get(c)
      const carry = (seen[c] ?? 0) | (own === undefined ? 0 : 1 << own)
      if (carry === 0) continue
      for (const d of successors[c] ?? []) seen[d] = (seen[d] ?? 0) | carry
    }
    group.forEach((source, k) => {
      for (const i of questions.get(source) ?? []) {
        const to = pairs[i]?.[1] ?? 0
        if (((seen[comp[to] ?? 0] ?? 0) & (1 << k)) !== 0) answers[i] = true
      }
    })
  }
}
