import { mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Article } from '../../src/content/article.js';
import { BriefingError } from '../../src/errors.js';
import type { FeedPage } from '../../src/feed/feed-pages.js';
import { createSitePages, type PageSite } from '../../src/output/site-pages.js';
import { compileSiteTemplates, readSiteTemplates, type SiteTemplates } from '../../src/output/site-templates.js';
import { makeArticle, testSite } from '../feed/article-fixture.js';
import { elementsOf, select, type ElementView } from './html-view.js';

const TEMPLATES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../templates');
const HOSTILE = '"><script>alert(1)</script> & ]]> Привет 🎉';
let templates: SiteTemplates;
const renderArticlePage = (article: Article, site: PageSite): string => createSitePages(site, templates).articlePage(article);
/** The home page (the subscription feed's articles) or archive page `number`, with its neighbours. */
const renderListPage = (articles: Article[], site: PageSite, page: Partial<FeedPage> = {}, pageCount = 4): string =>
  createSitePages(site, templates).listPage({ kind: 'current', number: 0, articles, prevArchive: undefined, nextArchive: undefined, ...page }, pageCount);

beforeAll(async () => {
  templates = compileSiteTemplates(await readSiteTemplates(TEMPLATES));
});

const article = makeArticle({
  id: 'istanbul-talks',
  title: `Istanbul talks ${HOSTILE}`,
  kicker: 'World',
  summary: `Summary ${HOSTILE}`,
  published: new Date('2025-07-23T09:58:11Z'),
  updated: new Date('2025-07-23T18:10:00Z'),
  source: `CBC ${HOSTILE}`,
  sourceUrl: 'https://www.cbc.ca/news/world/talks-1.7592000',
  url: 'javascript:alert(1)',
  topics: ['talks', 'protests'],
  image: { url: 'https://images.example.org/lead.jpg', alt: `Lead ${HOSTILE}`, caption: 'Lead caption', credit: 'Agency' },
  images: [
    { alt: 'No URL, caption only', caption: `Protesters in Kyiv ${HOSTILE}`, credit: 'Tetiana Dzhafarova/AFP', section: 'Protests' },
    { url: 'javascript:alert(2)', alt: 'Bad URL', caption: 'Unplaced caption', section: 'No such section' },
  ],
  videos: [{ title: `Drones ${HOSTILE}`, intro: 'Why drones', age: '3 days ago', duration: '2:06', description: 'Upgraded drones.', section: null }],
  credits: [`With files from Reuters ${HOSTILE}`],
  sections: [
    { heading: null, blocks: [{ markdown: 'Lede.', html: '<p>Lede paragraph.</p>', text: 'Lede.' }], topics: ['talks'] },
    { heading: 'Protests', blocks: [{ markdown: 'P.', html: '<p>Protest paragraph.</p>', text: 'P.' }], topics: ['protests'] },
    { heading: `Last ${HOSTILE}`, blocks: [{ markdown: 'L.', html: '<p>Last paragraph.</p>', text: 'L.' }], topics: [] },
  ],
});

function expectNoActiveContent(elements: ElementView[]): void {
  expect(select(elements, 'script')).toEqual([]);
  expect(select(elements, 'style')).toEqual([]);
  for (const element of elements) {
    expect(Object.keys(element.attributes).filter((name) => name.startsWith('on') || name === 'style'), element.name).toEqual([]);
    for (const value of Object.values(element.attributes)) expect(value).not.toMatch(/^\s*javascript:/i);
  }
}

/** The head's links; `base` leads to the site root: feed links stay on the server the page came from. */
function expectHead(elements: ElementView[], base: string): void {
  expect(select(elements, 'meta', { name: 'viewport' })).toHaveLength(1);
  expect(select(elements, 'link', { rel: 'stylesheet' }).map((link) => link.attributes.href)).toEqual([`${base}style.css`]);
  expect(select(elements, 'link', { rel: 'alternate' }).map((link) => [link.attributes.type, link.attributes.href])).toEqual([
    ['application/rss+xml', `${base}feed.xml`],
    ['application/atom+xml', `${base}atom.xml`],
    ['application/feed+json', `${base}feed.json`],
  ]);
  // Absolute links only where a page must name itself (canonical): none to the site's own files.
  for (const element of elements) {
    if (element.name === 'link' && element.attributes.rel === 'canonical') continue;
    for (const value of [element.attributes.href, element.attributes.src, element.attributes.action]) expect(value ?? '').not.toMatch(/^https:\/\/briefing\.example\.org/);
  }
}

