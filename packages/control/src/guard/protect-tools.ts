import { BursarError, ErrorCode } from '@bursar/core';
import { z } from 'zod';
import { CallGate } from './call-gate.js';
import { copyArguments, refuseChanged } from './copy-arguments.js';
import {
  type CallGateOptions,
  callGateShape,
  fnOption,
  invalidOptions,
  parseOptions,
} from './gate-options.js';
import { type IntentFields, isPlainObject, jsonSafe } from './intent-fields.js';
import { PolicyDeniedError } from './policy-denied-error.js';
import {
  isAiSdkTool,
  isAiSdkToolWithoutExecute,
  isHandlerTool,
  isLangChainTool,
  isMcpErrorResult,
  isMcpExtra,
  isMcpRegisteredTool,
  signalIn,
} from './tool-shapes.js';

/** Reads intent fields (amount, currency, recipient …) from a tool's input. */
export type ToolArgsMapper = (
  input: unknown,
  context: { tool: string },
) => IntentFields | undefined | Promise<IntentFields | undefined>;

/** Options of {@link protectTools}. */
export interface ProtectToolsOptions extends CallGateOptions {
  /** The action name rules match for a tool (default: the tool's name). */
  action?: (tool: string) => string;
  /**
   * Intent fields from a tool's input: one function for all tools, or one per tool name.
   * Default `params`: the tool's input object.
   */
  mapArgs?: ToolArgsMapper | Record<string, ToolArgsMapper>;
  /**
   * Turns a denial into the tool's result (for example a message the model can read)
   * instead of throwing {@link PolicyDeniedError}.
   */
  onDenied?: (error: PolicyDeniedError, context: { tool: string }) => unknown;
}

/** A protected tool: functions become async (same parameters), tool objects keep their type. */
export type ProtectedTool<V> = V extends (...args: infer A) => infer R
  ? (...args: A) => Promise<Awaited<R>>
  : V;

/** The result of {@link protectTools}: the same array or record, each tool protected. */
export type ProtectedTools<T> = { [K in keyof T]: ProtectedTool<T[K]> };

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

const ProtectToolsSchema = z.strictObject({
  ...callGateShape,
  action: fnOption().optional(),
  mapArgs: z.union([fnOption(), z.record(z.string(), fnOption())]).optional(),
  onDenied: fnOption().optional(),
});

/** Handlers this module made, so that protecting twice (and authorizing twice) is refused. */
const PROTECTED = new WeakSet<object>();

/**
 * Puts agent tools under policy, recognised by their shape (none of these libraries is a
 * dependency): LangChain.js tools (`tool()` / any `StructuredTool`: a new tool object whose
 * calls are gated), Vercel AI SDK tools (`tool({ execute })`: a copy with a gated
 * `execute`), MCP SDK tools returned by `McpServer.registerTool()` / `.tool()` (their
 * handler is replaced in place), objects with a `handler`, and plain handler functions
 * `(input, extra)`. Pass an array, or a record whose keys are the tool names.
 *
 * Each call is authorized as the tool's name with its input as `params`, waits for
 * approval when required, runs, and is captured on success or released when it throws or
 * returns an MCP error result (`isError: true`). The input is deep-copied when the call
 * starts and the tool runs with that copy (as `guard()` does with its arguments), so what
 * runs is what was authorized; other arguments (MCP `extra`, AI SDK options) pass as they are.
 *
 * @example
 * const tools = protectTools(
 *   { transfer: tool({ description: 'Send money', inputSchema, execute }) },
 *   { engine, agentId: 'research-bot',
 *     mapArgs: { transfer: (i) => ({ amount: i.amount, currency: 'USDC', recipient: i.to }) } },
 * );
 */
