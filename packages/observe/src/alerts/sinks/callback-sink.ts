import type { AlertEvent } from '@bursar/core';
import type { AlertSink } from '../alert-sink.js';

/**
 * A sink that calls a function with each alert.
 *
 * @example
 * const sink = callbackSink((alert) => pager.notify(alert.message));
 */
export function callbackSink(
  callback: (alert: AlertEvent) => void | Promise<void>,
  options: { name?: string } = {},
): AlertSink {
  if (typeof callback !== 'function') throw new TypeError('callbackSink needs a function');
  return { name: options.name ?? 'callback', send: (alert) => callback(alert) };
}
