/** The smallest table; it doubles before it is half full, so probe runs stay short. */
const MIN_TABLE = 16;

/**
 * The positions of the recent ring that hold a payment with a hold id, by hold id: an
 * open-addressing hash table (linear probing, deletion by backward shift, so no tombstones and
 * no rehash while the number of keys stays put) in typed arrays. Internal.
 *
 * Why not a `Map`: the ring replaces its oldest payment with every new one, so the map saw a
 * delete and a set per payment. A `Map` rebuilds its whole table every few thousand of those
 * (deleted entries are only reclaimed then), and deleting a key reads the old record and its
 * hold id string, both long out of the cache. Here a key's hash is kept per ring position, so
 * forgetting a position reads neither, and a look-up compares stored hashes before it touches a
 * key string. The table only grows (doubling, while the ring fills), never shrinks.
 *
 * Hashes are seeded per instance, so which hold ids collide cannot be known from outside.
 */
export class HoldIndex {
  /** Per table slot: ring position + 1, or 0 when the slot is empty. */
  #slotPos: Int32Array;
  /** Per table slot: the hash of its key. */
  #slotHash: Int32Array;
  /** Per table slot: its key. */
  #slotKey: (string | undefined)[];
  #mask: number;
  /** Per ring position: the hash of its key (valid when {@link #posUsed} is 1). */
  #posHash: Int32Array;
  #posUsed: Uint8Array;
  readonly #positions: number;
  readonly #seed: number;
  #size = 0;

  /** @param positions the ring's capacity: positions are `0 … positions − 1`. */
  constructor(positions: number, seed = (Math.random() * 0x1_0000_0000) | 0) {
    this.#positions = positions;
    this.#seed = seed;
    this.#slotPos = new Int32Array(MIN_TABLE);
    this.#slotHash = new Int32Array(MIN_TABLE);
    this.#slotKey = new Array<string | undefined>(MIN_TABLE).fill(undefined);
    this.#mask = MIN_TABLE - 1;
    const initial = Math.min(positions, MIN_TABLE);
    this.#posHash = new Int32Array(initial);
    this.#posUsed = new Uint8Array(initial);
  }

  /** Keys held. */
  get size(): number {
    return this.#size;
  }

  /** The seeded 32-bit hash of a key (pass it to {@link find} and {@link set}). */
  hash(key: string): number {
    let h = this.#seed ^ key.length;
    for (let i = 0; i < key.length; i++) {
      h = Math.imul(h ^ key.charCodeAt(i), 0x5bd1e995);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return h ^ (h >>> 16);
  }

  /** The position that holds `key` (whose hash, a 32-bit integer, is `hash`), or −1. */
  find(key: string, hash: number): number {
    const mask = this.#mask;
    const pos = this.#slotPos;
    const hashes = this.#slotHash;
    for (let i = hash & mask; pos[i] !== 0; i = (i + 1) & mask) {
      if (hashes[i] === hash && this.#slotKey[i] === key) return pos[i]! - 1;
    }
    return -1;
  }

  /**
   * Records that position `position` holds `key` (hash `hash`). The position must hold no key
   * (forget it first), and `key` must not be held elsewhere.
   */
  set(position: number, key: string, hash: number): void {
    if (position >= this.#posHash.length) this.#growPositions(position);
    if ((this.#size + 1) * 2 > this.#slotPos.length) this.#growTable();
    this.#posHash[position] = hash;
    this.#posUsed[position] = 1;
    this.#place(position + 1, hash, key);
    this.#size++;
  }

  /** Forgets the key of position `position`, if it holds one. */
  delete(position: number): void {
    if (position >= this.#posUsed.length || this.#posUsed[position] === 0) return;
    this.#posUsed[position] = 0;
    const mask = this.#mask;
    const pos = this.#slotPos;
    const hashes = this.#slotHash;
    const keys = this.#slotKey;
    let i = this.#posHash[position]! & mask;
    while (pos[i] !== position + 1) i = (i + 1) & mask;
    // Backward shift: move each later entry of the run that may sit in the hole into it.
    for (let j = (i + 1) & mask; pos[j] !== 0; j = (j + 1) & mask) {
      const home = hashes[j]! & mask;
      // The entry at j stays when its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      pos[i] = pos[j]!;
      hashes[i] = hashes[j]!;
      keys[i] = keys[j];
      i = j;
    }
    pos[i] = 0;
    keys[i] = undefined;
    this.#size--;
  }

  #place(value: number, hash: number, key: string): void {
    const mask = this.#mask;
    const pos = this.#slotPos;
    let i = hash & mask;
    while (pos[i] !== 0) i = (i + 1) & mask;
    pos[i] = value;
    this.#slotHash[i] = hash;
    this.#slotKey[i] = key;
  }

  #growTable(): void {
    const oldPos = this.#slotPos;
    const oldHash = this.#slotHash;
    const oldKey = this.#slotKey;
    const size = oldPos.length * 2;
    this.#slotPos = new Int32Array(size);
    this.#slotHash = new Int32Array(size);
    this.#slotKey = new Array<string | undefined>(size).fill(undefined);
    this.#mask = size - 1;
    for (let i = 0; i < oldPos.length; i++) {
      if (oldPos[i] !== 0) this.#place(oldPos[i]!, oldHash[i]!, oldKey[i]!);
    }
  }

  #growPositions(position: number): void {
    let size = Math.max(this.#posHash.length, MIN_TABLE);
    while (size <= position) size *= 2;
    size = Math.min(size, Math.max(this.#positions, position + 1));
    const hashes = new Int32Array(size);
    hashes.set(this.#posHash);
    const used = new Uint8Array(size);
    used.set(this.#posUsed);
    this.#posHash = hashes;
    this.#posUsed = used;
  }
}
