import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Edition } from '../../src/edition/edition.js';
import { planEdition } from '../../src/edition/plan-edition.js';
import type { Briefing } from '../../src/email/briefing.js';
import { loadBriefingTemplates, type BriefingTemplates } from '../../src/email/briefing-templates.js';
import { personaliseBriefing } from '../../src/email/personalise.js';
import { renderBriefing } from '../../src/email/render-briefing.js';
import { BriefingError } from '../../src/errors.js';
import { makeArticle, planSeedEdition, testConfig, type ArticleSpec } from '../edition/fixtures.js';

const config = testConfig();
let templates: BriefingTemplates;
let seed: Edition;
let briefing: Briefing;
const scratch: string[] = [];

beforeAll(async () => {
  templates = await loadBriefingTemplates(config.paths.templates);
  seed = (await planSeedEdition(config)).edition;
  briefing = await renderBriefing(seed, { config, templates });
});

afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** An edition of hand-made articles for 2025-07-24 (21:00 Kyiv), whose window covers the 23rd. */
function editionOf(specs: ArticleSpec[]): Edition {
  return planEdition({
    id: '2025-07-24',
    slot: new Date('2025-07-24T18:00:00Z'),
    timeZone: config.timeZone,
    siteUrl: config.siteUrl,
    articles: specs.map(makeArticle),
    topics: config.topics,
    settings: config.edition,
    previous: undefined,
  });
}

/** A copy of the shipped templates with edits, to test what a restyled template does. */
async function editedTemplates(edits: Record<string, (text: string) => string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'briefing-templates-'));
  scratch.push(dir);
  await cp(config.paths.templates, dir, { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const target = path.join(dir, file);
    await writeFile(target, edit(await readFile(target, 'utf8')));
  }
  return dir;
}

const hrefs = (html: string): string[] =>
  [...html.matchAll(/href="([^"]*)"/g)].map((match) => (match[1] ?? '').replaceAll('&#x3D;', '=').replaceAll('&amp;', '&'));

describe('renderBriefing: the seed edition', () => {
  it('writes the subject and preheader from the config templates, the date in the language and zone', () => {
    // Topics by their short titles (`topics[].short`), not their ids.
    expect(briefing.subject).toBe('Briefing, Wednesday 23 July 2025: peace talks, protests and the front line');
    expect(briefing.preheader).toMatch(/^At a short round of peace talks in Istanbul/);
    expect(briefing.preheader.length).toBeLessThanOrEqual(150);
    expect(briefing.webUrl).toBe('https://briefing.example.org/editions/2025-07-23/');
  });

  it('names a topic without a short form by its title, never by its id', async () => {
    const titled = testConfig((raw) => {
      for (const topic of raw.topics as Array<Record<string, unknown>>) delete topic.short;
    });
    expect((await renderBriefing(seed, { config: titled, templates })).subject).toBe('Briefing, Wednesday 23 July 2025: Peace talks, Protests in Ukraine and On the front line');
  });

  it.each([
    // US English keeps the comma after the weekday before a month name; other languages keep their own.
    ['en', 'Briefing, Wednesday, July 23, 2025: peace talks, protests, and the front line'],
    ['fr', 'Briefing, mercredi 23 juillet 2025: peace talks, protests et the front line'],
    ['de', 'Briefing, Mittwoch, 23. Juli 2025: peace talks, protests und the front line'],
  ])('writes the date and list in %s', async (language, subject) => {
    const localised = testConfig((raw) => {
      raw.language = language;
    });
    expect((await renderBriefing(seed, { config: localised, templates })).subject).toBe(subject);
  });

  it('has lang and dir, a title, real headings, dark-mode colours and a hidden preheader no filter calls low-contrast', () => {
    const { html } = briefing;
    expect(html).toMatch(/<html lang="en-GB" dir="ltr"/);
    expect(html).toContain(`<title>${briefing.subject}</title>`);
    expect(html).toMatch(/<h1[^>]*>Briefing<\/h1>/);
    expect(html.match(/<h2[^>]*>/g)).toHaveLength(seed.sections.length);
    // Every story headed once, however many sections it was routed to.
    expect(html.match(/<h3[^>]*>/g)?.length).toBe(new Set(seed.sections.flatMap((section) => section.items.map((item) => item.articleId))).size);
    expect(html).toContain('<meta name="color-scheme" content="light dark">');
    expect(html).toMatch(/@media \(prefers-color-scheme: dark\)/);
    const preheader = /<div class="preheader" style="([^"]*)">([^<]*)<\/div>/.exec(html);
    expect(preheader?.[1]).toContain('display:none');
    expect(preheader?.[1]).not.toMatch(/font-size|color/);
    expect(preheader?.[2]).toBe(briefing.preheader);
  });

  it('links to the web version, shows the postal line and a visible unsubscribe link', () => {
    const unsubscribe = briefing.replacements.find((replacement) => replacement.field === 'unsubscribeUrl');
    expect(unsubscribe).toBeDefined();
    expect(hrefs(briefing.html)).toContain(briefing.webUrl);
    expect(briefing.html).toContain(config.postalAddress);
    expect(briefing.html).toMatch(new RegExp(`<a href="${unsubscribe?.token}"[^>]*>Unsubscribe</a>`));
  });

  it('shows no picture, no caption and no "Photo:" line for images without a URL', () => {
    const captions = seed.sections.flatMap((section) => section.items.flatMap((item) => item.images.map((image) => image.caption ?? image.alt)));
    expect(captions.length).toBeGreaterThan(0);
    for (const body of [briefing.html, briefing.text]) {
      expect(body).not.toContain('Photo:');
      for (const caption of captions) expect(body).not.toContain(caption.replaceAll("'", '&#x27;'));
    }
    expect(briefing.html).not.toContain('<img');
  });

  it('has a plain-text part with the same headings, paragraphs and links as the HTML (full body)', async () => {
    const full = testConfig((raw) => {
      (raw.edition as Record<string, unknown>).body = 'full';
    });
    const { text, html } = await renderBriefing(seed, { config: full, templates });
    for (const section of seed.sections) {
      expect(text).toContain(`${section.title}\n${'='.repeat(section.title.length)}\n`);
      for (const item of section.items) {
        // The headline once, in the story's main section.
        expect(text.split(`${item.title}\n${'-'.repeat(item.title.length)}\n`)).toHaveLength(2);
        if (item.heading !== null) expect(text).toContain(`\n${item.heading}\n`);
        for (const block of item.blocks) expect(text).toContain(block.text);
      }
    }
    for (const href of new Set(hrefs(html).filter((href) => !href.startsWith('#')))) expect(text).toContain(href);
    expect(text).toContain(config.postalAddress);
    expect(text).not.toMatch(/<[a-z/]|&amp;|&#/);
    expect(text).not.toMatch(/\n{3}/);
  });

  it('renders the same bytes for the same edition and nonce', async () => {
    const render = () => renderBriefing(seed, { config, templates, nonce: () => 'abcdef0123456789' });
    expect(await render()).toEqual(await render());
  });
});

