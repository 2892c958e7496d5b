/** A record's text split into its YAML front matter and its Markdown body. */
export interface FrontMatterParts {
  yaml: string;
  /** File line of the YAML's first line (the line after the opening `---`). */
  yamlFirstLine: number;
  body: string;
  /** File line of the body's first line (the line after the closing `---`). */
  bodyFirstLine: number;
}

const FENCE = /^---[ \t]*$/;

/** Why a text has no front matter: no `---` line opens it, or none closes it. */
export type NoFrontMatter = 'missing' | 'unclosed';

/**
 * Splits `---`-fenced front matter from the body. Line endings must be LF already. Says which fence
 * is missing when the text does not start with a `---` line or the front matter is never closed.
 */
export function splitFrontMatter(text: string): FrontMatterParts | NoFrontMatter {
  const lines = text.split('\n');
  if (!FENCE.test(lines[0] ?? '')) {
    return 'missing';
  }
  const close = lines.findIndex((line, index) => index > 0 && FENCE.test(line));
  if (close === -1) {
    return 'unclosed';
  }
  return {
    yaml: lines.slice(1, close).join('\n'),
    yamlFirstLine: 2,
    body: lines.slice(close + 1).join('\n'),
    // A file that ends at the closing `---` has no line after it: its body is at that line.
    bodyFirstLine: Math.min(close + 2, lines.length),
  };
}
