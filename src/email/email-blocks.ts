import MarkdownIt, { type Token } from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import type { ArticleBlock } from '../content/article.js';
import { blockText } from '../content/markdown-text.js';

/** A paragraph of an article as the email shows it: HTML for the HTML part, text for the text part. */
export interface EmailBlock {
  html: string;
  text: string;
}

/** Turns article blocks into email HTML and plain text with the same words and the same links. */
export interface EmailBlockRenderer {
  /** `base` resolves relative links (the article's URL): an email has no page to be relative to. */
  render(block: ArticleBlock, base: string): EmailBlock;
}

const LINK_SCHEMES = ['https:', 'http:', 'mailto:'];

/** An absolute link with an allowed scheme, or undefined (the link is then dropped, its text kept). */
function absoluteLink(href: string | undefined, base: string): string | undefined {
  if (href === undefined) {
    return undefined;
  }
  try {
    const url = new URL(href, base);
    return LINK_SCHEMES.includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the renderer. The HTML is the article's sanitised HTML narrowed to what email clients
 * show well (no images inside text, no headings above the story's own, absolute links); the text is
 * read from the same Markdown with each link written `text (url)`.
 */
export function createEmailBlockRenderer(): EmailBlockRenderer {
  const markdown = new MarkdownIt('default', { html: false, linkify: false, typographer: false });

  const html = (block: ArticleBlock, base: string): string =>
    sanitizeHtml(block.html, {
      allowedTags: ['p', 'br', 'strong', 'em', 'b', 'i', 's', 'del', 'sup', 'sub', 'code', 'pre', 'a', 'ul', 'ol', 'li', 'blockquote', 'h4', 'table', 'thead', 'tbody', 'tr', 'th', 'td'],
      allowedAttributes: { a: ['href'], ol: ['start'] },
      allowedSchemes: ['https', 'http', 'mailto'],
      allowProtocolRelative: false,
      disallowedTagsMode: 'discard',
      transformTags: {
        // A story's title is an h3: headings inside its text sit below it.
        ...Object.fromEntries(['h1', 'h2', 'h3', 'h5', 'h6'].map((tag) => [tag, 'h4'])),
        a: (tagName, attribs) => {
          const href = absoluteLink(attribs.href, base);
          const kept: sanitizeHtml.Attributes = href === undefined ? {} : { href };
          return { tagName, attribs: kept };
        },
      },
    }).trim();

  const text = (block: ArticleBlock, base: string): string =>
    blockText(markdown.parse(block.markdown, {}), (children) => inlineText(children, base), '> ').trim();

  return { render: (block, base) => ({ html: html(block, base), text: text(block, base) }) };
}

/** Inline tokens as text; a link's URL follows its text in brackets unless the text is the URL. */
function inlineText(children: readonly Token[], base: string): string {
  let text = '';
  const open: Array<{ href: string | undefined; start: number }> = [];
  for (const child of children) {
    switch (child.type) {
      case 'text':
      case 'code_inline':
        text += child.content;
        break;
      case 'softbreak':
        text += ' ';
        break;
      case 'hardbreak':
        text += '\n';
        break;
      case 'image':
        text += inlineText(child.children ?? [], base);
        break;
      case 'link_open':
        open.push({ href: absoluteLink(child.attrGet('href') ?? undefined, base), start: text.length });
        break;
      case 'link_close': {
        const link = open.pop();
        const label = link === undefined ? '' : text.slice(link.start);
        if (link?.href !== undefined && label !== link.href && `mailto:${label}` !== link.href) {
          text += ` (${link.href})`;
        }
        break;
      }
      default:
        break;
    }
  }
  return text;
}
