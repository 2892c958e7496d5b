import MarkdownIt, { type Token } from 'markdown-it';
import type { ArticleBlock } from './article.js';
import { blockText } from './markdown-text.js';
import { stripXmlIllegal } from './plain-text.js';

/** A run of blocks under one `## ` heading (null before the first), with the heading's body line. */
export interface RenderedSection {
  heading: string | null;
  /** 1-based line of the heading within the Markdown text (0 for the part before any heading). */
  line: number;
  blocks: ArticleBlock[];
}

/** A Markdown body rendered to allow-listed HTML and split into sections and blocks. */
export interface RenderedBody {
  html: string;
  sections: RenderedSection[];
}

/** Turns Markdown bodies into allow-listed HTML; made once and reused for every article. */
export interface MarkdownRenderer {
  render(markdown: string): RenderedBody;
}

/**
 * What the HTML of a body may hold: text markup, links to the web and mail, pictures from the web.
 * markdown-it with raw HTML off writes only tags of this list; its attributes are narrowed here as it
 * writes them (see allowedAttributes), so nothing outside the list reaches feeds, pages or emails.
 * test/content/markdown-allow-list.test.ts checks the output against sanitize-html with this list.
 */
const ALLOWED_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = { a: ['href', 'title'], img: ['src', 'alt', 'title'], ol: ['start'] };
const LINK_SCHEMES: Readonly<Record<string, readonly string[]>> = { a: ['https', 'http', 'mailto'], img: ['https', 'http'] };

/**
 * Whether a link may stand in an `href` or `src`: a URL with one of the tag's schemes, or one with no
 * scheme that is not protocol-relative. Browsers ignore control characters and spaces in a scheme
 * (`java\tscript:`), so they are left out before it is read.
 */
function allowedLink(tag: string, url: string): boolean {
  const bare = url.replace(/[\u0000-\u0020]+/g, '');
  const scheme = /^([a-zA-Z][a-zA-Z0-9.+-]*):/.exec(bare)?.[1];
  if (scheme === undefined) return !/^[/\\]{2}/.test(bare);
  return (LINK_SCHEMES[tag] ?? []).includes(scheme.toLowerCase());
}

const TEXT_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = { ...TEXT_ESCAPES, '"': '&quot;' };

