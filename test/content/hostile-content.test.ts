import { afterEach, describe, expect, it } from 'vitest';
import { loadArticles } from '../../src/content/load-articles.js';
import type { Article } from '../../src/content/article.js';
import { createMarkdownRenderer } from '../../src/content/render-markdown.js';
import { folderWith, record, testRecordLimit, testTopics } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function loadOne(text: string): Promise<Article> {
  const folder = await folderWith({ 'hostile.md': text });
  cleanups.push(folder.cleanup);
  const [article] = await loadArticles({ dir: folder.dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: 'Europe/Kyiv' });
  return article as Article;
}

const ALLOWED_TAGS = new Set(['p', 'br', 'strong', 'em', 'b', 'i', 's', 'del', 'sup', 'sub', 'code', 'pre', 'a', 'ul', 'ol', 'li', 'blockquote', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td']);
const ALLOWED_ATTRIBUTES = new Set(['href', 'title', 'src', 'alt', 'start']);

/** Every tag of sanitised HTML, with its attributes, read by a small tokenizer. */
function tagsOf(html: string): Array<{ name: string; attributes: Array<[string, string]> }> {
  const tags: Array<{ name: string; attributes: Array<[string, string]> }> = [];
  for (const match of html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s=>/]+(?:="[^"]*")?)*)\s*\/?>/g)) {
    const attributes = [...(match[2] ?? '').matchAll(/([^\s=]+)(?:="([^"]*)")?/g)].map((attribute) => [attribute[1] ?? '', attribute[2] ?? ''] as [string, string]);
    tags.push({ name: (match[1] ?? '').toLowerCase(), attributes });
  }
  return tags;
}

/** Safe means: only text markup, no event handler, links only to http(s)/mailto, nothing unparsed. */
function expectSafeHtml(html: string): void {
  expect(html).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
  const withoutTags = html.replace(/<\/?[a-zA-Z][^>]*>/g, '');
  expect(withoutTags).not.toMatch(/[<>]/);
  for (const tag of tagsOf(html)) {
    expect(ALLOWED_TAGS.has(tag.name), `tag <${tag.name}>`).toBe(true);
    for (const [name, value] of tag.attributes) {
      expect(ALLOWED_ATTRIBUTES.has(name), `attribute ${name}`).toBe(true);
      if (name === 'href' || name === 'src') {
        expect(value).toMatch(/^(https?:|mailto:|[^:]*$)/i);
      }
    }
  }
}

describe('hostile article text', () => {
  const hostileBody = [
    'Breaking: <script>alert("x")</script> and <img src=x onerror=alert(1)> ]]> & more.',
    '',
    '[click](javascript:alert(1)) [again](JaVaScRiPt:alert(2)) [data](data:text/html;base64,PHNjcmlwdD4=) [vb](vbscript:msgbox)',
    '',
    '![pixel](data:image/png;base64,iVBORw0KGgo=) ![ok](https://example.org/a.png "title")',
    '',
    '<a href="javascript:alert(3)" onclick="alert(4)">raw link</a> <iframe src="https://evil.example"></iframe>',
    '',
    'Control\u0007 characters\u0000 and\u001b escapes\uFFFE gone. Emoji 🇺🇦🙂 and Cyrillic: Переговори в Стамбулі.',
    '',
    '## Heading with <b onmouseover="x">tags</b> & ]]>',
    '',
    '[mail](mailto:desk@example.org) [web](https://example.org/?q=<x>&r="y")',
  ].join('\n');

  it('is rendered as inert, sanitised HTML', async () => {
    const article = await loadOne(record(hostileBody));
    const blocks = article.sections.flatMap((section) => section.blocks);
    for (const html of [article.html, ...blocks.map((block) => block.html)]) {
      expectSafeHtml(html);
    }
    expect(article.html).toContain('&lt;script&gt;alert("x")&lt;/script&gt;');
    expect(article.html).toContain(']]&gt; &amp; more.');
    const links = tagsOf(article.html).flatMap((tag) => tag.attributes.filter(([name]) => name === 'href' || name === 'src').map(([, value]) => value));
    expect(links).toEqual(['https://example.org/a.png', 'mailto:desk@example.org', 'https://example.org/?q=%3Cx%3E&amp;r=%22y%22']);
    expect(article.html).toContain('<p>[click](javascript:alert(1)) [again](JaVaScRiPt:alert(2))');
    // A picture without a title takes its alt text as title: newsboat names pictures by title only.
    expect(article.html).toContain('<img alt="pixel" title="pixel" />');
    expect(article.html).toContain('<img src="https://example.org/a.png" alt="ok" title="title" />');
    expect(article.html).toContain('<a href="mailto:desk@example.org">mail</a>');
    expect(article.html).toContain('<a href="https://example.org/?q=%3Cx%3E&amp;r=%22y%22">web</a>');
  });

  it('keeps the words as plain text, with control characters removed and emoji and Cyrillic intact', async () => {
    const article = await loadOne(record(hostileBody));
    const texts = article.sections.flatMap((section) => section.blocks.map((block) => block.text));
    expect(texts[0]).toBe('Breaking: <script>alert("x")</script> and <img src=x onerror=alert(1)> ]]> & more.');
    expect(texts[4]).toBe('Control characters and escapes gone. Emoji 🇺🇦🙂 and Cyrillic: Переговори в Стамбулі.');
    expect(article.sections[1]?.heading).toBe('Heading with <b onmouseover="x">tags</b> & ]]>');
    expect(article.body).not.toMatch(/[\u0000\u0007\u001b\uFFFE]/);
  });

  it('accepts emoji and Cyrillic in titles but refuses control characters', async () => {
    const good = await loadOne(record('Text.', 'title: "Переговори 🙂 ]]> <script>"\npublished: 2025-07-23T10:00:00Z\nsource: Тест'));
    expect(good.title).toBe('Переговори 🙂 ]]> <script>');
    expect(good.source).toBe('Тест');
    await expect(loadOne(record('Text.', 'title: "Bad \\u001b[31m red"\npublished: 2025-07-23T10:00:00Z\nsource: T'))).rejects.toThrow(
      /hostile\.md:2: title: must not contain control characters/,
    );
  });

  it('leaves control characters of the body out of its HTML', () => {
    const renderer = createMarkdownRenderer();
    const body = renderer.render('One \u0001 two.\n\nThree.');
    expect(body.sections[0]?.blocks.map((block) => block.html)).toEqual(['<p>One  two.</p>', '<p>Three.</p>']);
  });
});
