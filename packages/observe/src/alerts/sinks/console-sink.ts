import type { AlertEvent } from '@bursar/core';
import type { AlertSink } from '../alert-sink.js';

/** The console methods the console sink uses. */
export interface AlertLogger {
  info(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

/**
 * A sink that writes one line per alert: `info` → `logger.info`, `warning` → `logger.warn`,
 * `critical` → `logger.error`, followed by the facts object.
 *
 * @example
 * new SpendAlerts({ tracker, rules, sinks: [consoleSink()] });
 */
export function consoleSink(options: { logger?: AlertLogger; name?: string } = {}): AlertSink {
  const logger = options.logger ?? console;
  return {
    name: options.name ?? 'console',
    send(alert: AlertEvent) {
      const line = `[bursar] ${alert.severity} ${alert.kind}: ${alert.message}`;
      if (alert.severity === 'critical') logger.error(line, alert.facts);
      else if (alert.severity === 'warning') logger.warn(line, alert.facts);
      else logger.info(line, alert.facts);
    },
  };
}
