import { ObjectTag } from '../internal/object-tag.js';

/**
 * Which guarded facilitator produced a verify/settle answer. `guardFacilitator` tags every
 * answer object it returns; the seller guard looks the tag up to tell a facilitator's result
 * from one another hook made up (`skip` / `recovered`). The tag is a private field stamped on the
 * answer (see {@link ObjectTag}): it dies with the answer, and a copy of an answer is untagged.
 */
const origins = new ObjectTag<string>();

/** Records that `result` came from the facilitator `name`. */
export function tagFacilitatorResult(result: object, name: string): void {
  origins.set(result, name);
}

/** The name of the guarded facilitator that produced `result`, if any. */
export function facilitatorResultOrigin(result: unknown): string | undefined {
  return typeof result === 'object' && result !== null ? origins.get(result) : undefined;
}
