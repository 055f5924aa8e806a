import { describe, expect, it } from 'vitest';
import { pay, setup } from '../__fixtures__/engine.js';
import { canonicalRecipient, RecipientIndex, recipientHost } from './recipient.js';

const hits = (index: RecipientIndex, raw: string) => {
  const value = canonicalRecipient(raw).value;
  return Array.from(
    { length: index.size },
    (_, id) => index.match(value, () => recipientHost(value))[id] === 1,
  );
};

describe('RecipientIndex remembers its answers per recipient', () => {
  it('a repeated recipient gets the same answer as the first time, for every kind of entry', () => {
    const index = new RecipientIndex();
    index.add({ exact: ['https://api.example.com/v1/chat'] });
    index.add({ domain: ['example.com'] });
    index.add({ glob: ['https://*.vendor.example/*'] });
    index.add({ glob: ['0xabc*'] });
    const cases: Array<[string, boolean[]]> = [
      ['https://api.example.com/v1/chat', [true, true, false, false]],
      ['https://a.vendor.example/x', [false, false, true, false]],
      ['0xABCdef0000000000000000000000000000000000', [false, false, false, true]],
      ['https://elsewhere.test/', [false, false, false, false]],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [raw, want] of cases) expect(hits(index, raw), `${raw} (round ${round})`).toEqual(want);
    }
  });

  it('forgets them when a condition is added', () => {
    const index = new RecipientIndex();
    index.add({ exact: ['https://a.example/'] });
    expect(hits(index, 'https://b.example/')).toEqual([false]);
    index.add({ domain: ['b.example'] });
    expect(hits(index, 'https://b.example/')).toEqual([false, true]);
  });

  it('decisions about many recipients in turn stay right past the memo bound', async () => {
    const { engine } = setup(
      {},
      {
        id: 'p',
        rules: [
          { id: 'block-odd', action: 'deny', when: { recipient: { glob: ['https://odd-*.example/*'] } } },
          { action: 'allow' },
        ],
      },
    );
    for (let i = 0; i < 5_000; i++) {
      const kind = i % 2 === 0 ? 'even' : 'odd';
      const d = await engine.evaluate(pay({ recipient: `https://${kind}-${i % 4_500}.example/p` }));
      if (d.outcome !== (kind === 'odd' ? 'deny' : 'allow')) throw new Error(`recipient ${i}: ${d.outcome}`);
    }
  });
});
