import pino, { type Logger } from 'pino';

/** A real pino logger whose JSON lines the test can read back. */
export function captureLogs(): { logger: Logger; lines: Array<Record<string, unknown>>; events: (event: string) => Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines, events: (event) => lines.filter((line) => line.event === event) };
}
