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

/**
 * Splits `---`-fenced front matter from the body. Line endings must be LF already. Returns undefined
 * when the text does not start with a `---` line or the front matter is never closed.
 */
export function splitFrontMatter(text: string): FrontMatterParts | undefined {
  const lines = text.split('\n');
  if (!FENCE.test(lines[0] ?? '')) {
    return undefined;
  }
  const close = lines.findIndex((line, index) => index > 0 && FENCE.test(line));
  if (close === -1) {
    return undefined;
  }
  return {
    yaml: lines.slice(1, close).join('\n'),
    yamlFirstLine: 2,
    body: lines.slice(close + 1).join('\n'),
    bodyFirstLine: close + 2,
  };
}
