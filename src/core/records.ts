/** Whether `value` is a plain object (not null, not an array): read field by field, never cast. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
