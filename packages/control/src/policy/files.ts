import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { BursarError, ErrorCode, type PolicyRef } from '@bursar/core';
import { parse as parseYaml } from 'yaml';
import type { PolicyEngine } from '../engine/policy-engine.js';
import { ControlErrorCode } from '../errors/index.js';
import type { OperatorCapability } from '../operator/index.js';

/**
 * Reads a policy file: `.json` as JSON, `.yaml`/`.yml` as YAML, anything else as JSON and
 * then YAML. Returns the data unvalidated. Throws `ERR_BURSAR_POLICY_FILE`.
 */
export async function readPolicyFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new BursarError(
      ControlErrorCode.POLICY_FILE,
      `Cannot read policy file ${path}: ${(error as Error).message}`,
      {
        cause: error,
        details: { path },
      },
    );
  }
  return parsePolicyText(text, { path });
}

/** Parses policy text as JSON or YAML (by `format`, or by the path's extension). */
export function parsePolicyText(
  text: string,
  options: { path?: string; format?: 'json' | 'yaml' } = {},
): unknown {
  const ext = options.path ? extname(options.path).toLowerCase() : '';
  const format =
    options.format ?? (ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : undefined);
  const where = options.path ?? 'policy text';
  const fail = (kind: string, error: unknown) =>
    new BursarError(
      ControlErrorCode.POLICY_FILE,
      `Cannot parse ${where} as ${kind}: ${(error as Error).message}`,
      {
        cause: error,
        details: { ...(options.path ? { path: options.path } : {}), format: kind },
      },
    );
  if (format === 'json') {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw fail('JSON', error);
    }
  }
  if (format === undefined) {
    try {
      return JSON.parse(text);
    } catch {
      // Not JSON: YAML is a superset, try it next.
    }
  }
  try {
    return parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw fail('YAML', error);
  }
}

/** Options of {@link loadPolicyFile}. */
export interface LoadPolicyFileOptions {
  /** Needed once the engine has made its first decision. */
  operator?: OperatorCapability;
}

/**
 * Reads, validates and loads a JSON or YAML policy file into the engine.
 *
 * @example
 * await loadPolicyFile(engine, './policies/production.yaml');
 */
export async function loadPolicyFile(
  engine: PolicyEngine,
  path: string,
  options: LoadPolicyFileOptions = {},
): Promise<PolicyRef> {
  const data = await readPolicyFile(path);
  return engine.loadPolicy(data as never, options.operator ? { operator: options.operator } : {});
}

/** Options of {@link watchPolicyFile}. */
export interface WatchPolicyFileOptions extends LoadPolicyFileOptions {
  /** A changed file that cannot be read, parsed or validated: the old policy stays in force. */
  onError?: (error: unknown) => void;
  /** A changed file was loaded. */
  onReload?: (ref: PolicyRef) => void;
  /** Quiet time after the last change before reloading (default 50 ms). */
  debounceMs?: number;
}

/** A running policy-file watch. */
export interface PolicyWatcher {
  /** The policy the file last loaded successfully. */
  readonly current: PolicyRef;
  /** Stops watching; pending reloads are dropped. */
  close(): void;
}

/**
 * Loads a policy file, then reloads it whenever it changes. A change that does not
 * validate keeps the old policy in force, and is reported to `onError` and as a
 * `control.changed` event of kind `policy.reload_failed`. Resolves once the first load
 * succeeded (and rejects if it did not). Call `close()` when done.
 *
 * @example
 * const watcher = await watchPolicyFile(engine, 'policy.yaml', { operator, onError: console.error });
 * // … later
 * watcher.close();
 */
export async function watchPolicyFile(
  engine: PolicyEngine,
  path: string,
  options: WatchPolicyFileOptions = {},
): Promise<PolicyWatcher> {
  const file = resolve(path);
  let current = await loadPolicyFile(engine, file, options);
  const debounceMs = options.debounceMs ?? 50;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let queue: Promise<void> = Promise.resolve();

  const reload = async () => {
    if (closed) return;
    try {
      const data = await readPolicyFile(file);
      if (closed) return;
      const id = (data as { id?: unknown } | null)?.id;
      const renamed = typeof id === 'string' && id !== current.id;
      if (renamed && !options.operator) {
        throw new BursarError(
          ErrorCode.UNAUTHORIZED,
          `The file now holds policy "${id}" instead of "${current.id}": replacing a policy needs an operator`,
          { status: 403 },
        );
      }
      const ref = engine.loadPolicy(data as never, options.operator ? { operator: options.operator } : {});
      const previous = current;
      current = ref;
      if (renamed && options.operator) engine.removePolicy(options.operator, previous.id);
      if (ref.hash !== previous.hash) options.onReload?.(ref);
    } catch (error) {
      engine.events.emit('control.changed', {
        at: engine.clock.now(),
        kind: 'policy.reload_failed',
        actor: options.operator?.actor ?? `file:${file}`,
        target: current.id,
        reason: error instanceof Error ? error.message : String(error),
        details: { path: file, ...(BursarError.isInstance(error) ? { code: error.code } : {}) },
      });
      options.onError?.(error);
    }
  };

  const watcher: FSWatcher = watch(dirname(file), (_event, name) => {
    if (closed || (name !== null && name !== basename(file))) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      queue = queue.then(reload);
    }, debounceMs);
  });
  watcher.on('error', (error) => options.onError?.(error));

  return {
    get current() {
      return current;
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