/** Every tag the templates and MJML produce; an article's markup would add others (script, svg, mj-…). */
const LAYOUT_TAGS = new Set(['html', 'head', 'title', 'meta', 'style', 'body', 'div', 'table', 'tbody', 'tr', 'td', 'p', 'a', 'h1', 'h2', 'h3', 'h4', 'span', 'strong', 'br', 'img', 'o:officedocumentsettings', 'o:allowpng', 'o:pixelsperinch', 'xml', 'noscript']);

describe('renderBriefing: hostile article text', () => {
  const hostile: ArticleSpec = {
    id: 'hostile',
    title: '</mj-text><script>alert(1)</script> & "quotes" ]]>\r\nBcc: victim@example.com',
    published: '2025-07-23T12:00:00Z',
    url: 'https://news.example.com/story?a=1&b="><script>x</script>',
    source: 'Wire <img src=x onerror=alert(1)>',
    body: [
      'Lede with <script>alert("body")</script> and </mj-text></mj-column><mj-raw><script>1</script></mj-raw> and ]]> and {{unsubscribeUrl}} and &amp;.',
      '[click me](javascript:alert(1)) and [relative](/path?x=1&y=2) and [fine](https://example.org/a?b=1&c=2)',
      '## <b>Bold</b> heading "><svg onload=alert(1)>',
      'Second part\u0007 with a bell and a\u0000 nul.',
    ].join('\n\n'),
    topics: { '': ['talks'], '<b>Bold</b> heading "><svg onload=alert(1)>': ['protests'] },
    images: [{ url: 'https://img.example.org/a.jpg?x=1&y="2"', alt: 'Alt with "quotes" & <tags>', caption: 'Caption <i>x</i>' }],
  };
  let rendered: Briefing;

  beforeAll(async () => {
    const subjectFromContent = testConfig((raw) => {
      (raw.edition as Record<string, unknown>).subject = '{{summary}}\r\nBcc: {{topics}}\u2028';
    });
    rendered = await renderBriefing(editionOf([hostile]), { config: subjectFromContent, templates });
  });

  it('puts no markup of the article into the HTML', () => {
    const { html } = rendered;
    const tags = new Set([...html.matchAll(/<([a-z][a-z0-9:-]*)/gi)].map((match) => match[1]?.toLowerCase()));
    expect([...tags].filter((tag) => !LAYOUT_TAGS.has(tag ?? ''))).toEqual([]);
    expect(html.match(/<img /g)).toHaveLength(1);
    expect(html).not.toMatch(/\son[a-z]+=|(href|src)="\s*javascript:/i);
    expect(html).toContain('&lt;/mj-text&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; ]]&gt;');
    expect(html).toContain('alt="Alt with &quot;quotes&quot; &amp; &lt;tags&gt;"');
    // Handlebars also escapes "=" (as &#x3D;), which HTML decodes back.
    expect(html).toContain('src="https://img.example.org/a.jpg?x&#x3D;1&amp;y&#x3D;&quot;2&quot;"');
    expect(hrefs(html)).toEqual(expect.arrayContaining(['https://news.example.com/path?x=1&y=2', 'https://example.org/a?b=1&c=2']));
    expect(html).not.toMatch(/[\u0000\u0007]/);
  });

  it('keeps the text part plain: the words as written, links absolute, no control characters', () => {
    const { text } = rendered;
    expect(text).toContain('Lede with <script>alert("body")</script> and </mj-text>');
    // markdown-it refuses the javascript: link and keeps its source as text; a relative link resolves against the article.
    expect(text).toContain('[click me](javascript:alert(1)) and relative (https://news.example.com/path?x=1&y=2) and fine (https://example.org/a?b=1&c=2)');
    expect(text).toContain('\n</mj-text><script>alert(1)</script> & "quotes" ]]> Bcc: victim@example.com\n---');
    expect(text).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F]/);
  });

  it('cannot put a line break or control character in the subject', () => {
    expect(rendered.subject).toMatch(/^Lede with <script>alert\("body"\)<\/script>/);
    expect(rendered.subject).not.toMatch(/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/);
    expect(rendered.subject).toContain('Bcc: peace talks and protests');
    expect(rendered.preheader).not.toMatch(/[\r\n]/);
  });

  it('leaves token-like article text alone when personalising', () => {
    const personal = personaliseBriefing(rendered, { name: 'N', address: 'a@example.org', unsubscribeUrl: 'https://briefing.example.org/unsubscribe?token=1.x', preferencesUrl: 'https://briefing.example.org/preferences?token=1.x' });
    expect(personal.text).toContain('and {{unsubscribeUrl}} and');
    expect(personal.html).toContain('and {{unsubscribeUrl}} and');
  });
});

