import pino, { type Logger } from 'pino';

/**
 * Structured logs on stderr: JSON lines when stderr is not a terminal (services, CI, tests),
 * readable lines on a terminal. Secrets never go in: callers log redacted values only.
 */
export function createLogger(terminal: boolean, level = 'info'): Logger {
  if (terminal) {
    return pino({ level, base: undefined }, pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true } }));
  }
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}