describe('article page', () => {
  const html = (): string => renderArticlePage(article, testSite);

  it('sets lang and dir from the config, and links style sheet, feeds and canonical URL', () => {
    const elements = elementsOf(renderArticlePage(article, { ...testSite, language: 'ar', direction: 'rtl' }));
    expect(select(elements, 'html')[0]?.attributes).toEqual({ lang: 'ar', dir: 'rtl' });
    expectHead(elements, '../');
    // A javascript: canonical URL is dropped for the page's own address.
    expect(select(elements, 'link', { rel: 'canonical' })[0]?.attributes.href).toBe('https://briefing.example.org/articles/istanbul-talks.html');
  });

  it('shows hostile text as text and lets no markup through', () => {
    const elements = elementsOf(html());
    expectNoActiveContent(elements);
    expect(select(elements, 'title')[0]?.text).toBe(`Istanbul talks ${HOSTILE} · Briefing`);
    expect(select(elements, 'h1')[0]?.text).toBe(`Istanbul talks ${HOSTILE}`);
    expect(select(elements, 'meta', { name: 'description' })[0]?.attributes.content).toBe(`Summary ${HOSTILE}`);
    expect(select(elements, 'img', { src: 'https://images.example.org/lead.jpg' })[0]?.attributes.alt).toBe(`Lead ${HOSTILE}`);
  });

  it('shows kicker, dates in the publication zone, source, topics and credits', () => {
    const elements = elementsOf(html());
    expect(select(elements, 'p', { class: 'kicker' })[0]?.text).toBe('World');
    expect(select(elements, 'time').map((time) => time.attributes.datetime)).toEqual(['2025-07-23T12:58:11+03:00', '2025-07-23T21:10:00+03:00']);
    expect(select(elements, 'ul', { class: 'topics' })[0]?.text).toBe('Peace talksProtests in Ukraine');
    const attribution = select(elements, 'footer', { class: 'attribution' })[0];
    expect(attribution?.text).toContain(`Source: CBC ${HOSTILE}`);
    expect(attribution?.text).toContain(`With files from Reuters ${HOSTILE}`);
    expect(select(elements, 'a', { href: 'https://www.cbc.ca/news/world/talks-1.7592000' })[0]?.text).toBe(`CBC ${HOSTILE}`);
  });

  it('places each section with its paragraphs, figures and videos', () => {
    const elements = elementsOf(html());
    const sections = select(elements, 'section');
    expect(sections).toHaveLength(3);
    expect(select(elements, 'h2').filter((heading) => heading.ancestors.includes('section')).map((heading) => heading.text)).toEqual(['Protests', `Last ${HOSTILE}`]);
    const [first, protests, last] = sections;
    expect(first?.text).toContain('Lede paragraph.');
    // A video without a link is not shown: a box to nowhere.
    expect(first?.text).not.toContain(`Drones ${HOSTILE}`);
    expect(protests?.text).toContain('Protest paragraph.');
    expect(last?.text).toContain('Last paragraph.');
    // A caption shows only under its picture: the caption-only image and the one with a javascript: URL show nothing.
    expect(select(elements, 'img')).toHaveLength(1);
    expect(select(elements, 'figcaption').map((caption) => caption.text)).toEqual(['Lead caption (Agency)']);
    expect(html()).not.toContain('Protesters in Kyiv');
    expect(html()).not.toContain('Unplaced caption');
  });

  it('shows a linked video as a link and never writes a relative age into the static page', () => {
    const linked = { ...article, videos: [{ title: 'Drones', age: '10 days ago', duration: '2:06', url: 'https://video.example.org/drones', section: null }] };
    const elements = elementsOf(renderArticlePage(linked, testSite));
    expect(select(elements, 'a', { href: 'https://video.example.org/drones' })[0]?.text).toBe('Drones');
    expect(renderArticlePage(linked, testSite)).not.toMatch(/\bago\b/);
  });

  it('does not repeat the source in a "Source:" line when a credit already names it, and offers a subscribe form', () => {
    const credited = { ...article, source: 'CBC News', sourceUrl: undefined, credits: ['With files from CBC News'] };
    const elements = elementsOf(renderArticlePage(credited, testSite));
    const attribution = select(elements, 'footer', { class: 'attribution' })[0];
    expect(attribution?.text).toContain('With files from CBC News');
    expect(attribution?.text).not.toContain('Source:');
    expect(select(elements, 'form', { id: 'subscribe' })).toHaveLength(1);
    expect(select(elements, 'input', { name: 'name' })).toHaveLength(1);
  });

  it('writes times with the zone abbreviation', () => {
    const kyiv = elementsOf(renderArticlePage(article, { ...testSite, language: 'en-GB', timeZone: 'Europe/Kyiv' }));
    expect(select(kyiv, 'time')[0]?.text).toBe('23 Jul 2025, 12:58 EEST');
    // Plain "en" (the language `briefing init` writes) has no name for London's summer time but an offset.
    const london = elementsOf(renderArticlePage(article, { ...testSite, language: 'en', timeZone: 'Europe/London' }));
    expect(select(london, 'time')[0]?.text).toBe('Jul 23, 2025, 10:58 AM BST');
    const berlin = elementsOf(renderArticlePage(article, { ...testSite, language: 'de', timeZone: 'Europe/Berlin' }));
    expect(select(berlin, 'time')[0]?.text).toMatch(/ MESZ$/);
  });
});

