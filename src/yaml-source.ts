import { createRequire } from 'node:module';
import type { Document, LineCounter } from 'yaml';
import type * as YamlModule from 'yaml';
import { z } from 'zod';
import type { Problem } from './errors.js';
import { plainJsonValue } from './plain-json.js';
import { simpleYamlValue } from './simple-yaml.js';

const require = createRequire(import.meta.url);

/**
 * The YAML parser, loaded at its first use (require keeps it from then on): a command whose
 * configuration is plain JSON and that reads no front matter (a send of a stored edition) never
 * loads it, some 60 ms of module loading. Required, not imported, so that parseYamlSource stays
 * synchronous; the package is CommonJS for Node.
 */
function yaml(): typeof YamlModule {
  return require('yaml') as typeof YamlModule;
}

/** A parsed YAML (or JSON) text that can say on which line a field sits. */
export interface YamlSource {
  readonly value: unknown;
  readonly syntaxProblems: Problem[];
  /** The 1-based line of the field at `path`, or of its nearest existing parent. */
  lineOf(path: readonly PropertyKey[]): number;
}

/**
 * Parses YAML (JSON is YAML) so that validation errors can name the line. Plain JSON (see
 * plainJsonValue) and YAML in the narrow subset records are written in (see simpleYamlValue) are read
 * without positions, which are found only if a problem asks for a line; any other text is read
 * keeping them.
 * `firstLine` is the file line of the text's first line (front matter starts after `---`);
 * `language` names what the writer wrote in syntax errors (a JSON config is not "invalid YAML" to them).
 */
export function parseYamlSource(text: string, file: string, firstLine = 1, language: 'YAML' | 'JSON' = 'YAML'): YamlSource {
  const plain = language === 'JSON' ? plainJsonValue(text) : simpleYamlValue(text);
  if (plain === undefined) return parseWithPositions(text, file, firstLine, language);
  let positioned: YamlSource | undefined;
  return {
    value: plain.value,
    syntaxProblems: [],
    lineOf: (path) => (positioned ??= parseWithPositions(text, file, firstLine, language)).lineOf(path),
  };
}

/** Parses YAML keeping every node's position. */
function parseWithPositions(text: string, file: string, firstLine: number, language: 'YAML' | 'JSON'): YamlSource {
  const { LineCounter, isNode, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const document: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntaxProblems: Problem[] = document.errors.map((error) => {
    // yaml reports an unclosed quote where the text ends; the writer needs the line where it opens.
    const opened = error.code === 'MISSING_CHAR' && /closing .?quote/.test(error.message) ? quoteStart(document, error.pos[0]) : undefined;
    return {
      file,
      line: lineCounter.linePos(opened ?? error.pos[0]).line + firstLine - 1,
      message: `invalid ${language}: ${error.message.split('\n')[0]}${opened === undefined ? '' : ' (the quote opens on this line)'}`,
    };
  });
  const lineOf = (path: readonly PropertyKey[]): number => {
    for (let depth = path.length; depth >= 0; depth -= 1) {
      const node = depth === 0 ? document.contents : document.getIn(path.slice(0, depth) as unknown[], true);
      if (isNode(node) && node.range) {
        return lineCounter.linePos(node.range[0]).line + firstLine - 1;
      }
    }
    return firstLine;
  };
  let value: unknown;
  if (syntaxProblems.length === 0) {
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // An alias to no anchor, or so many aliases that expanding them would exhaust memory.
      syntaxProblems.push({ file, line: aliasLine(document, lineCounter) + firstLine - 1, message: `invalid ${language}: ${(error as Error).message.split('\n')[0]}` });
    }
  }
  return { value, syntaxProblems, lineOf };
}

/** Where the quoted scalar that runs to `end` without its closing quote starts. */
function quoteStart(document: Document, end: number): number | undefined {
  const { visit } = yaml();
  let start: number | undefined;
  visit(document, {
    Scalar(_key, node) {
      if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && node.range && node.range[0] < end && node.range[1] >= end) {
        start = node.range[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return start;
}

/** The line of the first alias that names no anchor, else of the first alias (where an alias bomb starts). */
function aliasLine(document: Document, lineCounter: LineCounter): number {
  const { visit } = yaml();
  let first: number | undefined;
  let unresolved: number | undefined;
  visit(document, {
    Alias(_key, node) {
      const line = node.range ? lineCounter.linePos(node.range[0]).line : 1;
      first ??= line;
      if (node.resolve(document) === undefined) {
        unresolved = line;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return unresolved ?? first ?? 1;
}

/** What a value of each zod type is called in a problem ("must be text"), for people who do not read zod. */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object of fields',
};

/**
 * Turns zod issues into problems naming file, line and field (a dotted path). An unknown field is
 * reported on its own line, one problem per field, with `unknownField` as what is wrong (after the others).
 */
export function zodProblems(error: z.ZodError, file: string, source: YamlSource, unknownField: string): Problem[] {
  const unknown: Problem[] = [];
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        unknown.push({ file, line: source.lineOf(path), field: path.map(String).join('.'), message: unknownField });
      }
      continue;
    }
    problems.push({
      file,
      line: source.lineOf(issue.path),
      field: issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)',
      message: typeProblem(issue) ?? issue.message,
    });
  }
  return [...problems, ...unknown];
}

/**
 * zod says "Invalid input: expected string, received undefined" for a field that is not there and
 * "… received number" for one of the wrong type: "is required" and "must be text" say what to do.
 */
function typeProblem(issue: z.core.$ZodIssue): string | undefined {
  // A schema's own message (the content records have theirs) is kept.
  if (issue.code !== 'invalid_type' || !issue.message.startsWith('Invalid input: expected')) return undefined;
  if (/received undefined$/.test(issue.message)) return 'is required';
  const words = TYPE_WORDS[issue.expected];
  return words === undefined ? undefined : `must be ${words}`;
}
