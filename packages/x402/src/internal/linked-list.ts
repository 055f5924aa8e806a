/** What a node of a {@link LinkedList} carries: its neighbours (the list writes them). */
export interface ListLinks<N> {
  prev?: N | undefined;
  next?: N | undefined;
}

/**
 * An intrusive doubly linked list: the nodes carry their own links, so appending, unlinking and
 * moving to the back are O(1) and allocate nothing. Used where an order is taken from the front
 * (oldest first) after many removals in the middle, which a Map does not do in O(1). Internal.
 */
export class LinkedList<N extends ListLinks<N>> {
  #head: N | undefined;
  #tail: N | undefined;

  /** The oldest node. */
  get head(): N | undefined {
    return this.#head;
  }

  /** The newest node. */
  get tail(): N | undefined {
    return this.#tail;
  }

  /** Links `node` (not in any list) at the back. */
  append(node: N): void {
    node.prev = this.#tail;
    node.next = undefined;
    if (this.#tail) this.#tail.next = node;
    else this.#head = node;
    this.#tail = node;
  }

  /** Takes `node` (in this list) out. */
  unlink(node: N): void {
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev;
    node.prev = undefined;
    node.next = undefined;
  }

  /** Moves `node` (in this list) to the back. */
  moveToBack(node: N): void {
    if (node === this.#tail) return;
    this.unlink(node);
    this.append(node);
  }
}
