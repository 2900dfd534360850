/**
 * Display codes: one letter and two digits, `A00` … `Z99`, 2,600 of them, issued in order and
 * wrapping around.
 */
export const CODE_COUNT = 26 * 100;
export const CODE_PATTERN = /^[A-Z][0-9]{2}$/;

/** The code at position `index` (0 … 2599) of the cycle. */
export function codeAt(index: number): string {
  const i = ((index % CODE_COUNT) + CODE_COUNT) % CODE_COUNT;
  return `${String.fromCharCode(65 + Math.floor(i / 100))}${String(i % 100).padStart(2, '0')}`;
}

/** The position of a code in the cycle, or null when it is not a code. */
export function indexOf(code: string): number | null {
  if (!CODE_PATTERN.test(code)) return null;
  return (code.charCodeAt(0) - 65) * 100 + Number(code.slice(1));
}