describe('home page', () => {
  const older = makeArticle({ id: 'older', title: 'Older story', published: new Date('2025-07-22T08:00:00Z') });
  const html = (): string => renderListPage([article, older], testSite);

  it('lists the articles in the given order, newest first, with relative links', () => {
    const elements = elementsOf(html());
    const links = select(elements, 'a').filter((link) => link.ancestors.includes('ol'));
    expect(links.map((link) => [link.attributes.href, link.text])).toEqual([
      ['articles/istanbul-talks.html', `Istanbul talks ${HOSTILE}`],
      ['articles/older.html', 'Older story'],
    ]);
    expectNoActiveContent(elements);
    expectHead(elements, './');
    expect(select(elements, 'html')[0]?.attributes).toEqual({ lang: 'en', dir: 'ltr' });
  });

  it('has a subscribe form posting an email address to /subscribe', () => {
    const elements = elementsOf(html());
    const [form] = select(elements, 'form');
    expect(form?.attributes).toMatchObject({ method: 'post' });
    expect(new URL(form?.attributes.action ?? '', 'https://briefing.example.org/').pathname).toBe('/subscribe');
    expect(select(elements, 'input', { name: 'address' })[0]?.attributes).toMatchObject({ type: 'email', required: '' });
    expect(select(elements, 'button', { type: 'submit' })).toHaveLength(1);
  });

  it('says so when there are no articles', () => {
    expect(elementsOf(renderListPage([], testSite)).some((element) => element.text === 'No articles yet.')).toBe(true);
  });

  it('does not repeat the masthead as its heading, and links the editions and their feeds', () => {
    const elements = elementsOf(html());
    expect(select(elements, 'h1')[0]?.text).not.toBe(testSite.title);
    const hrefs = select(elements, 'a').map((link) => link.attributes.href);
    expect(hrefs).toEqual(expect.arrayContaining(['./editions/index.html', './editions/feed.xml', './editions/atom.xml', './editions/feed.json']));
    expect(select(elements, 'input').map((input) => input.attributes.name)).toEqual(['address', 'name', 'topics', 'topics']);
  });

  it('offers the configured topics as ticked boxes on the subscribe form, escaped, and none for a publication of one topic', () => {
    const hostile = { ...testSite, topics: [...testSite.topics, { id: 'war', title: `War ${HOSTILE}`, match: [], minMatches: 1 }] };
    const elements = elementsOf(renderListPage([article], hostile));
    const boxes = select(elements, 'input', { name: 'topics' });
    expect(boxes.map((box) => [box.attributes.type, box.attributes.value, box.attributes.checked])).toEqual([
      ['checkbox', 'talks', ''],
      ['checkbox', 'protests', ''],
      ['checkbox', 'war', ''],
    ]);
    expect(boxes.every((box) => box.ancestors.includes('fieldset') && box.ancestors.includes('label'))).toBe(true);
    expect(select(elements, 'label').map((label) => label.text.trim())).toEqual(expect.arrayContaining([`War ${HOSTILE}`]));
    expectNoActiveContent(elements);
    const single = elementsOf(renderListPage([article], { ...testSite, topics: testSite.topics.slice(0, 1) }));
    expect(select(single, 'input', { name: 'topics' })).toEqual([]);
    expect(select(single, 'fieldset')).toEqual([]);
  });

  it('links to the newest archive page when older articles are archived, and has no navigation otherwise', () => {
    const nav = (html: string) => select(elementsOf(html), 'a').filter((link) => ['Newer articles', 'Older articles'].includes(link.text));
    expect(nav(html())).toEqual([]);
    const withArchive = nav(renderListPage([article], testSite, { prevArchive: 7 }));
    expect(withArchive.map((link) => [link.text, link.attributes.href])).toEqual([['Older articles', 'archive/page-7.html']]);
  });
});

