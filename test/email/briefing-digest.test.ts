/**
 * The briefing as a reader gets it: a digest by default (first paragraphs, a link to the full
 * story), a table of contents, each story headed once, "Updated" only for what an earlier edition
 * sent, pictures only with a URL, times with their zone, and a public web version with no personal
 * links. The seed edition fits the size goal in a real Chromium.
 */
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Edition } from '../../src/edition/edition.js';
import { planEdition } from '../../src/edition/plan-edition.js';
import type { Briefing } from '../../src/email/briefing.js';
import { loadBriefingTemplates, type BriefingTemplates } from '../../src/email/briefing-templates.js';
import { renderBriefing } from '../../src/email/render-briefing.js';
import { makeArticle, planSeedEdition, testConfig } from '../edition/fixtures.js';

const config = testConfig();
let templates: BriefingTemplates;
let seed: Edition;
let briefing: Briefing;

beforeAll(async () => {
  templates = await loadBriefingTemplates(config.paths.templates);
  seed = (await planSeedEdition(config)).edition;
  briefing = await renderBriefing(seed, { config, templates });
});

const titles = (edition: Edition): string[] => [...new Set(edition.sections.flatMap((section) => section.items.map((item) => item.title)))];
const occurrences = (text: string, part: string): number => text.split(part).length - 1;
const escaped = (text: string): string => text.replaceAll('&', '&amp;').replaceAll("'", '&#x27;').replaceAll('"', '&quot;');

describe('the digest briefing of the seed edition', () => {
  it('is the default body', () => {
    expect(config.edition.body).toBe('digest');
  });

  it('heads a story routed to several sections once, and cross-references it in the others', () => {
    const routed = titles(seed).filter((title) => seed.sections.filter((section) => section.items.some((item) => item.title === title)).length > 1);
    expect(routed.length).toBeGreaterThan(0);
    for (const title of titles(seed)) {
      expect(occurrences(briefing.html, `>${escaped(title)}</a></h3>`)).toBe(1);
      expect(occurrences(briefing.text, `${title}\n${'-'.repeat(title.length)}\n`)).toBe(1);
    }
    for (const title of routed) {
      expect(briefing.html).toMatch(new RegExp(`>Also: <a href="#story-\\d+"[^>]*>${escaped(title)}</a> — see <a href="#section-[a-z-]+"`));
      expect(briefing.text).toMatch(new RegExp(`\\nAlso: ${title} — see [A-Z]`));
    }
  });

  it('puts a table of contents under the masthead whose links reach every section and story', () => {
    const contents = briefing.html.slice(briefing.html.indexOf('In this briefing'), briefing.html.indexOf('<h2'));
    for (const section of seed.sections) expect(contents).toContain(`>${escaped(section.title)}</strong></a>`);
    for (const title of titles(seed)) expect(contents).toContain(`>${escaped(title)}</a>`);
    const fragments = [...briefing.html.matchAll(/href="#([^"]+)"/g)].map((match) => match[1]);
    expect(fragments.length).toBeGreaterThan(seed.sections.length);
    for (const fragment of fragments) expect(briefing.html).toContain(`id="${fragment}"`);
    expect(briefing.text).toMatch(/\nIn this briefing:\n\* Peace talks\n {2}- /);
  });

  it('shows each story by its first paragraphs and links "Read the full story" to its article page', () => {
    for (const section of seed.sections) {
      for (const item of section.items) expect(briefing.html).toMatch(new RegExp(`href="https://briefing.example.org/articles/${item.articleId}.html"[^>]*>Read the full story</a>`));
    }
    const paragraphs = seed.sections.flatMap((section) => section.items.flatMap((item) => item.blocks));
    const shown = paragraphs.filter((block) => briefing.text.includes(block.text));
    expect(shown.length).toBeGreaterThanOrEqual(titles(seed).length);
    expect(shown.length).toBeLessThan(paragraphs.length / 4);
  });

  it('labels no story "Updated" in the first edition, though the evening record repeats the morning one', () => {
    expect(seed.sections.some((section) => section.items.some((item) => item.status === 'updated'))).toBe(true);
    expect(briefing.html).not.toContain('>Updated<');
    expect(briefing.text).not.toContain('Updated ·');
  });

  it('writes times with the zone abbreviation of the publication', async () => {
    expect(briefing.html).toContain('CBC News · Wed, 20:30 EEST');
    expect(briefing.text).toContain('CBC News · Wed, 12:58 EEST');
    // Plain "en" (the language `briefing init` writes): ICU has an offset for Kyiv there, the briefing the name.
    const english = await renderBriefing(seed, { config: { ...config, language: 'en' }, templates });
    expect(english.text).toContain('CBC News · Wed, 12:58 PM EEST');
    expect(english.text).not.toMatch(/GMT\+3/);
  });

  it('keeps the web version free of personal links and of a link to itself, with a subscribe link instead', () => {
    const web = briefing.web;
    expect(web).toBeDefined();
    for (const body of [web?.html ?? '', web?.text ?? '']) {
      expect(body).not.toMatch(/unsubscribe|view in browser|in your browser/i);
      expect(body).not.toContain(briefing.webUrl);
      for (const { token } of briefing.replacements) expect(body).not.toContain(token);
    }
    expect(web?.text).toContain('Subscribe: https://briefing.example.org/#subscribe');
    expect(briefing.html).toMatch(new RegExp(`href="${briefing.webUrl}"[^>]*>View in browser</a>`));
  });

  it('links the web version, a page of the site, into the site relatively, so a local serve keeps the reader', () => {
    const html = briefing.web?.html ?? '';
    const links = [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1] ?? '');
    expect(links).toContain('../../#subscribe');
    expect(links).toContain('../../');
    for (const section of seed.sections) for (const item of section.items) expect(links).toContain(`../../articles/${item.articleId}.html`);
    expect(links.filter((link) => link.startsWith('https://briefing.example.org'))).toEqual([]);
    // The email, read anywhere, keeps absolute links.
    expect(briefing.html).toContain(`href="https://briefing.example.org/articles/${seed.sections[0]?.items[0]?.articleId}.html"`);
  });
});

