/**
 * simpleYamlValue reads front matter with js-yaml when the text is in a subset both YAML parsers read
 * alike, and leaves everything else to the yaml package: whatever it answers must be what the yaml
 * package answers, or nothing. Checked on records, on texts where js-yaml alone would differ, and on
 * mutants of records (a differential test: the yaml package is the reference).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as jsYaml from 'js-yaml';
import { parseDocument } from 'yaml';
import { createArticleParser } from '../src/content/parse-article.js';
import { simpleYamlValue } from '../src/simple-yaml.js';
import { parseYamlSource } from '../src/yaml-source.js';

/** The yaml package's reading, as the positions-keeping path makes it: an error or the value. */
function reference(text: string): { error: string } | { value: unknown } {
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) return { error: document.errors[0]?.message ?? '' };
  try {
    return { value: document.toJS({ maxAliasCount: 100 }) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Equal as values, own keys in the same order and the same prototypes (toEqual would let `{}` and `Object.create(null)` pass). */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const keysA = Reflect.ownKeys(a);
  const keysB = Reflect.ownKeys(b);
  return keysA.length === keysB.length && keysA.every((key, index) => key === keysB[index] && sameValue((a as Record<PropertyKey, unknown>)[key], (b as Record<PropertyKey, unknown>)[key]));
}

/** Why the fast reading of `text` is wrong, or undefined when it agrees with the yaml package or declines. */
function disagreement(text: string): string | undefined {
  const fast = simpleYamlValue(text);
  if (fast === undefined) return undefined;
  const expected = reference(text);
  if ('error' in expected) return `read as ${JSON.stringify(fast.value)} where the yaml package refuses it: ${expected.error}`;
  return sameValue(fast.value, expected.value) ? undefined : `read as ${JSON.stringify(fast.value)} where the yaml package reads ${JSON.stringify(expected.value)}`;
}

function frontMatter(record: string): string | undefined {
  const lines = record.replace(/\r\n?/g, '\n').split('\n');
  const close = lines.indexOf('---', 1);
  return lines[0] === '---' && close > 0 ? lines.slice(1, close).join('\n') : undefined;
}

const FIXTURES = path.resolve('test/fixtures/content/bad');
const RECORDS = readdirSync(FIXTURES).map((name) => readFileSync(path.join(FIXTURES, name), 'utf8'));

/** Every form of the subset, with the scalars that are easiest to read wrongly. */
const RICH = [
  'title: "Qu\\u00e9 \\x41 \\N \\_ \\L \\P \\0 \\a \\e \\/ \\" \\\\ end"',
  "topics: [talks, 'it''s', \"x y\", war]",
  'kicker: a#b c:d https://example.org/a?b=c#frag',
  'published: 2025-07-23T12:58:11+03:00',
  'images:',
  '  - url: https://example.org/i.png',
  "    alt: 'single '' quote'",
  '    section: null',
  '  - alt: x',
  'credits:',
  '  - one',
  '  - "two"',
  '# a comment',
  'summary: ~',
  'empty:',
].join('\n');

/** Texts the two parsers read differently: js-yaml alone would be wrong on each. */
const DIVERGENT = [
  'url: 0b101',
  'summary: +.5',
  'null: x',
  'Null: 1',
  'summary: "one\n{two"',
  'topics: [talks,: sports]',
  'title: &A fine head: 2cord',
  'topics: [talks, \nsports]\nx: y',
  'credits: [a, b]#c',
];

describe('simpleYamlValue', () => {
  it('reads records and the rich subset as the yaml package does', () => {
    const texts = [RICH, ...RECORDS.map(frontMatter).filter((text): text is string => text !== undefined)];
    const fast = texts.filter((text) => simpleYamlValue(text) !== undefined);
    expect(texts.map(disagreement).filter((problem) => problem !== undefined)).toEqual([]);
    // The rich text and the fine records take the fast path: the test is not passing by declining everything.
    expect(simpleYamlValue(RICH)).toBeDefined();
    expect(fast.length).toBeGreaterThanOrEqual(4);
  });

  it('declines every text on which js-yaml alone differs from the yaml package', () => {
    for (const text of DIVERGENT) {
      const theirs = reference(text);
      let alone: unknown;
      try {
        alone = { value: jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA }) };
      } catch (error) {
        alone = { error: (error as Error).message };
      }
      // Each text is a real difference (else it shows nothing), and the fast path leaves it alone.
      const differs = 'error' in theirs ? !(typeof alone === 'object' && alone !== null && 'error' in alone) : !sameValue((alone as { value?: unknown }).value, theirs.value);
      expect({ text, differs }).toEqual({ text, differs: true });
      expect({ text, fast: simpleYamlValue(text) }).toEqual({ text, fast: undefined });
    }
  });

  it('agrees with the yaml package on 20,000 mutants of records, or declines them', () => {
    const seeds = [RICH, ...RECORDS.map(frontMatter).filter((text): text is string => text !== undefined)];
    const alphabet = ': -[]{}#&*!|>\'"%@`\t\n,?ab1.\\~=<_0xoeE+\u00e9\u2028\r';
    let state = 0x2545f491;
    const random = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 4294967296;
    };
    const pick = (length: number): number => Math.floor(random() * length);
    const mutate = (text: string): string => {
      let result = text;
      for (let edits = 1 + pick(4); edits > 0; edits -= 1) {
        const at = pick(result.length + 1);
        const kind = random();
        if (kind < 0.5) result = result.slice(0, at) + alphabet[pick(alphabet.length)] + result.slice(at);
        else if (kind < 0.8) result = result.slice(0, at) + result.slice(at + 1 + pick(3));
        else {
          const from = pick(result.length);
          result = result.slice(0, at) + result.slice(from, from + 1 + pick(8)) + result.slice(at);
        }
      }
      return result;
    };
    const problems: string[] = [];
    let fast = 0;
    for (let run = 0; run < 20_000; run += 1) {
      const text = mutate(seeds[pick(seeds.length)] as string);
      if (simpleYamlValue(text) !== undefined) fast += 1;
      const problem = disagreement(text);
      if (problem !== undefined && problems.length < 5) problems.push(`${JSON.stringify(text)}: ${problem}`);
    }
    expect(problems).toEqual([]);
    expect(fast).toBeGreaterThan(5_000);
  });

  it('refuses deep nesting and odd characters without a stack overflow', () => {
    expect(simpleYamlValue(`a: ${'['.repeat(100_000)}`)).toBeUndefined();
    expect(simpleYamlValue('title: a\tb')).toBeUndefined();
    expect(simpleYamlValue('title: a\u2028b')).toBeUndefined();
  });
});

