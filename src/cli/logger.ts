import { createRequire } from 'node:module';
import type { Logger } from 'pino';

// pino is loaded with the first logger, not with this module: most runs of `build` and `preview`
// never log, and loading it is a good part of their start-up.
const require = createRequire(import.meta.url);

/**
 * Structured logs on stderr: JSON lines when stderr is not a terminal (services, CI, tests),
 * readable lines on a terminal. Secrets never go in: callers log redacted values only.
 */
export function createLogger(terminal: boolean, level = 'info'): Logger {
  const pino = require('pino') as typeof import('pino');
  if (terminal) {
    return pino({ level, base: undefined }, pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true } }));
  }
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}
