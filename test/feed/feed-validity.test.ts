import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFeeds } from '../../src/feed/build-feeds.js';
import { makeArticle, makeArticles, testSite } from './article-fixture.js';
import { conformance, REFERENCE } from '../support/outside-material.js';
import { feedTexts, jsonFeedErrors, readFeeds, validateAtom, writeToTemporaryFolder, type FeedView } from './feed-clients.js';

// Seven articles, three in the subscription feeds, pages of two: archive pages 1 (a-001, a-002) and 2 (a-003, a-004).
const articles = [
  ...makeArticles(6).map((article, index) =>
    index === 4 ? { ...article, updated: new Date('2025-07-05T08:00:00Z'), url: 'https://www.cbc.ca/news/world/talks-1.7591234' } : article,
  ),
  makeArticle({
    id: 'a-007',
    title: 'Istanbul talks end in 40 minutes',
    published: new Date('2025-07-23T17:30:00Z'),
    updated: new Date('2025-07-23T18:10:00Z'),
    topics: ['talks', 'protests'],
    image: { url: 'https://images.example.org/odesa.jpg', alt: 'A damaged car', caption: 'Residents inspect a car.', credit: 'Nina Liashonok/Reuters' },
    sourceUrl: 'https://www.cbc.ca/news/world/russia-ukraine-talks-1.7592000',
    credits: ['With files from Reuters'],
  }),
];
const files = feedTexts(buildFeeds(articles, testSite).files);
let folder: string;
let views: Map<string, FeedView>;