/** Text as HTML: only `&`, `<` and `>` need escaping between tags (a `"` stays as written). */
const escapeText = (text: string): string => text.replace(/[&<>]/g, (character) => TEXT_ESCAPES[character] ?? character);
const escapeAttribute = (value: string): string => value.replace(/[&<>"]/g, (character) => ATTRIBUTE_ESCAPES[character] ?? character);

/**
 * A token's attributes as HTML, only those its tag allows: a link only with an allowed scheme, an
 * empty value only for `alt` (an empty `href` or `title` says nothing).
 */
function allowedAttributes(token: Token): string {
  const allowed = ALLOWED_ATTRIBUTES[token.tag];
  if (allowed === undefined || token.attrs === null) return '';
  let html = '';
  for (const [name, value] of token.attrs) {
    if (!allowed.includes(name) || (value === '' && name !== 'alt')) continue;
    if ((name === 'href' || name === 'src') && !allowedLink(token.tag, value)) continue;
    // markdown-it gives a list's start as a number.
    html += ` ${name}="${escapeAttribute(String(value))}"`;
  }
  return html;
}

/**
 * markdown-it made to write only allowed HTML: raw HTML off, attributes narrowed, code without its
 * language class, `<br />`-style empty tags; a picture without a title takes its alt text as title
 * (feed readers such as newsboat label a picture by its title only).
 */
function createAllowListMarkdown(): MarkdownIt {
  const markdown = new MarkdownIt('default', { html: false, linkify: false, typographer: false, xhtmlOut: true });
  const { renderer } = markdown;
  renderer.renderAttrs = allowedAttributes;
  renderer.rules.text = (tokens, index) => escapeText(tokens[index]?.content ?? '');
  renderer.rules.code_inline = (tokens, index) => `<code>${escapeText(tokens[index]?.content ?? '')}</code>`;
  renderer.rules.code_block = (tokens, index) => `<pre><code>${escapeText(tokens[index]?.content ?? '')}</code></pre>\n`;
  renderer.rules.fence = renderer.rules.code_block;
  renderer.rules.image = (tokens, index, options, env, self) => {
    const token = tokens[index] as Token;
    const alt = self.renderInlineAsText(token.children ?? [], options, env);
    token.attrSet('alt', alt);
    if (alt !== '' && token.attrGet('title') === null) token.attrPush(['title', alt]);
    return self.renderToken(tokens, index, options);
  };
  return markdown;
}

/** A top-level Markdown block: its tokens from open to close. */
interface TokenGroup {
  tokens: Token[];
  first: Token;
}

/** Creates the renderer: one markdown-it for all articles. */
export function createMarkdownRenderer(): MarkdownRenderer {
  const markdown = createAllowListMarkdown();

  const render = (source: string): RenderedBody => {
    const text = stripXmlIllegal(source.replace(/\r\n?/g, '\n'));
    const env: Record<string, unknown> = {};
    const tokens = markdown.parse(text, env);
    const lines = text.split('\n');
    const groups = groupTopLevel(tokens);
    const htmlParts = groups.map((group) => markdown.renderer.render(group.tokens, markdown.options, env).trim());

    const sections: RenderedSection[] = [{ heading: null, line: 0, blocks: [] }];
    groups.forEach((group, index) => {
      if (group.first.type === 'heading_open' && group.first.tag === 'h2') {
        const line = (group.first.map?.[0] ?? 0) + 1;
        sections.push({ heading: inlineGroupText(group.tokens).trim(), line, blocks: [] });
        return;
      }
      const blockText = groupText(group.tokens).trim();
      if (blockText === '') {
        return; // rules and empty images carry no text for a briefing
      }
      const map = group.first.map;
      const blockMarkdown = map ? lines.slice(map[0], map[1]).join('\n').trim() : blockText;
      sections[sections.length - 1]?.blocks.push({ markdown: blockMarkdown, html: htmlParts[index] ?? '', text: blockText });
    });
    const first = sections[0];
    if (first && first.blocks.length === 0 && sections.length > 1) {
      sections.shift();
    }
    return { html: htmlParts.filter((part) => part !== '').join('\n'), sections };
  };

  return { render };
}

/** Splits the token stream into top-level blocks (paragraph, list, heading, quote, table…). */
function groupTopLevel(tokens: Token[]): TokenGroup[] {
  const groups: TokenGroup[] = [];
  let index = 0;
  while (index < tokens.length) {
    const first = tokens[index] as Token;
    let end = index;
    if (first.nesting === 1) {
      while (end < tokens.length && !(tokens[end]?.level === first.level && tokens[end]?.nesting === -1)) {
        end += 1;
      }
    }
    groups.push({ tokens: tokens.slice(index, end + 1), first });
    index = end + 1;
  }
  return groups;
}

/** Plain text of inline tokens: text and code as written, images by their alt text. */
function inlineText(children: readonly Token[] | null): string {
  let text = '';
  for (const child of children ?? []) {
    if (child.type === 'text' || child.type === 'code_inline') {
      text += child.content;
    } else if (child.type === 'softbreak') {
      text += ' ';
    } else if (child.type === 'hardbreak') {
      text += '\n';
    } else if (child.type === 'image') {
      text += inlineText(child.children);
    }
  }
  return text;
}

/** Plain text of a heading group. */
function inlineGroupText(tokens: readonly Token[]): string {
  return tokens.map((token) => (token.type === 'inline' ? inlineText(token.children) : '')).join('');
}

/** Plain text of a block: one line per paragraph, list items marked, table cells joined by ` | `. */
function groupText(tokens: readonly Token[]): string {
  return blockText(tokens, inlineText);
}
