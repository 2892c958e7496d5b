import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planEdition } from '../../src/edition/plan-edition.js';
import type { Briefing } from '../../src/email/briefing.js';
import { loadBriefingTemplates, type BriefingTemplates } from '../../src/email/briefing-templates.js';
import { personaliseBriefing, preparePersonalisation } from '../../src/email/personalise.js';
import { recipientTokens } from '../../src/email/recipient-tokens.js';
import { renderBriefing } from '../../src/email/render-briefing.js';
import { makeArticle, testConfig } from '../edition/fixtures.js';

const config = testConfig();
const FIRST_NONCE = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const SECOND_NONCE = 'bbbbbbbbbbbbbbbbbbbbbbbb';
let dir: string;
let templates: BriefingTemplates;

beforeAll(async () => {
  // A restyled template that greets the subscriber by name and says where the briefing went.
  dir = await mkdtemp(path.join(tmpdir(), 'briefing-personal-'));
  await cp(config.paths.templates, dir, { recursive: true });
  const footer = path.join(dir, 'partials', 'footer.mjml');
  await writeFile(footer, (await readFile(footer, 'utf8')).replace('<p>{{publication.postalAddress}}</p>', '<p>Hello {{recipient.name}}, sent to {{recipient.address}}.</p>\n      <p>{{publication.postalAddress}}</p>'));
  const text = path.join(dir, 'briefing.txt');
  await writeFile(text, `${await readFile(text, 'utf8')}Hello {{recipient.name}}, sent to {{recipient.address}}.\n`);
  templates = await loadBriefingTemplates(dir);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A briefing whose article quotes tokens: the first nonce's own, another briefing's, and template syntax. */
async function render(nonces: string[]): Promise<Briefing> {
  const forged = recipientTokens(FIRST_NONCE);
  const article = makeArticle({
    id: 'quoting',
    published: '2025-07-23T12:00:00Z',
    body: `Forged: ${forged.unsubscribeUrl} ${forged.name} and {{unsubscribeUrl}} and {{recipient.name}} and %%unsubscribe%%.`,
    topics: { '': ['talks'] },
  });
  const edition = planEdition({
    id: '2025-07-23',
    slot: new Date('2025-07-23T18:00:00Z'),
    timeZone: config.timeZone,
    siteUrl: config.siteUrl,
    articles: [article],
    topics: config.topics,
    settings: config.edition,
    previous: undefined,
  });
  const queue = [...nonces];
  return renderBriefing(edition, { config, templates, nonce: () => queue.shift() ?? SECOND_NONCE });
}

describe('personal values', () => {
  it('lists every token the templates used, each with a nonce the content does not contain', async () => {
    const briefing = await render([FIRST_NONCE, SECOND_NONCE]);
    expect(briefing.replacements).toEqual([
      { token: `briefing-${SECOND_NONCE}-name`, field: 'name' },
      { token: `briefing-${SECOND_NONCE}-address`, field: 'address' },
      { token: `briefing-${SECOND_NONCE}-unsubscribe-url`, field: 'unsubscribeUrl' },
      { token: `briefing-${SECOND_NONCE}-preferences-url`, field: 'preferencesUrl' },
    ]);
  });

  it('fills values escaped in the HTML and as they are in the text, leaving token-like content alone', async () => {
    const briefing = await render([FIRST_NONCE, SECOND_NONCE]);
    const personal = personaliseBriefing(briefing, {
      name: 'Anna <b>"O\'Neil"</b> & co\r\nBcc: x@example.org',
      address: 'anna@example.org',
      unsubscribeUrl: 'https://briefing.example.org/unsubscribe?token=7.abc&x=1',
      preferencesUrl: 'https://briefing.example.org/preferences?token=7.def&x=1',
    });
    expect(personal.html).toContain('Hello Anna &lt;b&gt;&quot;O&#39;Neil&quot;&lt;/b&gt; &amp; co Bcc: x@example.org, sent to anna@example.org.');
    expect(personal.html).toContain('<a href="https://briefing.example.org/unsubscribe?token=7.abc&amp;x=1"');
    expect(personal.text).toContain('Hello Anna <b>"O\'Neil"</b> & co Bcc: x@example.org, sent to anna@example.org.');
    expect(personal.text).toContain('one click: https://briefing.example.org/unsubscribe?token=7.abc&x=1');
    const forged = recipientTokens(FIRST_NONCE);
    for (const body of [personal.html, personal.text]) {
      expect(body).toContain(`Forged: ${forged.unsubscribeUrl} ${forged.name} and {{unsubscribeUrl}} and {{recipient.name}} and %%unsubscribe%%.`);
      expect(body).not.toContain(SECOND_NONCE);
    }
  });

  it('fills an empty name with nothing and gives each recipient their own values from one split', async () => {
    const personalise = preparePersonalisation(await render([SECOND_NONCE]));
    const first = personalise({ name: null, address: 'one@example.org', unsubscribeUrl: 'https://briefing.example.org/unsubscribe?token=1.a', preferencesUrl: 'https://briefing.example.org/preferences?token=1.a' });
    const second = personalise({ name: 'Two', address: 'two@example.org', unsubscribeUrl: 'https://briefing.example.org/unsubscribe?token=2.b', preferencesUrl: 'https://briefing.example.org/preferences?token=2.b' });
    expect(first.text).toContain('Hello , sent to one@example.org.');
    expect(first.text).toContain('token=1.a');
    expect(second.text).toContain('Hello Two, sent to two@example.org.');
    expect(second.html).toContain('token=2.b');
    expect(second.html).not.toContain('token=1.a');
  });

  it('refuses to render when every nonce it is offered occurs in the content', async () => {
    await expect(render(Array.from({ length: 20 }, () => FIRST_NONCE))).rejects.toMatchObject({ stage: 'email', code: 'token-collision' });
  });
});
