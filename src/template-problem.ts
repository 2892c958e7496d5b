import type { Problem } from './errors.js';

/**
 * A Handlebars error as a problem of its template file: the line, and what was wrong there. Syntax
 * errors come in three shapes: "Parse error on line N:\n<text>\n---^\nExpecting …", told as what was
 * expected near which text, since its first line alone says nothing; "Lexical error on line N.
 * Unrecognized text." (an unclosed comment or raw block), told near which text; and "each doesn't
 * match if - N:C" with a `lineNumber`. Anything else (a partial or helper a render could not find)
 * keeps its first line.
 */
export function templateProblem(file: string, error: unknown): Problem {
  const message = error instanceof Error ? error.message : String(error);
  const lineNumber = (error as { lineNumber?: unknown } | undefined)?.lineNumber;
  const [head = message, near, , expecting] = message.split('\n');
  const shape = /^(Parse|Lexical) error on line (\d+)/.exec(head);
  const line = typeof lineNumber === 'number' ? lineNumber : Number(shape?.[2] ?? Number.NaN);
  const nearText = `near "${near?.trim() ?? ''}"`;
  const syntax =
    shape?.[1] === 'Parse' && expecting !== undefined
      ? `${expecting} ${nearText}`
      : shape?.[1] === 'Lexical'
        ? `${head.replace(/^Lexical error on line \d+\. /, '')} ${nearText}`
        : typeof lineNumber === 'number'
          ? head
          : undefined;
  return { file, ...(Number.isNaN(line) ? {} : { line }), message: syntax === undefined ? head : `template syntax: ${syntax}` };
}
