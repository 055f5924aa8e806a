import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { setup } from '../__fixtures__/engine.js';
import { parsePolicyText } from './files.js';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const yamlBlock = /```yaml\n([\s\S]*?)```/.exec(readme)![1]!;

describe('the README policy example', () => {
  it('validates and decides as its comments say', async () => {
    // Wednesday 2026-03-04 10:00 in Los Angeles.
    const clock = new ManualClock('2026-03-04T18:00:00Z');
    const { engine } = setup({ clock }, parsePolicyText(yamlBlock, { format: 'yaml' }) as never);
    const research = { agentId: 'research-7', currency: 'USDC', protocol: 'x402' as const };
    const outcome = async (intent: Record<string, unknown>) =>
      (await engine.authorize(intent as never)).outcome;
    expect(await outcome({ ...research, amount: '5', recipient: 'https://api.openai.example/v1/chat' })).toBe(
      'allow',
    );
    expect(await outcome({ ...research, amount: '5', recipient: 'https://pay.scam.example/x' })).toBe('deny');
    expect(await outcome({ ...research, amount: '5', recipient: 'https://elsewhere.example/' })).toBe(
      'require_approval',
    );
    expect(await outcome({ ...research, amount: '251', recipient: 'https://api.openai.example/v1' })).toBe(
      'deny',
    );
    expect(await outcome({ agentId: 'ops-1', action: 'db.drop_table' })).toBe('deny');
    expect(await outcome({ agentId: 'ops-1', action: 'transfer', params: { destination: 'vendor' } })).toBe(
      'require_approval',
    );
    clock.set('2026-03-05T07:00:00Z'); // 23:00 in Los Angeles
    expect(await outcome({ ...research, amount: '101', recipient: 'https://api.openai.example/v1' })).toBe(
      'require_approval',
    );
  });

  it('denies amounts in currencies it does not cover', async () => {
    const { engine } = setup({}, parsePolicyText(yamlBlock, { format: 'yaml' }) as never);
    const d = await engine.authorize({
      agentId: 'research-7',
      amount: '5',
      currency: 'EURC',
      protocol: 'x402',
      recipient: 'https://api.openai.example/v1',
    });
    expect(d.outcome).toBe('deny');
    expect(d.reasons[0]).toMatchObject({ code: 'currency_not_covered', details: { covered: ['USDC'] } });
  });
});
