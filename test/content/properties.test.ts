import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { formatRecord } from '../../src/content/format-record.js';
import { importRawArticle } from '../../src/content/import-raw.js';
import { loadArticles } from '../../src/content/load-articles.js';
import { escapeMarkdown } from '../../src/content/markdown-escape.js';
import { createArticleParser } from '../../src/content/parse-article.js';
import { collapseWhitespace } from '../../src/content/plain-text.js';
import { createMarkdownRenderer } from '../../src/content/render-markdown.js';
import { BriefingError } from '../../src/errors.js';
import { folderWith, testRecordLimit, testTopics } from './helpers.js';

const zone = 'Europe/Kyiv';
const parser = createArticleParser({ topics: testTopics, timeZone: zone });

/** Any text, including lone surrogates, control characters and every plane. */
const anyText = fc.string({ unit: 'binary', maxLength: 400 });

/** Lines that look like parts of a record or a raw article, mixed with arbitrary ones. */
const fragment = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom(
    '---',
    'title: A title',
    'published: 2025-07-23T12:58:11+03:00',
    'published: 2025-07-23 12:58:11',
    'source: CBC News',
    'topics: [talks, nope]',
    'images:\n  - alt: x\n    section: Heading',
    'videos: [{ title: v, duration: "2:08" }]',
    'url: javascript:alert(1)',
    '## Heading',
    '##',
    'Published: 2025-07-23 12:58:11 | Views: 12',
    'Published: soon',
    'World',
    'WATCH l A video:',
    '10 days ago\nDuration 2:08\nA description.',
    'Two people stand.\nA caption. (Jane Doe/Reuters)',
    'Source link',
    'Source link https://example.org/x',
    'With files from CBC News',
    '<script>alert(1)</script> ]]> &amp; \u0000 🙂 Привіт',
    '',
  ),
);
const documentText = fc.array(fragment, { maxLength: 25 }).chain((lines) =>
  fc.array(fc.constantFrom('\n', '\n\n', '\r\n'), { minLength: lines.length, maxLength: lines.length }).map((breaks) =>
    lines.map((line, index) => line + (breaks[index] ?? '')).join(''),
  ),
);

function onlyBriefingErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof BriefingError)) {
      throw error;
    }
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

describe('properties', () => {
  it('reading a record never throws: any text gives an article or problems with file and line', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, documentText, documentText.map((text) => `---\n${text}`)), (text) => {
        const result = parser.parse(text, 'content/x.md', 'x');
        if (result.problems) {
          expect(result.problems.length).toBeGreaterThan(0);
          for (const problem of result.problems) {
            expect(problem.file).toBe('content/x.md');
            expect(problem.line).toBeGreaterThanOrEqual(1);
          }
        } else {
          expect(result.article.title.length).toBeGreaterThan(0);
          expect(result.article.html).not.toMatch(/<script|[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('loadArticles rejects only with a BriefingError, whatever the files hold', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(anyText, documentText), { minLength: 1, maxLength: 3 }), async (texts) => {
        const folder = await folderWith(Object.fromEntries(texts.map((text, index) => [`record-${index}.md`, text])));
        cleanups.push(folder.cleanup);
        await loadArticles({ dir: folder.dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: zone }).catch((error: unknown) => {
          expect(error).toBeInstanceOf(BriefingError);
        });
      }),
      { numRuns: 40 },
    );
  });

  it('importRawArticle throws only BriefingErrors, and what it imports always loads', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, documentText), fc.option(fc.constantFrom('2025-07-23T20:30:00', 'garbage')), fc.option(anyText), (text, published, source) => {
        onlyBriefingErrors(() => {
          const record = importRawArticle(text, { file: 'raw.txt', timeZone: zone, published: published ?? undefined, source: source ?? undefined });
          const result = parser.parse(formatRecord(record), `content/${record.id}.md`, record.id);
          expect(result.problems).toBeUndefined();
          expect(result.article?.title).toBe(record.frontMatter.title);
          expect(result.article?.videos).toEqual(record.frontMatter.videos ?? []);
          expect(result.article?.images).toEqual(record.frontMatter.images ?? []);
        });
      }),
      { numRuns: 400 },
    );
  });

  it('escaped text renders as exactly that text', () => {
    const renderer = createMarkdownRenderer();
    const line = fc.string({ unit: fc.oneof(fc.constantFrom(...Array.from('\\`*_[]()<>#!&;-+=.~|1 aé🙂')), fc.string({ unit: 'grapheme', maxLength: 1 })), maxLength: 80 });
    fc.assert(
      fc.property(line, (raw) => {
        const text = collapseWhitespace(raw);
        fc.pre(text !== '');
        const body = renderer.render(escapeMarkdown(text));
        expect(body.sections.flatMap((section) => section.blocks.map((block) => block.text))).toEqual([text]);
      }),
      { numRuns: 1000 },
    );
  });
});