describe('renderBriefing: the size budget', () => {
  it('fails with the size and the budget when the HTML is over edition.maxHtmlBytes', async () => {
    const small = testConfig((raw) => {
      (raw.edition as Record<string, unknown>).maxHtmlBytes = 20_000;
    });
    const error = await renderBriefing(seed, { config: small, templates }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BriefingError);
    expect(error).toMatchObject({ stage: 'email', code: 'too-large' });
    expect((error as Error).message).toMatch(/^email: edition 2025-07-23: the briefing's HTML is \d+\.\d KB \(\d+ bytes with personal values\), over the budget of 20\.0 KB \(edition\.maxHtmlBytes = 20000\)/);
  });

  it('fails on an edition too long for the default 102 KB budget', async () => {
    const long = Array.from({ length: 40 }, (_, index) => ({
      id: `long-${index}`,
      published: `2025-07-23T${String(10 + (index % 10)).padStart(2, '0')}:${String(index).padStart(2, '0')}:00Z`,
      body: Array.from({ length: 6 }, (_, paragraph) => `Paragraph ${paragraph} of story ${index}: ${'words '.repeat(60)}`).join('\n\n'),
      topics: { '': ['talks'] },
    }));
    await expect(renderBriefing(editionOf(long), { config, templates })).rejects.toMatchObject({ code: 'too-large' });
  });
});

describe('renderBriefing: template errors name the template', () => {
  it('names the partial and line of an MJML tag that does not exist', async () => {
    const dir = await editedTemplates({ 'partials/story.mjml': (text) => text.replace('<mj-text css-class="meta">', '<mj-txt css-class="meta">').replace('</mj-text>\n    {{#each parts}}', '</mj-txt>\n    {{#each parts}}') });
    const error = (await renderBriefing(seed, { config, templates: await loadBriefingTemplates(dir) }).catch((caught: unknown) => caught)) as BriefingError;
    expect(error).toBeInstanceOf(BriefingError);
    expect(error.code).toBe('invalid-template');
    expect(error.problems).toContainEqual(expect.objectContaining({ file: expect.stringMatching(/partials\/story\.mjml$/), line: 6, field: 'mj-txt' }));
  });

  it('traces an error that only filling reveals to the template line', async () => {
    // Each file is valid alone; filled, a section ends up inside a column.
    const dir = await editedTemplates({
      'partials/header.mjml': (text) => text.replace('  </mj-column>', '  {{#each sections}}{{> section}}{{/each}}\n  </mj-column>'),
    });
    const error = (await renderBriefing(seed, { config, templates: await loadBriefingTemplates(dir) }).catch((caught: unknown) => caught)) as BriefingError;
    expect(error.code).toBe('invalid-template');
    expect(error.problems).toContainEqual(expect.objectContaining({ file: expect.stringMatching(/partials\/section\.mjml$/), line: 1, field: 'mj-section' }));
    expect(error.message).toMatch(/filled MJML line \d+/);
  });

  it('names the file and line of a template syntax error', async () => {
    const dir = await editedTemplates({ 'briefing.txt': (text) => text.replace('{{/each}}\n{{#if empty}}', '{{/if}}\n{{#if empty}}') });
    const error = (await loadBriefingTemplates(dir).catch((caught: unknown) => caught)) as BriefingError;
    expect(error).toBeInstanceOf(BriefingError);
    expect(error.problems[0]).toMatchObject({ file: expect.stringMatching(/briefing\.txt$/), line: expect.any(Number) });
    expect(error.message).toMatch(/briefing\.txt:\d+: template syntax/);
  });
});