describe('archive page', () => {
  const older = makeArticle({ id: 'older', title: 'Older story', published: new Date('2025-07-22T08:00:00Z') });
  const page = (fields: Partial<FeedPage>): ElementView[] => elementsOf(renderListPage([article, older], testSite, { kind: 'archive', number: 3, ...fields }));
  const nav = (elements: ElementView[]) =>
    select(elements, 'a')
      .filter((link) => ['Newer articles', 'Older articles'].includes(link.text))
      .map((link) => [link.text, link.attributes.href]);

  it('lists its articles with links and style sheet relative to the archive folder, and names itself canonical', () => {
    const elements = page({ prevArchive: 2, nextArchive: 4 });
    const links = select(elements, 'a').filter((link) => link.ancestors.includes('ol'));
    expect(links.map((link) => link.attributes.href)).toEqual(['../articles/istanbul-talks.html', '../articles/older.html']);
    expectNoActiveContent(elements);
    expectHead(elements, '../');
    expect(select(elements, 'link', { rel: 'canonical' })[0]?.attributes.href).toBe('https://briefing.example.org/archive/page-3.html');
    expect(select(elements, 'title')[0]?.text).toBe('Briefing: archive, page 3');
  });

  it.each([
    [1, 4, 'Archive pages: 1 2 3 4'],
    [3, 20, 'Archive pages: 1 2 3 4 5 6 7 8 … 20'],
    [250, 500, 'Archive pages: 1 … 245 246 247 248 249 250 251 252 253 254 255 … 500'],
    [499, 500, 'Archive pages: 1 … 494 495 496 497 498 499 500'],
  ])('lists archive page %i of %i with its neighbours, the first and the last, not every page', (number, pageCount, text) => {
    const elements = elementsOf(renderListPage([article, older], testSite, { kind: 'archive', number }, pageCount));
    expect(select(elements, 'nav', { class: 'page-list' })[0]?.text.trim()).toBe(text);
    const hrefs = select(elements, 'a').filter((link) => link.ancestors.includes('nav') && /^\d+$/.test(link.text));
    expect(hrefs.map((link) => link.attributes.href)).toEqual(hrefs.map((link) => `../archive/page-${link.text}.html`));
  });

  it('names itself and its date range in its heading, and lists every archive page', () => {
    const elements = page({ prevArchive: 2, nextArchive: 4 });
    expect(select(elements, 'h1')[0]?.text).toBe('Archive, page 3: Jul 22, 2025 to Jul 23, 2025');
    const list = select(elements, 'nav', { class: 'page-list' })[0];
    expect(list?.text.trim()).toBe('Archive pages: 1 2 3 4');
    expect(select(elements, 'a').filter((link) => link.ancestors.includes('nav') && /^\d+$/.test(link.text)).map((link) => link.attributes.href)).toEqual([
      '../archive/page-1.html',
      '../archive/page-2.html',
      '../archive/page-4.html',
    ]);
  });

  it.each([
    ['between two others', { prevArchive: 2, nextArchive: 4 }, [['Newer articles', '../archive/page-4.html'], ['Older articles', '../archive/page-2.html']]],
    ['the newest, under the home page', { prevArchive: 2, nextArchive: undefined }, [['Newer articles', '../'], ['Older articles', '../archive/page-2.html']]],
    ['the oldest', { number: 1, prevArchive: undefined, nextArchive: 2 }, [['Newer articles', '../archive/page-2.html']]],
  ])('links to its neighbours when it is %s', (_name, fields, expected) => {
    expect(nav(page(fields))).toEqual(expected);
  });
});

describe('site templates', () => {
  const withBrokenTemplate = (file: string, text: string): string => {
    const folder = mkdtempSync(path.join(tmpdir(), 'briefing-templates-'));
    cpSync(TEMPLATES, folder, { recursive: true });
    writeFileSync(path.join(folder, file), text);
    return folder;
  };

  it('reports a syntax error with the template file and line', async () => {
    const folder = withBrokenTemplate('article.hbs', '<!doctype html>\n<p>fine</p>\n{{#each sections}}\n<p>never closed</p>\n');
    try {
      const sources = await readSiteTemplates(folder);
      const error = (() => {
        try {
          compileSiteTemplates(sources);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(BriefingError);
      expect((error as BriefingError).message).toMatch(/^output: the site templates have errors\noutput: templates\/article\.hbs:5: template syntax: Expecting .*got 'EOF' near "/);
      expect((error as BriefingError).problems[0]).toMatchObject({ file: 'templates/article.hbs', line: 5 });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('names a missing template file', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'briefing-templates-'));
    try {
      await expect(readSiteTemplates(folder)).rejects.toThrow(/^output: cannot read the template .*index\.hbs: ENOENT/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
