/**
 * The body renderer writes allow-listed HTML itself (markdown-it with its attributes narrowed) instead
 * of passing markdown-it's HTML through sanitize-html. This checks it against that reference: plain
 * markdown-it, then sanitize-html with the allow-list the renderer keeps to. On records, on a text with
 * every Markdown form, on hostile texts and on generated ones, the renderer's HTML must be the
 * reference's byte for byte, and sanitize-html must find nothing in it to change.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import MarkdownIt, { type Token } from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import { describe, expect, it } from 'vitest';
import { splitFrontMatter } from '../../src/content/front-matter.js';
import { stripXmlIllegal } from '../../src/content/plain-text.js';
import { createMarkdownRenderer } from '../../src/content/render-markdown.js';

/** The allow-list: text markup, links to the web and mail, pictures from the web, nothing else. */
const ALLOW_LIST: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'br', 'strong', 'em', 'b', 'i', 's', 'del', 'sup', 'sub', 'code', 'pre', 'a', 'ul', 'ol', 'li',
    'blockquote', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
  ],
  allowedAttributes: { a: ['href', 'title'], img: ['src', 'alt', 'title'], ol: ['start'] },
  allowedSchemes: ['https', 'http', 'mailto'],
  allowedSchemesByTag: { img: ['https', 'http'] },
  allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    img: (tagName, attribs) => ({ tagName, attribs: attribs.title === undefined && attribs.alt ? { ...attribs, title: attribs.alt } : attribs }),
  },
};

const plainMarkdown = new MarkdownIt('default', { html: false, linkify: false, typographer: false });

/** The top-level blocks of a token stream, each from its open token to its close. */
function topLevelGroups(tokens: Token[]): Token[][] {
  const groups: Token[][] = [];
  for (let index = 0; index < tokens.length; ) {
    const first = tokens[index] as Token;
    let end = index;
    if (first.nesting === 1) while (end < tokens.length && !(tokens[end]?.level === first.level && tokens[end]?.nesting === -1)) end += 1;
    groups.push(tokens.slice(index, end + 1));
    index = end + 1;
  }
  return groups;
}

/** The reference HTML of a body: each top-level block by plain markdown-it, sanitised, the non-empty ones joined by lines. */
function referenceHtml(markdown: string): string {
  const text = stripXmlIllegal(markdown.replace(/\r\n?/g, '\n'));
  const env = {};
  const tokens = plainMarkdown.parse(text, env);
  return topLevelGroups(tokens)
    .map((group) => sanitizeHtml(plainMarkdown.renderer.render(group, plainMarkdown.options, env).trim(), ALLOW_LIST).trim())
    .filter((part) => part !== '')
    .join('\n');
}

const renderer = createMarkdownRenderer();

/** Why the renderer's HTML of `markdown` is wrong, or undefined when it is the reference's and sanitize-html leaves it as it is. */
function mismatch(markdown: string): string | undefined {
  const body = renderer.render(markdown);
  const expected = referenceHtml(markdown);
  if (body.html !== expected) return `for ${JSON.stringify(markdown)}\n  renderer:  ${JSON.stringify(body.html)}\n  reference: ${JSON.stringify(expected)}`;
  const blocks = body.sections.flatMap((section) => section.blocks.map((block) => block.html));
  for (const html of [body.html, ...blocks]) {
    if (sanitizeHtml(html, ALLOW_LIST) !== html) return `sanitize-html changes ${JSON.stringify(html)} (from ${JSON.stringify(markdown)})`;
  }
  return undefined;
}

function expectAllAgree(texts: readonly string[]): void {
  const wrong = texts.map(mismatch).filter((message) => message !== undefined);
  expect(wrong.slice(0, 5)).toEqual([]);
}

/** Record bodies under a folder of this repository, found recursively. */
function bodiesUnder(folder: string): string[] {
  const root = path.resolve(import.meta.dirname, '../..', folder);
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md'))
    .map((entry) => readFileSync(path.join(entry.parentPath, entry.name), 'utf8'))
    .map((text) => {
      const parts = splitFrontMatter(text);
      return typeof parts === 'string' ? text : parts.body;
    });
}

const EVERY_FORM = [
  '# One', 'Two\n===', '## Three *em* **strong** ~~gone~~ `code "q"`', '#### Four', '###### Six',
  'A "quoted" & \'single\' <tag> line  \nwith a hard break\\\nand another, and a soft\nbreak.',
  '> quote with [link](https://example.org/a?b=1&c=2 "Title \\"q\\"")\n> > nested',
  '- one\n- two\n  - deep\n\n* loose\n\n* list', '3. three\n4. four', '1) paren',
  '```js\nconst a = "<b>" && 1;\n```', '~~~\nplain ]]> fence\n~~~', '    indented <code>',
  '| a | b | c |\n|:--|:-:|--:|\n| *x* | `y` | [z](http://z.example) |',
  '---', '***',
  '![alt *text*](https://example.org/p.png) ![](https://example.org/e.png) ![t](https://example.org/t.png "own title")',
  '<https://example.org/auto> <desk@example.org> [ref] [empty]() [rel](/path/page "r") [frag](#here)',
  '[ref]: https://example.org/ref "Ref title"',
  'Entities: &amp; &quot; &#x27; &nbsp; &copy; &#0; &bogus; \\*not em\\*',
].join('\n\n');

