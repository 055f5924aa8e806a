/**
 * Which guarded facilitator produced a verify/settle answer. `guardFacilitator` tags every
 * answer object it returns; the seller guard looks the tag up to tell a facilitator's result
 * from one another hook made up (`skip` / `recovered`). A WeakMap: tags die with the answers.
 */
const origins = new WeakMap<object, string>();

/** Records that `result` came from the facilitator `name`. */
export function tagFacilitatorResult(result: object, name: string): void {
  origins.set(result, name);
}

/** The name of the guarded facilitator that produced `result`, if any. */
export function facilitatorResultOrigin(result: unknown): string | undefined {
  return typeof result === 'object' && result !== null ? origins.get(result) : undefined;
}
