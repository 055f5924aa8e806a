import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkedList } from './linked-list.js';

interface N {
  id: number;
  prev: N | undefined;
  next: N | undefined;
}

const node = (id: number): N => ({ id, prev: undefined, next: undefined });

function forward(list: LinkedList<N>): number[] {
  const out: number[] = [];
  for (let n = list.head; n; n = n.next) out.push(n.id);
  return out;
}

function backward(list: LinkedList<N>): number[] {
  const out: number[] = [];
  for (let n = list.tail; n; n = n.prev) out.push(n.id);
  return out;
}

describe('LinkedList', () => {
  it('appends, unlinks at either end and in the middle, and moves to the back', () => {
    const list = new LinkedList<N>();
    const [a, b, c, d] = [node(1), node(2), node(3), node(4)];
    for (const n of [a, b, c, d]) list.append(n);
    expect(forward(list)).toEqual([1, 2, 3, 4]);
    list.moveToBack(b);
    expect(forward(list)).toEqual([1, 3, 4, 2]);
    list.moveToBack(b); // already at the back
    expect(forward(list)).toEqual([1, 3, 4, 2]);
    list.unlink(a);
    list.unlink(b);
    list.unlink(c);
    expect([forward(list), backward(list)]).toEqual([[4], [4]]);
    expect([a.prev, a.next, b.prev, b.next]).toEqual([undefined, undefined, undefined, undefined]);
    list.unlink(d);
    expect([list.head, list.tail]).toEqual([undefined, undefined]);
  });

  it('matches an array model under random appends, unlinks and moves (property)', () => {
    const op = fc.record({ kind: fc.constantFrom('append', 'unlink', 'move'), pick: fc.nat(50) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const list = new LinkedList<N>();
        let model: N[] = [];
        let nextId = 0;
        for (const o of ops) {
          if (o.kind === 'append' || model.length === 0) {
            const n = node(nextId++);
            list.append(n);
            model.push(n);
            continue;
          }
          const n = model[o.pick % model.length]!;
          model = model.filter((m) => m !== n);
          if (o.kind === 'unlink') list.unlink(n);
          else {
            list.moveToBack(n);
            model.push(n);
          }
        }
        const ids = model.map((n) => n.id);
        expect(forward(list)).toEqual(ids);
        expect(backward(list)).toEqual([...ids].reverse());
      }),
    );
  });
});
