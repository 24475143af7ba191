import { engineBench } from './engine-bench.js'
const rows = await engineBench({ quick: false })
console.log(rows[0]?.value, rows[0]?.baseline?.value)
