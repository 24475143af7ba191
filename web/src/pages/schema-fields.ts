/** One input field of a task type, as the task types page lists it. */
export interface SchemaField {
  readonly name: string
  readonly type: string
  readonly required: boolean
  readonly description: string
  /** The default as JSON text, or '' for none. */
  readonly default: string
}

type Schema = { readonly [key: string]: unknown }
const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value)
const json = (value: unknown): string => JSON.stringify(value) ?? ''
const thousands = (n: unknown): string => (typeof n === 'number' ? n.toLocaleString('en-US') : json(n))

function range(low: unknown, high: unknown, unit = ''): string {
  if (low !== undefined && high !== undefined) return `${thousands(low)} to ${thousands(high)}${unit}`
  if (low !== undefined) return `at least ${thousands(low)}${unit}`
  if (high !== undefined) return `at most ${thousands(high)}${unit}`
  return ''
}

/** A JSON Schema in a few words: "integer, 0 to 86,400,000", "array of string or string". */
export function describeType(schema: unknown): string {
  if (!isSchema(schema)) return 'any'
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map(json).join(', ')}`
  if ('const' in schema) return json(schema.const)
  const union = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined
  if (union !== undefined) return union.map(describeType).join(' or ')
  const types = Array.isArray(schema.type) ? (schema.type as unknown[]) : schema.type === undefined ? [] : [schema.type]
  if (types.length === 0) return 'any'
  return types
    .map((type) => {
      if (type === 'array') return isSchema(schema.items) ? `array of ${describeType(schema.items)}` : 'array'
      const bounds =
        type === 'integer' || type === 'number'
          ? range(schema.minimum ?? schema.exclusiveMinimum, schema.maximum ?? schema.exclusiveMaximum)
          : type === 'string'
            ? range(schema.minLength, schema.maxLength, ' characters')
            : ''
      const format = typeof schema.format === 'string' ? ` (${schema.format})` : ''
      return `${String(type)}${format}${bounds === '' ? '' : `, ${bounds}`}`
    })
    .join(' or ')
}

/**
 * The fields of an object schema, in the order it lists them, or undefined for a schema that is
 * not an object with properties (the page then shows the schema itself).
 */
export function schemaFields(schema: unknown): { fields: SchemaField[]; otherKeys: 'allowed' | 'refused' } | undefined {
  if (!isSchema(schema) || !isSchema(schema.properties)) return undefined
  const required = new Set(Array.isArray(schema.required) ? schema.required : [])
  const fields = Object.entries(schema.properties).map(([name, field]): SchemaField => {
    const s = isSchema(field) ? field : {}
    return {
      name,
      type: describeType(s),
      required: required.has(name),
      description: typeof s.description === 'string' ? s.description : '',
      default: 'default' in s ? json(s.default) : '',
    }
  })
  return { fields, otherKeys: schema.additionalProperties === false ? 'refused' : 'allowed' }
}
