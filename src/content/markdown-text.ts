import type { Token } from 'markdown-it';

/**
 * Plain text of a Markdown block's tokens: one line per paragraph, list items marked `- ` or `1. `,
 * table cells joined by ` | `, code as written. `inline` turns a run of inline tokens into text (the
 * article's text drops links; the email's text writes `text (url)`); `quotePrefix` marks quoted lines.
 */
export function blockText(tokens: Iterable<Token>, inline: (children: readonly Token[]) => string, quotePrefix = ''): string {
  const lines: string[] = [];
  const lists: Array<{ ordered: boolean }> = [];
  let prefix = '';
  let row: string[] | undefined;
  for (const token of tokens) {
    switch (token.type) {
      case 'bullet_list_open':
      case 'ordered_list_open':
        lists.push({ ordered: token.type === 'ordered_list_open' });
        break;
      case 'bullet_list_close':
      case 'ordered_list_close':
        lists.pop();
        break;
      case 'list_item_open':
        prefix = `${'  '.repeat(Math.max(0, lists.length - 1))}${lists.at(-1)?.ordered ? `${token.info}. ` : '- '}`;
        break;
      case 'blockquote_open':
        prefix = quotePrefix;
        break;
      case 'tr_open':
        row = [];
        break;
      case 'tr_close':
        lines.push((row ?? []).join(' | '));
        row = undefined;
        break;
      case 'fence':
      case 'code_block':
        lines.push(token.content.replace(/\n+$/, ''));
        break;
      case 'inline': {
        const text = inline(token.children ?? []);
        if (row) {
          row.push(text.trim());
        } else {
          lines.push(`${prefix}${text}`);
          prefix = '';
        }
        break;
      }
      default:
        break;
    }
  }
  return lines.join('\n');
}
