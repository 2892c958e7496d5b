import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createArticleParser } from '../../src/content/parse-article.js';
import { createToken, verifyToken } from '../../src/delivery/tokens.js';
import { formatProblem } from '../../src/errors.js';
import { parseAddress } from '../../src/address.js';
import { formatCsvRow } from '../../src/subscribers/csv-cell.js';
import { readSubscriberCsv } from '../../src/subscribers/import-csv.js';
import { scale } from './support/seeded.js';

const RUNS = scale(150, 3000);
const SEED = Number(process.env.SEED ?? 20250724);
const parser = createArticleParser({
  topics: [
    { id: 'talks', title: 'Peace talks', match: ['talks'], minMatches: 1 },
    { id: 'protests', title: 'Protests', match: ['protest'], minMatches: 1 },
  ],
  timeZone: 'Europe/Kyiv',
});

/** Text with the characters that break parsers and markup, kept to one YAML-quotable line. */
const hostileLine = fc.string({
  unit: fc.oneof(
    fc.constantFrom('<', '>', '&', '"', "'", '\\', ':', '#', ']]>', '<script>', '\u202e', '\u2066', '🙂', 'é', ' '),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  ),
  minLength: 1,
  maxLength: 40,
});

/** The fields of a valid record as YAML lines (JSON-quoted values are valid YAML). */
const VALID_FIELDS: ReadonlyArray<[string, string]> = [
  ['title', JSON.stringify('A record')],
  ['published', '2025-07-23T10:00:00+03:00'],
  ['source', 'Test desk'],
  ['url', 'https://example.org/story'],
  ['kicker', 'World'],
  ['topics', '[talks]'],
  ['summary', 'A summary.'],
];

/** A wrong value for each field, and what kind of wrong it is. */
const WRONG: Record<string, readonly string[]> = {
  title: ['123', '[a, b]', '{a: 1}', '""', JSON.stringify('bad \u001b[31m title'), JSON.stringify('two\nlines')],
  published: ['"not a date"', '2025-13-45T99:00:00', '[2025]', '""', 'true'],
  source: ['""', '[x]', '{}', 'null'],
  url: ['"javascript:alert(1)"', '"data:text/html,x"', '"ftp://example.org/"', '"/relative"', '42'],
  kicker: ['""', '[k]'],
  topics: ['[nope]', 'talks', '[1, 2]', '{a: b}'],
  summary: ['""', '[s]'],
};