describe('the briefing of a later edition and of hand-made stories', () => {
  const slot = new Date('2025-07-24T18:00:00Z');

  it('labels "Updated" a story whose earlier version went out in an earlier edition', async () => {
    const first = { id: 'story', published: '2025-07-24T09:00:00Z', body: 'First fact.', topics: { '': ['talks'] } };
    const plan = (id: string, at: Date, specs: Array<typeof first & { updated?: string; body: string }>, previous?: Edition) =>
      planEdition({
        id,
        slot: at,
        timeZone: config.timeZone,
        siteUrl: config.siteUrl,
        articles: specs.map(makeArticle),
        topics: config.topics,
        settings: config.edition,
        previous: previous === undefined ? undefined : { cutoff: previous.window.until, memory: previous.memory },
      });
    const before = plan('2025-07-24', slot, [first]);
    const after = plan('2025-07-25', new Date('2025-07-25T18:00:00Z'), [{ ...first, updated: '2025-07-25T10:00:00Z', body: 'A new fact.\n\nFirst fact.' }], before);
    expect((await renderBriefing(before, { config, templates })).text).not.toContain('Updated ·');
    const updated = await renderBriefing(after, { config, templates });
    expect(updated.html).toMatch(/<span class="badge"[^>]*>Updated<\/span> · Test Wire/);
    expect(updated.text).toContain('Updated · Test Wire');
  });

  it('shows a picture only with a URL, a caption only under its picture, and a video only as a linked line', async () => {
    const edition = planEdition({
      id: '2025-07-24',
      slot,
      timeZone: config.timeZone,
      siteUrl: config.siteUrl,
      articles: [
        makeArticle({
          id: 'media',
          published: '2025-07-24T09:00:00Z',
          body: 'One paragraph.',
          topics: { '': ['talks'] },
          images: [
            { url: 'https://img.example.org/one.jpg', alt: 'Delegates at a table', caption: 'Delegates meet', credit: 'Wire Photo' },
            { alt: 'No picture here', caption: 'Caption without a picture' },
          ],
          videos: [
            { title: 'Linked clip', url: 'https://video.example.org/1', duration: '2:10' },
            { title: 'Clip without a link' },
          ],
        }),
      ],
      topics: config.topics,
      settings: config.edition,
      previous: undefined,
    });
    const full = testConfig((raw) => {
      (raw.edition as Record<string, unknown>).body = 'full';
    });
    const { html, text } = await renderBriefing(edition, { config: full, templates });
    expect(html.match(/<img /g)).toHaveLength(1);
    expect(html).toMatch(/<img [^>]*alt="Delegates at a table"[^>]*src="https:\/\/img\.example\.org\/one\.jpg"[\s\S]*?Delegates meet \(Wire Photo\)/);
    for (const body of [html, text]) {
      expect(body).not.toContain('Caption without a picture');
      expect(body).not.toContain('Clip without a link');
    }
    expect(html).toMatch(/Video: <a href="https:\/\/video\.example\.org\/1"[^>]*>Linked clip<\/a> \(2:10\)/);
    expect(text).toContain('Photo: Delegates meet (Wire Photo)');
    expect(text).toContain('Video: Linked clip (2:10) (https://video.example.org/1)');
  });
});

describe('the size goal of the seed digest', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-background-networking'] });
  });

  afterAll(async () => {
    await browser.close();
  });

  it('is under 40 KB of HTML and under 1,800 px tall at 600 px wide', async () => {
    expect(Buffer.byteLength(briefing.html)).toBeLessThan(40_000);
    const page = await browser.newPage({ viewport: { width: 600, height: 800 } });
    await page.setContent(briefing.html);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    expect(height).toBeLessThan(1_800);
    await page.close();
  });
});