describe('parseYamlSource on the fast path', () => {
  it('finds lines only when a problem asks, the same lines as the positions-keeping parse', () => {
    const text = 'title: x\nimages:\n  - alt: y\n    section: Nowhere\nsource: z';
    const source = parseYamlSource(text, 'record.md', 2);
    expect(source.syntaxProblems).toEqual([]);
    expect(source.lineOf(['images', 0, 'section'])).toBe(5);
    expect(source.lineOf(['source'])).toBe(6);
    expect(source.lineOf(['missing'])).toBe(2);
  });

  it('gives a record the same problems, lines and article either way', () => {
    const parser = createArticleParser({ topics: [{ id: 'talks', title: 'Talks', match: ['talks'], minMatches: 1 }], timeZone: 'Europe/Kyiv' });
    const body = '\nThe talks went on.\n';
    const cases = [
      // Fast path: a fine record, and one whose problems the schema finds on a value js-yaml read.
      ['title: Fine', 'published: 2025-07-23T12:58:11+03:00', 'source: Wire', 'topics: [talks]'],
      ['title: Fine', 'published: yesterday', 'source: Wire', 'topics: [sport]', 'colour: blue', 'images:', '  - alt: x', '    section: Nowhere'],
    ];
    for (const lines of cases) {
      const simple = lines.join('\n');
      // The same record with a trailing space on every line: outside the subset, read by the yaml package.
      const positioned = lines.map((line) => `${line} `).join('\n');
      expect(simpleYamlValue(simple)).toBeDefined();
      expect(simpleYamlValue(positioned)).toBeUndefined();
      const fast = parser.parse(`---\n${simple}\n---${body}`, 'a.md', 'a');
      const slow = parser.parse(`---\n${positioned}\n---${body}`, 'a.md', 'a');
      expect({ ...fast, article: fast.article && { ...fast.article, contentHash: '' } }).toEqual({ ...slow, article: slow.article && { ...slow.article, contentHash: '' } });
    }
  });
});