const HOSTILE = [
  '<script>alert("x")</script> <img src=x onerror=alert(1)> ]]> & more',
  '[a](javascript:alert(1)) [b](JaVaScRiPt:alert(2)) [c](java\tscript:x) [d](vbscript:x) [e](data:text/html,x) [f](file:///etc/passwd)',
  '[g](//evil.example) [h](\\\\evil.example) [i](/\\evil) [j](ftp://x.example) [k](tel:123) [l](MAILTO:A@B.C) [m](HTTPS://X.EXAMPLE)',
  '![p](data:image/png;base64,iVBORw0KGgo=) ![q](javascript:x) ![r](mailto:a@b.c) ![s](//evil.example/x.png) ![t](relative.png)',
  '[x](<java script:alert(1)>) [y](&#106;avascript:alert(1)) [z](&#x6A;avascript:x) [w](javascript&colon;x) [v](%6Aavascript:x)',
  '[t](https://e.example "a\\" onmouseover=\\"x") ![u](https://e.example/u.png "<b>&amp;\'")',
  '<a href="javascript:alert(3)" onclick="x">raw</a> <iframe src="https://evil.example"></iframe> <!-- comment --> <![CDATA[ x ]]>',
  'Control\u0007 characters\u0000 and\u001b escapes\uFFFE \u0001 gone; emoji 🇺🇦🙂 and Cyrillic: Переговори.',
  '## Heading with <b onmouseover="x">tags</b> & ]]>',
  '[a](https://a.example/?q=<x>&r="y") [b](https://b.example/\u00e9\u0301 "é")',
];

const FRAGMENTS = [
  '[', ']', '(', ')', '![', '<', '>', '`', '```', '~~~', '*', '_', '**', '~~', '#', '## ', '> ', '- ', '1. ', '7) ', '|', '---',
  ':', '\n', '\n\n', '    ', '  \n', 'javascript:', 'JaVaScRiPt:', 'java\tscript:', 'data:image/png;base64,AA', 'vbscript:',
  'mailto:a@b.c', 'https://ex.example/a?b=1&c=2', 'http://x.example', '//evil.example', '\\\\evil', 'ftp://x', 'tel:1', 'relative/p',
  '"', "'", '&', '&amp;', '&quot;', '&#x27;', '&nbsp;', '&#0;', '&lt;', '\u0001', '\u00a0', ' ', 'a', 'word', 'é', '🙂', 'Київ',
  '<script>', '</script>', ']]>', '<b>', ' "t"', " 't'", ' (t)', '<https://a.example>', '<a@b.c>', '[r]: https://ref.example "T"\n',
  '[r]', '\\', '| a | b |\n|:-|-:|\n| c | d |\n', '<!--', '-->', '=', 'onerror=', '\r\n', '\t',
];

describe('the body renderer writes allow-listed HTML', () => {
  it('renders the repository records and the test records as the reference does', () => {
    const bodies = [...bodiesUnder('content'), ...bodiesUnder('test/fixtures')];
    expect(bodies.length).toBeGreaterThan(5);
    expectAllAgree(bodies);
  });

  it('renders every Markdown form as the reference does', () => {
    expectAllAgree([EVERY_FORM, ...EVERY_FORM.split('\n\n')]);
    // The forms are really there, and the allow-list is applied, not merely passed.
    const html = renderer.render(EVERY_FORM).html;
    for (const part of ['<h1>', '<h6>', '<blockquote>', '<ol start="3">', '<pre><code>', '<table>', '<th>', '<hr />', '<br />', '<s>', 'alt="" />', 'title="alt text"', 'A "quoted"', 'href="/path/page"']) {
      expect(html).toContain(part);
    }
    expect(html).not.toMatch(/class=|style=|language-/);
  });

  it('renders hostile texts as the reference does: no script, no unsafe link, no raw tag', () => {
    expectAllAgree([HOSTILE.join('\n\n'), ...HOSTILE]);
    const html = renderer.render(HOSTILE.join('\n\n')).html;
    const tags = html.match(/<[a-z][^>]*>/g) ?? [];
    expect(tags.filter((tag) => !/^<(?:p|a|img|h2)[ >]/.test(tag))).toEqual([]);
    const attributes = tags.flatMap((tag) => [...tag.matchAll(/ ([a-z]+)="([^"]*)"/g)].map((match) => [match[1], match[2]] as const));
    expect(attributes.filter(([name]) => !['href', 'src', 'alt', 'title'].includes(name ?? ''))).toEqual([]);
    // Every link is http(s), mailto (not for a picture) or a path with no scheme and not protocol-relative.
    for (const [name, value] of attributes.filter(([name]) => name === 'href' || name === 'src')) {
      expect(value).toMatch(name === 'href' ? /^(?:https?:|mailto:|(?![a-z][a-z0-9.+-]*:)(?![/\\]{2}))/i : /^(?:https?:|(?![a-z][a-z0-9.+-]*:)(?![/\\]{2}))/i);
    }
    expect(html).toContain('<a href="MAILTO:A@B.C">l</a>');
    expect(html).toContain('<a>g</a>');
  });

  it('renders generated texts as the reference does', () => {
    const text = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (markdown) => {
        const message = mismatch(markdown);
        if (message !== undefined) throw new Error(message);
      }),
      { numRuns: 3000, seed: 19 },
    );
  });
});