describe('properties of the record loader', () => {
  it('a record with one wrong field, in any order among blank lines and comments, is refused naming that field and its line', () => {
    const field = fc.constantFrom(...VALID_FIELDS.map(([name]) => name));
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...VALID_FIELDS], { minLength: VALID_FIELDS.length }),
        field.chain((name) => fc.tuple(fc.constant(name), fc.constantFrom(...(WRONG[name] ?? [])))),
        fc.array(fc.constantFrom('', '# a comment', '   '), { maxLength: 6 }),
        fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
        (fields, [wrongField, wrongValue], fillers, positions) => {
          const lines = fields.map(([name, value]) => `${name}: ${name === wrongField ? wrongValue : value}`);
          fillers.forEach((filler, index) => lines.splice((positions[index] ?? 0) % (lines.length + 1), 0, filler));
          const text = `---\n${lines.join('\n')}\n---\nThe body talks about talks.\n`;
          const result = parser.parse(text, 'content/property.md', 'property');
          expect(result.problems, text).toBeDefined();
          const fieldLine = 2 + lines.findIndex((line) => line.startsWith(`${wrongField}:`));
          const named = (result.problems ?? []).filter((problem) => problem.field?.split('.')[0] === wrongField);
          expect(named.length, `${text}\n${(result.problems ?? []).map(formatProblem).join('\n')}`).toBeGreaterThan(0);
          for (const problem of named) expect(problem.line, formatProblem(problem)).toBe(fieldLine);
          for (const problem of result.problems ?? []) expect(problem.file).toBe('content/property.md');
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it.each([
    ['an alias bomb', `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [${'*a, '.repeat(8)}*a]\nc: &c [${'*b, '.repeat(8)}*b]\nd: &d [${'*c, '.repeat(8)}*c]\ne: &e [${'*d, '.repeat(8)}*d]\ntitle: [${'*e, '.repeat(8)}*e]`, 3, /invalid YAML: Excessive alias count/],
    ['an alias to no anchor', 'title: A\npublished: *nowhere\nsource: S', 3, /invalid YAML: Unresolved alias/],
    ['a merge of no anchor', 'title: A\n<<: *base\nsource: S', 3, /invalid YAML: Unresolved alias/],
    ['20,000 nested flow sequences', `title: ${'['.repeat(20_000)}`, 2, /invalid YAML/],
    ['3,000 nested mappings', Array.from({ length: 3000 }, (_, depth) => `${' '.repeat(depth)}a:`).join('\n'), undefined, /invalid YAML/],
  ])('%s in the front matter is a problem with file and line, not a crash', (_label, yaml, line, message) => {
    const result = parser.parse(`---\n${yaml}\n---\nBody.\n`, 'content/yaml.md', 'yaml');
    expect(result.problems?.length).toBeGreaterThan(0);
    const problem = result.problems?.[0];
    expect(problem?.file).toBe('content/yaml.md');
    expect(problem?.message).toMatch(message);
    if (line !== undefined) expect(problem?.line).toBe(line);
    else expect(problem?.line).toBeGreaterThan(1);
  });

  it('hostile text in every free-text field loads as text: the article HTML never carries it as markup', () => {
    fc.assert(
      fc.property(hostileLine, hostileLine, hostileLine, (title, source, paragraph) => {
        const text = `---\ntitle: ${JSON.stringify(title)}\npublished: 2025-07-23T10:00:00+03:00\nsource: ${JSON.stringify(source)}\n---\n${paragraph}\n\n<script>alert(1)</script> <a href="javascript:x" onclick="y">z</a>\n`;
        const result = parser.parse(text, 'content/h.md', 'h');
        if (result.problems) {
          // Only the documented refusals of text: control characters, or nothing left after trimming.
          for (const problem of result.problems) expect(problem.message).toMatch(/control characters|must not be empty|is empty|subheading/);
          return;
        }
        expect(result.article.html).not.toMatch(/<script|<a [^>]*(onclick|javascript:)/i);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

/** Any cell text, line breaks of every kind included (formatCsvRow quotes it where needed). */
const cell = fc.string({ unit: fc.oneof(fc.constantFrom(',', '"', '\n', '\r', '\r\n', ' ', '@', '.', 'é', '\u0000', '\u202e'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), maxLength: 24 });
/** Line breaks as an editor counts them. */
const lineBreaks = (text: string): number => text.match(/\r\n|\r|\n/g)?.length ?? 0;
const goodAddress = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}[a-z0-9]$/), fc.constantFrom('example.org', 'Example.COM', 'bücher.example')).map(([local, domain]) => `${local}@${domain}`);

describe('properties of the CSV importer', () => {
  it('every bad row is reported at the line it starts on, every good row is imported, whatever the cells and line ends hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.oneof(goodAddress, cell), cell, fc.constantFrom('\n', '\r\n', '\r')), { minLength: 1, maxLength: 30 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        async (rows, headerEnd) => {
          // Mixed line ends, as files edited on several systems have them.
          const text = formatCsvRow(['address', 'name']) + headerEnd + rows.map(([address, name, end]) => formatCsvRow([address, name]) + end).join('');
          // The line each row starts on, counting the line breaks inside quoted cells.
          const starts: number[] = [];
          let line = 2;
          for (const [address, name] of rows) {
            starts.push(line);
            line += lineBreaks(formatCsvRow([address, name])) + 1;
          }
          const { batches, report } = readSubscriberCsv(Readable.from([Buffer.from(text)]), { file: 'lists/p.csv', status: 'active', source: 'p', topicIds: ['talks', 'war'], batchSize: 7 });
          const imported: string[] = [];
          for await (const batch of batches) imported.push(...batch.map((subscriber) => subscriber.address));
          const expected: string[] = [];
          const problemLines = new Set(report.problems.map((problem) => problem.line));
          rows.forEach(([address, name], index) => {
            const parsed = parseAddress(address);
            const badName = /[\p{Cc}\u202a-\u202e\u2066-\u2069\u2028\u2029]/u.test(name) || [...name.trim().replace(/\s+/gu, ' ')].length > 200;
            const empty = address === '' && name === '';
            if (empty) return;
            if (parsed.ok && !badName) expected.push(parsed.address);
            else expect(problemLines.has(starts[index]), `row ${index + 1} (line ${starts[index]}) of\n${text}\n${report.problems.map(formatProblem).join('\n')}`).toBe(true);
          });
          expect(imported).toEqual(expected);
          for (const problem of report.problems) expect(problem.file).toBe('lists/p.csv');
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

describe('properties of the token verifier', () => {
  const secret = 'property-secret-0123456789abcdef';
  const now = new Date('2025-07-24T07:00:00Z');
  const linkKey = 'property-link-key-01234';

  it('any single-character change, cut or addition to a signed token is refused; the token itself passes only for its purpose and key', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.boolean(),
        fc.nat(),
        fc.oneof(fc.constantFrom('0', '9', '.', '-', '_', 'A', '=', '+', '/', ' ', '%2E', '٣', '０', '\u0000'), fc.string({ minLength: 1, maxLength: 2 })),
        fc.constantFrom('replace', 'insert', 'delete', 'append', 'prepend'),
        (subscriberId, expiring, position, character, edit) => {
          const purpose = expiring ? 'confirm' : 'unsubscribe';
          const token = createToken(secret, purpose, { id: subscriberId, linkKey }, expiring ? new Date(now.getTime() + 3_600_000) : undefined);
          expect(verifyToken([secret], purpose, token, linkKey, now)).toMatchObject({ ok: true, subscriberId });
          expect(verifyToken([secret], expiring ? 'unsubscribe' : 'confirm', token, linkKey, now).ok).toBe(false);
          expect(verifyToken([`${secret}x`], purpose, token, linkKey, now).ok).toBe(false);
          expect(verifyToken([secret], purpose, token, `${linkKey}x`, now).ok).toBe(false);
          const at = position % token.length;
          const changed =
            edit === 'replace' ? token.slice(0, at) + character + token.slice(at + 1)
            : edit === 'insert' ? token.slice(0, at) + character + token.slice(at)
            : edit === 'delete' ? token.slice(0, at) + token.slice(at + 1)
            : edit === 'append' ? token + character
            : character + token;
          fc.pre(changed !== token);
          expect(verifyToken([secret], purpose, changed, linkKey, now).ok, `${token} → ${JSON.stringify(changed)}`).toBe(false);
        },
      ),
      { numRuns: RUNS * 4, seed: SEED },
    );
  });
});
