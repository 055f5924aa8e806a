/**
 * Recognises tool definitions of agent frameworks by their shape, so that none of those
 * frameworks is a dependency of this package.
 */

type AnyFn = (...args: never[]) => unknown;

/** A LangChain.js tool (`tool()`, `DynamicStructuredTool`, any `StructuredTool`). */
export interface LangChainToolShape {
  name: string;
  lc_namespace: unknown[];
  invoke: AnyFn;
  _call: (arg: unknown, runManager?: unknown, config?: { signal?: AbortSignal }) => unknown;
}

/** A tool of the Vercel AI SDK (`tool({ description, inputSchema, execute })`). */
export interface AiSdkToolShape {
  execute: (input: unknown, options?: { abortSignal?: AbortSignal }) => unknown;
}

/** What `McpServer.registerTool()` / `.tool()` of the MCP TypeScript SDK return. */
export interface McpRegisteredToolShape {
  inputSchema?: unknown;
  handler?: AnyFn;
  callback?: AnyFn;
  enable: AnyFn;
  disable: AnyFn;
  update: (updates: { callback: AnyFn }) => void;
}

/** An object with a `handler` function, as MCP-style tool definitions are written. */
export interface HandlerToolShape {
  name?: string;
  handler: AnyFn;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  (typeof v === 'object' || typeof v === 'function') && v !== null;

export function isLangChainTool(v: unknown): v is LangChainToolShape {
  return (
    isObject(v) &&
    typeof v._call === 'function' &&
    typeof v.invoke === 'function' &&
    typeof v.name === 'string' &&
    Array.isArray(v.lc_namespace)
  );
}

export function isMcpRegisteredTool(v: unknown): v is McpRegisteredToolShape {
  return (
    isObject(v) &&
    typeof v.update === 'function' &&
    typeof v.enable === 'function' &&
    typeof v.disable === 'function' &&
    (typeof v.handler === 'function' || typeof v.callback === 'function')
  );
}

export function isAiSdkTool(v: unknown): v is AiSdkToolShape {
  return isObject(v) && typeof v.execute === 'function';
}

/** An AI SDK tool without `execute`: it runs on the client or at the provider, not here. */
export function isAiSdkToolWithoutExecute(v: unknown): boolean {
  return (
    isObject(v) && v.execute === undefined && ('inputSchema' in v || 'parameters' in v) && !('handler' in v)
  );
}

export function isHandlerTool(v: unknown): v is HandlerToolShape {
  return isObject(v) && typeof v.handler === 'function';
}

/** An MCP tool result that reports failure (`isError: true`): the call did not succeed. */
export function isMcpErrorResult(result: unknown): boolean {
  return isObject(result) && result.isError === true;
}

/** The abort signal in a second call argument: MCP's `extra.signal` or the AI SDK's `abortSignal`. */
export function signalIn(value: unknown): AbortSignal | undefined {
  if (!isObject(value)) return undefined;
  const s = value.signal ?? value.abortSignal;
  return s instanceof AbortSignal ? s : undefined;
}

/** The `extra` argument the MCP SDK passes to tool handlers (a handler without input gets only it). */
export function isMcpExtra(v: unknown): boolean {
  return isObject(v) && v.signal instanceof AbortSignal && typeof v.sendRequest === 'function';
}
