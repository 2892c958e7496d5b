/** Briefings and message options for delivery tests: hostile on purpose where text is free. */
import type { Briefing } from '../../src/email/briefing.js';
import type { MessageOptions } from '../../src/delivery/message.js';

export const SECRET = 'test-secret-of-at-least-sixteen-characters';
export const SITE_URL = 'https://briefing.example.org/';

const NAME = '{{name:7f3a}}';
const ADDRESS = '{{address:7f3a}}';
const UNSUBSCRIBE = '{{unsubscribe:7f3a}}';

/** A briefing with every token in text and HTML, long lines, `=` signs, dot lines and non-ASCII. */
export function sampleBriefing(editionId = '2025-07-23'): Briefing {
  const paragraph = 'Delegations met in Istanbul for a third round of talks; “prisoner exchanges” were agreed = progress. ';
  return {
    editionId,
    subject: 'Briefing, 23 July 2025: Peace talks – Protests',
    preheader: 'Talks in Istanbul',
    html: [
      '<!doctype html><html><body style="margin:0;padding:0">',
      `<p class="greeting">Hello ${NAME} (${ADDRESS}),</p>`,
      `<p>${paragraph.repeat(12)}</p>`,
      '<p>&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; stays text</p>',
      `<p><a href="${UNSUBSCRIBE}">Unsubscribe</a>${NAME}${UNSUBSCRIBE}</p>`,
      '</body></html>',
    ].join('\n'),
    text: [`Hello ${NAME},`, '', paragraph.repeat(6), '.', '.a line that starts with a dot', 'trailing spaces   ', '', `Unsubscribe: ${UNSUBSCRIBE}`, ''].join('\n'),
    webUrl: `${SITE_URL}editions/${editionId}/`,
    replacements: [
      { token: NAME, field: 'name' },
      { token: ADDRESS, field: 'address' },
      { token: UNSUBSCRIBE, field: 'unsubscribeUrl' },
    ],
  };
}

export const MESSAGE_OPTIONS: MessageOptions = {
  sender: { name: 'Briefing desk', address: 'briefing@briefing.example.org', unsubscribeAddress: 'unsubscribe@briefing.example.org' },
  listId: 'daily.briefing.example.org',
  listName: 'Briefing',
  timeZone: 'Europe/Kyiv',
};
