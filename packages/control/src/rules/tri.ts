/**
 * Three-valued result of a condition: it holds, it does not, or the field it looks at is
 * missing from the intent (or has a type the operator cannot compare), so it cannot tell.
 */
export const FALSE = 0;
export const TRUE = 1;
export const MISSING = 2;
export type Tri = typeof FALSE | typeof TRUE | typeof MISSING;

/** Combines condition results: any FALSE wins, then MISSING, else TRUE. */
export function and(a: Tri, b: Tri): Tri {
  if (a === FALSE || b === FALSE) return FALSE;
  return a === MISSING || b === MISSING ? MISSING : TRUE;
}
