import { BursarError } from '@bursar/core';
import { tool as langchainTool } from '@langchain/core/tools';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { tool as aiTool, generateText } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { setup } from '../__fixtures__/engine.js';
import type { PolicyInput } from '../policy/schema.js';
import { PolicyDeniedError } from './policy-denied-error.js';
import { protectTools } from './protect-tools.js';

const policy: PolicyInput = {
  id: 'tools',
  rules: [
    { id: 'no-evil', action: 'deny', when: { recipient: 'acct_evil' }, onMissing: 'no_match' },
    { id: 'no-delete', action: 'deny', when: { action: 'delete_*' } },
    { id: 'ok', action: 'allow' },
  ],
  budgets: [{ id: 'day', window: 'daily', maxAmount: 100, currency: 'USDC' }],
};

const transferInput = z.object({ to: z.string(), amount: z.string() });
type TransferInput = z.infer<typeof transferInput>;
const mapTransfer = (input: unknown) => {
  const i = input as TransferInput;
  return { amount: i.amount, currency: 'USDC', recipient: i.to };
};

async function day(engine: ReturnType<typeof setup>['engine']) {
  const [s] = await engine.getBudgetStatus({ budgetId: 'day' });
  return { spent: s!.spent, held: s!.held };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('protectTools: LangChain.js tools', () => {
  const makeTransfer = (sent: string[]) =>
    langchainTool(
      async ({ to, amount }: TransferInput) => {
        sent.push(`${amount}->${to}`);
        return `sent ${amount} to ${to}`;
      },
      { name: 'transfer', description: 'Send USDC', schema: transferInput },
    );

  it('gates tool.invoke: allowed calls run and are captured, denied calls throw and never run', async () => {
    const { engine } = setup({}, policy);
    const sent: string[] = [];
    const original = makeTransfer(sent);
    const [transfer] = protectTools([original], {
      engine,
      agentId: 'lc-bot',
      mapArgs: { transfer: mapTransfer },
    });
    expectTypeOf(transfer).toEqualTypeOf(original);

    await expect(transfer.invoke({ to: 'acct_1', amount: '12.5' })).resolves.toBe('sent 12.5 to acct_1');
    const denied = await rejection(transfer.invoke({ to: 'acct_evil', amount: '1' }));
    expect(PolicyDeniedError.isInstance(denied)).toBe(true);
    expect((denied as PolicyDeniedError).decision.reasons[0]!.ruleId).toBe('no-evil');
    expect(sent).toEqual(['12.5->acct_1']);
    expect(await day(engine)).toEqual({ spent: '12.500000', held: '0.000000' });
    // The original tool is untouched: it still runs without the engine.
    await original.invoke({ to: 'acct_2', amount: '1' });
    expect(await day(engine)).toEqual({ spent: '12.500000', held: '0.000000' });
  });

  it('a tool call (as a model emits it) returns a ToolMessage; onDenied turns a denial into content', async () => {
    const { engine } = setup({}, policy);
    const [transfer] = protectTools([makeTransfer([])], {
      engine,
      agentId: 'lc-bot',
      mapArgs: mapTransfer,
      onDenied: (e, { tool }) => `${tool} refused: ${e.decision.reasons[0]!.code}`,
    });
    const ok = await transfer.invoke({
      id: 'call_1',
      name: 'transfer',
      args: { to: 'acct_1', amount: '3' },
      type: 'tool_call',
    });
    expect(ok.content).toBe('sent 3 to acct_1');
    expect(ok.tool_call_id).toBe('call_1');
    const refused = await transfer.invoke({
      id: 'call_2',
      name: 'transfer',
      args: { to: 'acct_evil', amount: '3' },
      type: 'tool_call',
    });
    expect(refused.content).toBe('transfer refused: rule_deny');
    expect(await day(engine)).toEqual({ spent: '3.000000', held: '0.000000' });
  });

  it('a throwing LangChain tool releases its hold', async () => {
    const { engine } = setup({}, policy);
    const failing = langchainTool(
      async (_input: TransferInput): Promise<string> => {
        throw new Error('rail down');
      },
      { name: 'transfer', description: 'Send USDC', schema: transferInput },
    );
    const [transfer] = protectTools([failing], { engine, agentId: 'lc-bot', mapArgs: mapTransfer });
    await expect(transfer.invoke({ to: 'acct_1', amount: '9' })).rejects.toThrow('rail down');
    expect(await day(engine)).toEqual({ spent: '0.000000', held: '0.000000' });
  });
});

describe('protectTools: Vercel AI SDK tools', () => {
  const model = (calls: Array<{ id: string; input: TransferInput }>) =>
    new MockLanguageModelV3({
      doGenerate: async () => ({
        content: calls.map((c) => ({
          type: 'tool-call' as const,
          toolCallId: c.id,
          toolName: 'transfer',
          input: JSON.stringify(c.input),
        })),
        finishReason: { unified: 'tool-calls' as const, raw: undefined },
        usage: {
          inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
          outputTokens: { total: 1, text: 1, reasoning: 0 },
        },
        warnings: [],
      }),
    });

  it('gates execute as generateText runs it: allowed calls are captured, denied ones become tool errors', async () => {
    const { engine } = setup({}, policy);
    const sent: string[] = [];
    const tools = protectTools(
      {
        transfer: aiTool({
          description: 'Send USDC',
          inputSchema: transferInput,
          execute: async ({ to, amount }) => {
            sent.push(`${amount}->${to}`);
            return { ok: true, to, amount };
          },
        }),
      },
      { engine, agentId: 'ai-bot', mapArgs: { transfer: mapTransfer } },
    );
    const result = await generateText({
      model: model([
        { id: 'c1', input: { to: 'acct_1', amount: '20' } },
        { id: 'c2', input: { to: 'acct_evil', amount: '5' } },
      ]),
      tools,
      prompt: 'pay',
    });
    expect(result.toolResults.map((r) => [r.toolCallId, r.output])).toEqual([
      ['c1', { ok: true, to: 'acct_1', amount: '20' }],
    ]);
    const errors = result.content.filter((p) => p.type === 'tool-error');
    expect(errors.map((e) => [e.toolCallId, PolicyDeniedError.isInstance(e.error)])).toEqual([['c2', true]]);
    expect(sent).toEqual(['20->acct_1']);
    expect(await day(engine)).toEqual({ spent: '20.000000', held: '0.000000' });
  });

  it('execute called directly keeps its options; the original tool object is not changed', async () => {
    const { engine } = setup({}, policy);
    const original = aiTool({
      description: 'Send USDC',
      inputSchema: transferInput,
      execute: async ({ amount }, { toolCallId }) => `${toolCallId}:${amount}`,
    });
    const { transfer } = protectTools(
      { transfer: original },
      { engine, agentId: 'ai-bot', mapArgs: mapTransfer },
    );
    expect(transfer).not.toBe(original);
    expect(transfer.inputSchema).toBe(original.inputSchema);
    await expect(
      transfer.execute!({ to: 'acct_1', amount: '2' }, { toolCallId: 't9', messages: [] }),
    ).resolves.toBe('t9:2');
    expect(await day(engine)).toEqual({ spent: '2.000000', held: '0.000000' });
  });

  it('refuses a tool without execute (it would run unprotected elsewhere)', () => {
    const { engine } = setup({}, policy);
    const clientSide = aiTool({ description: 'Ask the user', inputSchema: z.object({ q: z.string() }) });
    const error = (() => {
      try {
        protectTools({ ask: clientSide }, { engine, agentId: 'ai-bot' });
      } catch (e) {
        return e;
      }
    })();
    expect(BursarError.hasCode(error, 'ERR_BURSAR_INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/tools\.ask has no execute/);
  });
});

describe('protectTools: MCP tool handlers', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function connect(server: McpServer): Promise<Client> {
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    await client.connect(clientTransport);
    closers.push(
      () => client.close(),
      () => server.close(),
    );
    return client;
  }

  const text = (r: unknown) => (r as { content: Array<{ text: string }> }).content[0]!.text;

  it('gates a registered tool in place: allowed calls are captured, denials come back as isError results', async () => {
    const { engine } = setup({}, policy);
    const server = new McpServer({ name: 'payments', version: '1.0.0' });
    const registered = server.registerTool(
      'transfer',
      { description: 'Send USDC', inputSchema: { to: z.string(), amount: z.string() } },
      async ({ to, amount }) => ({ content: [{ type: 'text', text: `sent ${amount} to ${to}` }] }),
    );
    const protectedTools = protectTools(
      { transfer: registered },
      { engine, agentId: 'mcp-bot', mapArgs: mapTransfer },
    );
    expect(protectedTools.transfer).toBe(registered);
    const client = await connect(server);

    const ok = await client.callTool({ name: 'transfer', arguments: { to: 'acct_1', amount: '30' } });
    expect(ok.isError).toBeFalsy();
    expect(text(ok)).toBe('sent 30 to acct_1');
    const denied = await client.callTool({ name: 'transfer', arguments: { to: 'acct_evil', amount: '1' } });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toMatch(/^Denied by policy: .*\(rule_deny\)$/);
    expect(await day(engine)).toEqual({ spent: '30.000000', held: '0.000000' });
  });

  it('an isError result releases the hold; protecting the same tool twice is refused', async () => {
    const { engine } = setup({}, policy);
    const server = new McpServer({ name: 'payments', version: '1.0.0' });
    const registered = server.registerTool(
      'transfer',
      { description: 'Send USDC', inputSchema: { to: z.string(), amount: z.string() } },
      async () => ({ content: [{ type: 'text', text: 'insufficient funds' }], isError: true }),
    );
    protectTools({ transfer: registered }, { engine, agentId: 'mcp-bot', mapArgs: mapTransfer });
    expect(() => protectTools({ transfer: registered }, { engine, agentId: 'mcp-bot' })).toThrow(
      /already protected/,
    );
    const client = await connect(server);
    const failed = await client.callTool({ name: 'transfer', arguments: { to: 'acct_1', amount: '40' } });
    expect(failed.isError).toBe(true);
    expect(await day(engine)).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('plain handler functions, including ones without input, are gated by name', async () => {
    const { engine } = setup({}, policy);
    const seen: string[] = [];
    const handlers = protectTools(
      {
        transfer: async ({ to, amount }: TransferInput) => {
          seen.push(`transfer ${amount} ${to}`);
          return { content: [{ type: 'text' as const, text: 'done' }] };
        },
        delete_account: async () => {
          seen.push('delete');
          return { content: [{ type: 'text' as const, text: 'deleted' }] };
        },
      },
      { engine, agentId: 'mcp-bot', mapArgs: { transfer: mapTransfer } },
    );
    const server = new McpServer({ name: 'payments', version: '1.0.0' });
    server.registerTool(
      'transfer',
      { description: 'Send', inputSchema: { to: z.string(), amount: z.string() } },
      handlers.transfer,
    );
    server.registerTool('delete_account', { description: 'Delete' }, handlers.delete_account);
    const client = await connect(server);
    expect(text(await client.callTool({ name: 'transfer', arguments: { to: 'acct_1', amount: '7' } }))).toBe(
      'done',
    );
    const refused = await client.callTool({ name: 'delete_account', arguments: {} });
    expect(refused.isError).toBe(true);
    expect(seen).toEqual(['transfer 7 acct_1']);
    expect(await day(engine)).toEqual({ spent: '7.000000', held: '0.000000' });
  });
});

describe('protectTools: input checks', () => {
  it('rejects unknown shapes, nameless tools and mapArgs for tools that are not there', () => {
    const { engine } = setup({}, policy);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return BursarError.isInstance(e) ? `${e.code} ${e.message}` : String(e);
      }
      return 'no error';
    };
    expect(code(() => protectTools([42], { engine, agentId: 'a' }))).toMatch(
      /^ERR_BURSAR_INVALID_ARGUMENT tools\[0\]/,
    );
    expect(code(() => protectTools([() => 1], { engine, agentId: 'a' }))).toMatch(/tools\[0\] has no name/);
    expect(
      code(() => protectTools({ a: () => 1 }, { engine, agentId: 'a', mapArgs: { b: () => ({}) } })),
    ).toMatch(/^ERR_BURSAR_INVALID_OPTIONS .*mapArgs\.b: names no tool/);
    expect(code(() => protectTools({ a: () => 1 }, { engine, agentId: 'a', nope: true } as never))).toMatch(
      /^ERR_BURSAR_INVALID_OPTIONS/,
    );
  });
});