export function protectTools<const T extends readonly unknown[] | Record<string, unknown>>(
  tools: T,
  options: ProtectToolsOptions,
): ProtectedTools<T> {
  const o = parseOptions(ProtectToolsSchema, options, 'protectTools') as ProtectToolsOptions;
  const gate = new CallGate(o);
  const { mapArgs, onDenied } = o;
  const actionOf = o.action ?? ((name: string) => name);

  const call = async (
    name: string,
    rawInput: unknown,
    signal: AbortSignal | undefined,
    invoke: (input: unknown) => unknown,
    isFailure?: (result: unknown) => boolean,
  ): Promise<unknown> => {
    // Copied before anything else: what is authorized is exactly what the tool runs with.
    const copied = copyArguments([rawInput]);
    const input = copied.values[0];
    const mapper =
      typeof mapArgs === 'function'
        ? mapArgs
        : mapArgs && Object.hasOwn(mapArgs, name)
          ? mapArgs[name]
          : undefined;
    const mapped = mapper === undefined ? undefined : await mapper(input, { tool: name });
    const fields: IntentFields =
      mapped?.params !== undefined ? mapped : { ...mapped, params: toolParams(input) };
    try {
      return await gate.run({
        action: actionOf(name),
        fields,
        invoke: (auth) => {
          refuseChanged(copied, auth.decision);
          return invoke(input);
        },
        ...(isFailure !== undefined ? { isFailure } : {}),
        ...(signal !== undefined ? { signal } : {}),
      });
    } catch (error) {
      if (onDenied !== undefined && PolicyDeniedError.isInstance(error))
        return onDenied(error, { tool: name });
      throw error;
    }
  };

  /** A gated handler `(input, extra)`; a handler called with only MCP's `extra` has no input. */
  const gatedHandler = (name: string, original: AnyFn, hasInput?: () => boolean): AnyFn => {
    const handler = function (this: unknown, ...args: unknown[]) {
      const withInput = hasInput ? hasInput() : !isMcpExtra(args[0]);
      const input = withInput ? args[0] : undefined;
      const extra = withInput ? args[1] : args[0];
      return call(
        name,
        input,
        signalIn(extra),
        (copy) => original.apply(this, withInput ? [copy, ...args.slice(1)] : args),
        isMcpErrorResult,
      );
    };
    Object.defineProperty(handler, 'name', { value: original.name, configurable: true });
    PROTECTED.add(handler);
    return handler;
  };

  const wrap = (tool: unknown, key: string | undefined, where: string): unknown => {
    if (isLangChainTool(tool)) {
      const name = tool.name;
      const original = tool._call as AnyFn;
      if (PROTECTED.has(original)) throw alreadyProtected(where);
      // A new tool that inherits everything from the original and gates `_call`, which
      // every LangChain invoke path reaches after validating the input.
      const wrapped = Object.create(tool) as typeof tool;
      const gated = function (
        this: unknown,
        arg: unknown,
        runManager?: unknown,
        config?: { signal?: AbortSignal },
      ) {
        return call(name, arg, config?.signal, (copy) => original.call(this, copy, runManager, config));
      };
      PROTECTED.add(gated);
      Object.defineProperty(wrapped, '_call', { value: gated, writable: true, configurable: true });
      return wrapped;
    }
    if (isMcpRegisteredTool(tool)) {
      const name = requireName(key, where);
      const original = (tool.handler ?? tool.callback) as AnyFn;
      if (PROTECTED.has(original)) throw alreadyProtected(where);
      tool.update({ callback: gatedHandler(name, original, () => tool.inputSchema !== undefined) });
      return tool;
    }
    if (isAiSdkTool(tool)) {
      const name = requireName(key, where);
      const original = tool.execute as AnyFn;
      if (PROTECTED.has(original)) throw alreadyProtected(where);
      const execute = function (this: unknown, ...args: unknown[]) {
        return call(name, args[0], signalIn(args[1]), (copy) =>
          original.apply(this, [copy, ...args.slice(1)]),
        );
      };
      PROTECTED.add(execute);
      return { ...tool, execute };
    }
    if (isAiSdkToolWithoutExecute(tool)) {
      throw new BursarError(
        ErrorCode.INVALID_ARGUMENT,
        `${where} has no execute(): it runs on the client or at the provider, so it cannot be protected here; leave it out or give it an execute`,
      );
    }
    if (isHandlerTool(tool)) {
      const name = requireName(nameOf(tool, key), where);
      if (PROTECTED.has(tool.handler)) throw alreadyProtected(where);
      return { ...tool, handler: gatedHandler(name, tool.handler as AnyFn) };
    }
    if (typeof tool === 'function') {
      if (PROTECTED.has(tool)) throw alreadyProtected(where);
      return gatedHandler(requireName(nameOf(tool, key), where), tool as AnyFn);
    }
    throw new BursarError(
      ErrorCode.INVALID_ARGUMENT,
      `${where} is not a tool protectTools knows: expected a LangChain tool, an AI SDK tool with execute, an MCP registered tool, an object with a handler, or a function`,
    );
  };

  let entries: Array<[key: string | undefined, tool: unknown, where: string]>;
  if (Array.isArray(tools)) {
    entries = tools.map((t, i) => [undefined, t, `tools[${i}]`]);
  } else if (isPlainObject(tools)) {
    entries = Object.entries(tools).map(([k, t]) => [k, t, `tools.${k}`]);
  } else {
    throw new BursarError(
      ErrorCode.INVALID_ARGUMENT,
      'protectTools needs an array of tools or a record of tools by name',
    );
  }
  if (mapArgs !== undefined && typeof mapArgs !== 'function') {
    const names = new Set(entries.map(([k, t]) => nameOf(t, k)));
    const unknownNames = Object.keys(mapArgs).filter((k) => !names.has(k));
    if (unknownNames.length > 0) {
      throw invalidOptions(
        'protectTools',
        unknownNames.map((k) => ({ path: `mapArgs.${k}`, message: 'names no tool in the set' })),
      );
    }
  }
  const wrapped = entries.map(([k, t, where]) => [k, wrap(t, k, where)] as const);
  return (
    Array.isArray(tools) ? wrapped.map(([, t]) => t) : Object.fromEntries(wrapped)
  ) as ProtectedTools<T>;
}

/** The name a tool is called by: a LangChain tool's own name, else its key, else its `name`. */
function nameOf(tool: unknown, key: string | undefined): string | undefined {
  if (isLangChainTool(tool)) return tool.name;
  if (key !== undefined) return key;
  if ((typeof tool === 'object' || typeof tool === 'function') && tool !== null) {
    const name = (tool as { name?: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  }
  return undefined;
}

/** Tool parameters from a tool's input: its object as is, else `{ input }`. */
function toolParams(input: unknown): Record<string, unknown> {
  if (input === undefined) return {};
  if (isPlainObject(input)) return jsonSafe(input) as Record<string, unknown>;
  return { input: jsonSafe(input) };
}

function requireName(name: unknown, where: string): string {
  if (typeof name === 'string' && name.trim() !== '') return name;
  throw new BursarError(
    ErrorCode.INVALID_ARGUMENT,
    `${where} has no name: pass tools as a record keyed by name, or give it a name`,
  );
}

function alreadyProtected(where: string): BursarError {
  return new BursarError(
    ErrorCode.INVALID_ARGUMENT,
    `${where} is already protected; protecting it again would authorize every call twice`,
  );
}
