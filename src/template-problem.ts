import type { Problem } from './errors.js';

/**
 * A Handlebars error as a problem of its template file: the line, and what was wrong there. Parse
 * errors come in two shapes, "Parse error on line N:\n<text>\n---^\nExpecting …" and "each doesn't
 * match if - N:C" with a `lineNumber`; the first is told as what was expected near which text, since
 * its first line alone says nothing. Anything else (a partial or helper a render could not find) keeps
 * its first line.
 */
export function templateProblem(file: string, error: unknown): Problem {
  const message = error instanceof Error ? error.message : String(error);
  const lineNumber = (error as { lineNumber?: unknown } | undefined)?.lineNumber;
  const [head = message, near, , expecting] = message.split('\n');
  const line = typeof lineNumber === 'number' ? lineNumber : Number(/^Parse error on line (\d+)/.exec(head)?.[1] ?? Number.NaN);
  const syntax = expecting !== undefined && /^Parse error/.test(head) ? `${expecting} near "${near?.trim() ?? ''}"` : typeof lineNumber === 'number' ? head : undefined;
  return { file, ...(Number.isNaN(line) ? {} : { line }), message: syntax === undefined ? head : `template syntax: ${syntax}` };
}
