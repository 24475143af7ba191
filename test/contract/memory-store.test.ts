import { createMemoryStore } from '../../src/store/memory/memory-store.js'
import { describeStore } from './store-contract.js'

describeStore('memory', () => Promise.resolve({ store: createMemoryStore(), cleanup: () => Promise.resolve() }))