beforeAll(async () => {
  folder = writeToTemporaryFolder(files);
  const xmlFiles = [...files.keys()].filter((file) => file.endsWith('.xml'));
  const parsed = await readFeeds(xmlFiles.map((file) => path.join(folder, file)));
  views = new Map(parsed.map((view) => [path.relative(folder, view.file), view]));
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

const view = (file: string): FeedView => {
  const found = views.get(file);
  if (!found) throw new Error(`no view of ${file}`);
  return found;
};

describe('buildFeeds', () => {
  it('writes the subscription feeds and two archive pages in each format', () => {
    expect([...files.keys()].sort()).toEqual([
      'archive/atom-1.xml',
      'archive/atom-2.xml',
      'archive/feed-1.json',
      'archive/feed-1.xml',
      'archive/feed-2.json',
      'archive/feed-2.xml',
      'atom.xml',
      'feed.json',
      'feed.xml',
    ]);
  });

  it("writes Atom that jing validates against the repository's schema of RFC 4287", async () => {
    const atomFiles = ['atom.xml', 'archive/atom-1.xml', 'archive/atom-2.xml'].map((file) => path.join(folder, file));
    const result = await validateAtom(atomFiles);
    expect(result.output.replace(/^\[warning\].*\n/gm, '')).toBe('');
    expect(result.code).toBe(0);
  });

  /** The subscription feed with one change made to its first entry (or to the whole text). */
  const newestEntry = (change: (entry: string) => string) => (atom: string) => atom.replace(/<entry>[\s\S]*?<\/entry>/, change);
  it.each([
    ['a feed without its id', (atom: string) => atom.replace('<id>https://briefing.example.org/atom.xml</id>', ''), /element "entry" not allowed yet; missing required element "id"/],
    ['an entry without an id', newestEntry((entry) => entry.replace(/<id>[^<]*<\/id>/, '')), /element "entry" incomplete; missing required element "id"/],
    ['an entry without updated', newestEntry((entry) => entry.replace(/<updated>[^<]*<\/updated>/, '')), /element "entry" incomplete; missing required element "updated"/],
    ['an entry with an empty id', newestEntry((entry) => entry.replace(/<id>[^<]*<\/id>/, '<id/>')), /character content of element "id" invalid/],
    ['an updated timestamp without a zone', newestEntry((entry) => entry.replace(/<updated>([^<]*?)(\.000)?Z<\/updated>/, '<updated>$1</updated>')), /content of element "updated" invalid/],
    ['no author, neither for the feed nor for its entries', (atom: string) => atom.replace(/<author>[\s\S]*?<\/author>/g, ''), /element "entry" incomplete; expected element "author"/],
    ['an entry with neither content nor an alternate link', newestEntry((entry) => entry.replace(/<content[\s\S]*?<\/content>/, '').replace('<link href=', '<link rel="related" href=')), /element "entry" incomplete/],
    ['a category without a term', newestEntry((entry) => entry.replace(/<category term="[^"]*"/, '<category')), /element "category" missing required attribute "term"/],
  ])('the schema check can fail: jing rejects %s', async (_name, breakIt, expected) => {
    const original = readFileSync(path.join(folder, 'atom.xml'), 'utf8');
    const broken = breakIt(original);
    expect(broken).not.toBe(original);
    const brokenFolder = writeToTemporaryFolder(new Map([['atom.xml', broken]]));
    try {
      const result = await validateAtom([path.join(brokenFolder, 'atom.xml')]);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(expected);
    } finally {
      rmSync(brokenFolder, { recursive: true, force: true });
    }
  });

  conformance("Atom that jing validates against RFC 4287's own schema (../shared/validators/atom.rnc)", [REFERENCE.atomSchema], async () => {
    const atomFiles = ['atom.xml', 'archive/atom-1.xml', 'archive/atom-2.xml'].map((file) => path.join(folder, file));
    const result = await validateAtom(atomFiles, REFERENCE.atomSchema);
    expect(result.output.replace(/^\[warning\].*\n/gm, '')).toBe('');
    expect(result.code).toBe(0);
  });

  it.each(['atom.xml', 'archive/atom-1.xml', 'archive/atom-2.xml'])('%s meets the Schematron notes: authors, ids, zoned timestamps, xml:lang', (file) => {
    const { xml } = view(file);
    expect(xml.error).toBeUndefined();
    expect(xml.problems).toEqual([]);
    expect(xml.lang).toBe('en');
  });

  it.each(['feed.xml', 'atom.xml', 'archive/feed-1.xml', 'archive/atom-1.xml', 'archive/feed-2.xml', 'archive/atom-2.xml'])(
    'feedparser reads %s with bozo 0',
    (file) => {
      const { reader } = view(file);
      expect(reader.bozoException).toBeNull();
      expect(reader.bozo).toBe(0);
      expect(reader.feed.title).toBe('Briefing');
      expect(reader.feed.language).toBe('en');
    },
  );

  it.each(['feed.xml', 'atom.xml'])('%s holds the newest three articles with titles, links, ids and dates', (file) => {
    const { reader } = view(file);
    expect(reader.version).toBe(file === 'atom.xml' ? 'atom10' : 'rss20');
    expect(reader.entries.map((entry) => entry.id)).toEqual(
      ['a-007', 'a-006', 'a-005'].map((id) => `https://briefing.example.org/articles/${id}.html`),
    );
    const [newest, , edited] = reader.entries;
    expect(newest?.title.value).toBe('Istanbul talks end in 40 minutes');
    expect(newest?.link).toBe('https://briefing.example.org/articles/a-007.html');
    expect(newest?.publishedParsed).toEqual([2025, 7, 23, 17, 30, 0]);
    // The record's source is the author, not the publication's desk.
    expect(newest?.author).toContain('CBC News');
    // The canonical URL is the link; the id stays the article's own page.
    expect(edited?.link).toBe('https://www.cbc.ca/news/world/talks-1.7591234');
    expect(edited?.id).toBe('https://briefing.example.org/articles/a-005.html');
    if (file === 'atom.xml') {
      expect(newest?.updatedParsed).toEqual([2025, 7, 23, 18, 10, 0]);
      expect(edited?.updatedParsed).toEqual([2025, 7, 5, 8, 0, 0]);
      expect(newest?.tags).toEqual(['talks', 'protests']);
    } else {
      expect(newest?.published).toBe('Wed, 23 Jul 2025 17:30:00 GMT');
      expect(newest?.tags).toEqual(['Peace talks', 'Protests in Ukraine']);
    }
    expect(newest?.contentHtml.tags).toEqual(expect.arrayContaining(['figure', 'img', 'figcaption', 'p', 'a']));
    expect(newest?.contentHtml.text).toContain('Source: CBC News. With files from Reuters');
  });

  it.each(['feed.xml', 'atom.xml', 'feed.json'])('%s shows the picture in its HTML with the alt text as alt and as title (newsboat labels a picture by its title)', (file) => {
    const text = readFileSync(path.join(folder, file), 'utf8');
    const html = file.endsWith('.json') ? ((JSON.parse(text) as { items: Array<{ content_html: string }> }).items[0]?.content_html ?? '') : text;
    expect(html).toMatch(/<img src="https:\/\/images\.example\.org\/odesa\.jpg" alt="A damaged car" title="A damaged car">/);
  });

  it.each(['feed.xml', 'atom.xml'])('%s links itself (rel=self) and its newest archive page (prev-archive)', (file) => {
    const links = view(file).reader.feed.links;
    const stem = file === 'atom.xml' ? 'atom' : 'feed';
    expect(links).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rel: 'self', href: `https://briefing.example.org/${file}` }),
        expect.objectContaining({ rel: 'prev-archive', href: `https://briefing.example.org/archive/${stem}-2.xml` }),
      ]),
    );
    expect(links.some((link) => link.rel === 'current' || link.rel === 'next-archive')).toBe(false);
    expect(view(file).xml.archive).toBe(false);
  });

  it('takes the feed-level updated from the newest change of its articles, not the clock', () => {
    expect(view('atom.xml').reader.feed.updatedParsed).toEqual([2025, 7, 23, 18, 10, 0]);
    expect(view('feed.xml').reader.feed.updated).toBe('Wed, 23 Jul 2025 18:10:00 GMT');
    expect(view('archive/atom-1.xml').reader.feed.updatedParsed).toEqual([2025, 7, 1, 1, 0, 0]);
  });

  it('writes RSS with content:encoded, dc:creator and atom:link rel=self', () => {
    const rss = readFileSync(path.join(folder, 'feed.xml'), 'utf8');
    expect(rss).toContain('xmlns:content="http://purl.org/rss/1.0/modules/content/"');
    expect(rss).toContain('<dc:creator>CBC News</dc:creator>');
    expect(rss).toContain('<atom:link href="https://briefing.example.org/feed.xml" rel="self" type="application/rss+xml"/>');
    expect(rss).toContain('<content:encoded><![CDATA[');
  });

  it.each(['feed.json', 'archive/feed-1.json', 'archive/feed-2.json'])('%s validates against the JSON Feed 1.1 schema', (file) => {
    const document = JSON.parse(files.get(file) ?? '') as Record<string, unknown>;
    expect(jsonFeedErrors(document)).toEqual([]);
    expect(document.version).toBe('https://jsonfeed.org/version/1.1');
    expect(document.language).toBe('en');
    expect(document.authors).toEqual([{ name: 'Briefing desk' }]);
    for (const item of document.items as Array<Record<string, unknown>>) expect(item.authors).toEqual([{ name: 'CBC News' }]);
  });

  it('gives the picture as RSS enclosure (length 0: unknown without fetching it) and media:content with its alt text', () => {
    const rss = readFileSync(path.join(folder, 'feed.xml'), 'utf8');
    expect(rss).toContain('xmlns:media="http://search.yahoo.com/mrss/"');
    expect(rss).toContain('<enclosure url="https://images.example.org/odesa.jpg" length="0" type="image/jpeg"/>');
    // feed writes item extensions, children on their own lines.
    expect(rss).toMatch(/<media:content url="https:\/\/images\.example\.org\/odesa\.jpg" type="image\/jpeg" medium="image">\s*<media:description>A damaged car<\/media:description>\s*<\/media:content>/);
    expect(rss.match(/<enclosure /g)).toHaveLength(1);
  });

  it('gives the picture as Atom link rel=enclosure with type and title, and JSON Feed attachments with type and title', () => {
    const atom = readFileSync(path.join(folder, 'atom.xml'), 'utf8');
    expect(atom).toContain('<link rel="enclosure" type="image/jpeg" href="https://images.example.org/odesa.jpg" title="A damaged car"/>');
    const document = JSON.parse(files.get('feed.json') ?? '') as { items: Array<Record<string, unknown>> };
    expect(document.items[0]?.attachments).toEqual([{ url: 'https://images.example.org/odesa.jpg', mime_type: 'image/jpeg', title: 'A damaged car' }]);
    expect(document.items[1]?.attachments).toBeUndefined();
  });

  it('tells RSS readers of an update with atom:updated while the GUID stays the article page', () => {
    const { reader } = view('feed.xml');
    const [newest] = reader.entries;
    expect(newest?.id).toBe('https://briefing.example.org/articles/a-007.html');
    expect(newest?.updatedParsed).toEqual([2025, 7, 23, 18, 10, 0]);
    expect(newest?.publishedParsed).toEqual([2025, 7, 23, 17, 30, 0]);
  });

  it('labels Atom categories with the topic titles', () => {
    const atom = readFileSync(path.join(folder, 'atom.xml'), 'utf8');
    expect(atom).toContain('<category term="talks" label="Peace talks"/>');
    expect(atom).toContain('<category term="protests" label="Protests in Ukraine"/>');
  });

  it('the JSON Feed schema check can fail', () => {
    expect(jsonFeedErrors({ version: 'https://jsonfeed.org/version/1.1', items: [{ title: 'no id' }] })).not.toEqual([]);
  });

  it('gives JSON Feed items ids, absolute URLs, dates and the article image', () => {
    const document = JSON.parse(files.get('feed.json') ?? '') as { feed_url: string; next_url: string; items: Array<Record<string, unknown>> };
    expect(document.feed_url).toBe('https://briefing.example.org/feed.json');
    expect(document.next_url).toBe('https://briefing.example.org/archive/feed-2.json');
    expect(document.items[0]).toMatchObject({
      id: 'https://briefing.example.org/articles/a-007.html',
      url: 'https://briefing.example.org/articles/a-007.html',
      title: 'Istanbul talks end in 40 minutes',
      date_published: '2025-07-23T17:30:00.000Z',
      date_modified: '2025-07-23T18:10:00.000Z',
      image: 'https://images.example.org/odesa.jpg',
      tags: ['Peace talks', 'Protests in Ukraine'],
    });
  });
});

describe('videos in feed content', () => {
  it('are linked lines for videos with a web link, and absent otherwise', () => {
    const withVideos = makeArticle({
      id: 'v-001',
      published: new Date('2025-07-24T08:00:00Z'),
      videos: [
        { title: 'Linked <clip>', url: 'https://video.example.org/1' },
        { title: 'Unlinked clip' },
      ],
    });
    const json = JSON.parse(feedTexts(buildFeeds([withVideos], testSite).files).get('feed.json') ?? '') as { items: Array<{ content_html: string }> };
    const html = json.items[0]?.content_html ?? '';
    expect(html).toContain('<p>Video: <a href="https://video.example.org/1">Linked &lt;clip&gt;</a></p>');
    expect(html).not.toContain('Unlinked clip');
  });
});
