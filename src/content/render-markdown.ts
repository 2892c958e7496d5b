import MarkdownIt, { type Token } from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
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

/** A Markdown body rendered to sanitised HTML and split into sections and blocks. */
export interface RenderedBody {
  html: string;
  sections: RenderedSection[];
}

/** Turns Markdown bodies into sanitised HTML; made once and reused for every article. */
export interface MarkdownRenderer {
  render(markdown: string): RenderedBody;
}

/** Tags and attributes that may survive into feeds, pages and emails: text markup only. */
const SANITIZE_OPTIONS: sanitizeHtml.IOptions = {
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
  // Feed readers such as newsboat label a picture by its title only; the alt text serves as both.
  transformTags: {
    img: (tagName, attribs) => ({ tagName, attribs: attribs.title === undefined && attribs.alt ? { ...attribs, title: attribs.alt } : attribs }),
  },
};

/**
 * Joins the rendered blocks of one body so it is sanitised in one pass (much faster than one pass per
 * block) and split again afterwards. Control characters are stripped from the Markdown first and
 * markdown-it never emits them, so the separator cannot come from content.
 */
const SEPARATOR = '\u0001';

/** A top-level Markdown block: its tokens from open to close. */
interface TokenGroup {
  tokens: Token[];
  first: Token;
}

/** Creates the renderer: one markdown-it and one sanitiser configuration for all articles. */
export function createMarkdownRenderer(): MarkdownRenderer {
  const markdown = new MarkdownIt('default', { html: false, linkify: false, typographer: false });

  const render = (source: string): RenderedBody => {
    const text = stripXmlIllegal(source.replace(/\r\n?/g, '\n'));
    const env: Record<string, unknown> = {};
    const tokens = markdown.parse(text, env);
    const lines = text.split('\n');
    const groups = groupTopLevel(tokens);
    const rendered = groups.map((group) => markdown.renderer.render(group.tokens, markdown.options, env).trim());
    const htmlParts = sanitizeAll(rendered);

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

/** Sanitises all parts in one pass; falls back to one pass each if the separators did not survive. */
function sanitizeAll(parts: string[]): string[] {
  if (parts.length === 0) {
    return [];
  }
  const joined = sanitizeHtml(parts.join(SEPARATOR), SANITIZE_OPTIONS).split(SEPARATOR);
  const sanitized = joined.length === parts.length ? joined : parts.map((part) => sanitizeHtml(part, SANITIZE_OPTIONS));
  return sanitized.map((part) => part.trim());
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
