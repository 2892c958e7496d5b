import { spawnSync } from 'node:child_process';
import { Feed, type FeedOptions, type Item } from 'feed';
import { DomUtils, parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { asFeedCdataHtml, asFeedHtmlText, asFeedText, completeFeedDocument, feedExtension, holdContents, rssItemExtensions } from '../../src/feed/feed-package-adapter.js';

/*
 * One test per quirk of the `feed` package that src/feed/feed-package-adapter.ts corrects. Each first
 * shows the bare package still has the quirk: when an upgrade of `feed` fixes it, that half fails,
 * and the correction should leave the adapter. The other half shows the adapter's output is right.
 */

const OPTIONS: FeedOptions = {
  id: 'https://briefing.example.org/atom.xml',
  title: 'Briefing',
  description: 'A daily briefing.',
  link: 'https://briefing.example.org/',
  updated: new Date('2025-07-23T18:00:00Z'),
  generator: false,
  author: { name: 'Briefing desk' },
  feedLinks: { rss: 'https://briefing.example.org/feed.xml', atom: 'https://briefing.example.org/atom.xml' },
};

const ITEM: Item = {
  title: 'Talks',
  id: 'https://briefing.example.org/articles/a.html',
  link: 'https://briefing.example.org/articles/a.html',
  date: new Date('2025-07-23T12:00:00Z'),
  content: '<p>Body.</p>',
};

/** A bare `feed` Feed with the given options and items. */
function bareFeed(items: Array<Partial<Item>>, options: Partial<FeedOptions> = {}): Feed {
  const feed = new Feed({ ...OPTIONS, ...options });
  for (const item of items) feed.addItem({ ...ITEM, ...item });
  return feed;
}

/** What libxml2 (xmllint, a strict XML parser) reads at `xpath`, or `undefined` when the document is not well-formed. */
function readXml(xml: string, xpath: string): string | undefined {
  const result = spawnSync('xmllint', ['--xpath', xpath, '-'], { input: xml, encoding: 'utf8' });
  if (result.status !== 0) return undefined;
  return result.stdout.replace(/\n$/, '');
}

const wellFormed = (xml: string): boolean => readXml(xml, 'count(/*)') === '1';

/** The text an HTML reader shows for an HTML fragment (entities decoded, tags gone). */
const htmlText = (html: string): string => DomUtils.textContent(parseDocument(html, { decodeEntities: true }));

describe('quirks of the feed package the adapter corrects', () => {
  it('1: element text has every `&amp;` decoded before escaping, so a literal "&amp;" loses its "amp;"', () => {
    expect(readXml(bareFeed([], { title: 'AT&amp;T' }).rss2(), 'string(/rss/channel/title)'), 'quirk gone: drop asFeedText').toBe('AT&T');
    expect(readXml(bareFeed([], { title: asFeedText('AT&amp;T & co') }).rss2(), 'string(/rss/channel/title)')).toBe('AT&amp;T & co');
  });

  it('2: a CDATA section has only its first `]]>` split, so a second one breaks the document', () => {
    const content = '<p>a ]]> b ]]> c</p>';
    expect(wellFormed(bareFeed([{ content }]).rss2()), 'quirk gone: drop asFeedCdataHtml').toBe(false);
    const rss = bareFeed([{ content: asFeedCdataHtml(content) }]).rss2();
    const encoded = readXml(rss, 'string(//item/*[local-name()="encoded"])');
    expect(encoded).toBe('<p>a ]]&gt; b ]]&gt; c</p>');
    expect(htmlText(encoded ?? '')).toBe('a ]]> b ]]> c');
  });

  it('3: attribute values get only `"` escaped, so a `<` in one breaks the document', () => {
    const label = 'Talks <in> Istanbul & "Ankara"';
    const atom = bareFeed([{ category: [{ term: 'talks', name: label }] }]).atom1();
    expect(wellFormed(atom), 'quirk gone: Atom categories can go through feed').toBe(false);
    const rss = bareFeed([{ extensions: rssItemExtensions([{ name: 'enclosure', attributes: { url: 'https://e.org/a.jpg?a=1&b=<2>', type: 'image/jpeg' } }]) }]).rss2();
    expect(readXml(rss, 'string(//item/enclosure/@url)')).toBe('https://e.org/a.jpg?a=1&b=<2>');
    const completed = completeFeedDocument(bareFeed([{}]).atom1(), { container: 'feed', entry: 'entry' }, {
      rootAttributes: {},
      head: [],
      entries: [[{ name: 'category', attributes: { term: 'talks', label } }]],
    });
    expect(readXml(completed, 'string(//*[local-name()="category"]/@label)')).toBe(label);
  });

  it('4: Atom titles and summaries are marked type="html", so plain text with markup would be read as markup', () => {
    const title = 'Tom & <b>Jerry</b> 1<2';
    const bare = bareFeed([{ title, description: title }]).atom1();
    expect(readXml(bare, 'string(//*[local-name()="entry"]/*[local-name()="title"]/@type)'), 'quirk gone: drop asFeedHtmlText').toBe('html');
    expect(htmlText(readXml(bare, 'string(//*[local-name()="entry"]/*[local-name()="title"])') ?? '')).not.toBe(title);
    const atom = bareFeed([{ title: asFeedHtmlText(title), description: asFeedHtmlText(title) }]).atom1();
    expect(htmlText(readXml(atom, 'string(//*[local-name()="entry"]/*[local-name()="title"])') ?? '')).toBe(title);
    expect(htmlText(readXml(atom, 'string(//*[local-name()="entry"]/*[local-name()="summary"])') ?? '')).toBe(title);
  });

  it('5: RSS item titles are CDATA (split only at the first `]]>`); a title extension replaces them with text where they stand', () => {
    const title = 'a ]]> b ]]> c & &amp;';
    const bare = bareFeed([{ title }]).rss2();
    expect(bare, 'quirk gone: drop the title extension').toContain('<title><![CDATA[a ]]]]><![CDATA[> b ]]> c');
    expect(wellFormed(bare)).toBe(false);
    const rss = bareFeed([{ title, extensions: rssItemExtensions([{ name: 'title', attributes: {}, text: title }]) }]).rss2();
    expect(readXml(rss, 'string(//item/title)')).toBe(title);
    expect(readXml(rss, 'count(//item/title)')).toBe('1');
    expect(readXml(rss, 'local-name(//item/*[1])')).toBe('title');
  });

  it('6: JSON Feed is written as version 1 with no language nor authors; an extension of any type becomes a member', () => {
    const bare = JSON.parse(bareFeed([{}]).json1()) as Record<string, unknown>;
    expect(bare.version, 'quirk gone: drop the version member').toBe('https://jsonfeed.org/version/1');
    expect(Object.keys(bare)).not.toContain('language');
    const feed = bareFeed([{ extensions: [feedExtension('authors', [{ name: 'CBC News' }])] }]);
    feed.addExtension(feedExtension('version', 'https://jsonfeed.org/version/1.1'));
    feed.addExtension(feedExtension('language', 'uk'));
    const document = JSON.parse(feed.json1()) as { version: string; language: string; items: Array<{ authors: unknown }> };
    expect(Object.keys(document)[0]).toBe('version');
    expect(document.version).toBe('https://jsonfeed.org/version/1.1');
    expect(document.language).toBe('uk');
    expect(document.items[0]?.authors).toEqual([{ name: 'CBC News' }]);
  });

  it('7: Atom entries ignore extensions, and an enclosure is one per item with its type guessed from the file name', () => {
    const extension = { name: 'media:content', objects: { _attributes: { url: 'https://e.org/a.jpg' } } };
    expect(bareFeed([{ extensions: [extension] }]).atom1(), 'quirk gone: Atom entry additions can be extensions').not.toContain('media:content');
    expect(bareFeed([{ extensions: [extension] }]).rss2()).toContain('<media:content url="https://e.org/a.jpg"/>');
    const guessed = bareFeed([{ image: 'https://e.org/a.jpg', enclosure: { url: 'https://e.org/b.png' } }]);
    expect(readXml(guessed.rss2(), 'string(//item/enclosure/@type)'), 'quirk gone: feed can write our enclosures').toBe('image/jpg');
    expect(readXml(guessed.rss2(), 'count(//item/enclosure)')).toBe('1');
    const atom = completeFeedDocument(bareFeed([{}, {}]).atom1(), { container: 'feed', entry: 'entry' }, {
      rootAttributes: {},
      head: [],
      entries: [
        [
          { name: 'link', attributes: { rel: 'enclosure', type: 'image/jpeg', href: 'https://e.org/a.jpg', title: 'A car' } },
          { name: 'link', attributes: { rel: 'enclosure', type: 'image/png', href: 'https://e.org/b.png', title: '' } },
        ],
        [],
      ],
    });
    expect(readXml(atom, 'count(//*[local-name()="entry"][1]/*[local-name()="link"][@rel="enclosure"])')).toBe('2');
    expect(readXml(atom, 'string(//*[local-name()="entry"][1]/*[local-name()="link"][@rel="enclosure"][1]/@type)')).toBe('image/jpeg');
    expect(readXml(atom, 'count(//*[local-name()="entry"][2]/*[local-name()="link"][@rel="enclosure"])')).toBe('0');
  });

  it('8: no option for root attributes or more head links, and RSS channel extensions land after the items', () => {
    const bare = bareFeed([{}]);
    expect(readXml(bare.atom1(), 'count(/*/@xml:lang)'), 'quirk gone: xml:lang can be an option').toBe('0');
    bare.addExtension({ name: 'fh:archive', objects: {} });
    const bareRss = bare.rss2();
    expect(bareRss.indexOf('<fh:archive'), 'quirk gone: RSS head elements can be channel extensions').toBeGreaterThan(bareRss.lastIndexOf('</item>'));
    const additions = {
      rootAttributes: { 'xmlns:fh': 'http://purl.org/syndication/history/1.0' },
      head: [{ name: 'fh:archive', attributes: {} }],
    };
    const rss = completeFeedDocument(bareFeed([{}]).rss2(), { container: 'channel', entry: 'item' }, additions);
    expect(readXml(rss, 'local-name(/rss/channel/item[1]/preceding-sibling::*[1])')).toBe('archive');
    expect(readXml(rss, 'namespace-uri(/rss/channel/*[local-name()="archive"])')).toBe('http://purl.org/syndication/history/1.0');
    const atom = completeFeedDocument(bareFeed([]).atom1(), { container: 'feed', entry: 'entry' }, { rootAttributes: { 'xml:lang': 'uk' }, head: [] });
    expect(readXml(atom, 'string(/*/@xml:lang)')).toBe('uk');
  });

  it('9: RSS pubDate takes `published` over `date` and `author` wants an address: atom:updated and dc:creator as item extensions', () => {
    const published = new Date('2025-07-23T09:00:00Z');
    const bare = bareFeed([{ published, author: [{ name: 'CBC News' }] }]).rss2();
    expect(readXml(bare, 'string(//item/pubDate)'), 'quirk gone: pubDate and date can be given apart').toBe(published.toUTCString());
    expect(bare).not.toContain(ITEM.date.toUTCString());
    expect(readXml(bare, 'string(//item/author)'), 'quirk gone: feed writes dc:creator').toBe('CBC News');
    const rss = completeFeedDocument(
      bareFeed([
        {
          published,
          extensions: rssItemExtensions([
            { name: 'dc:creator', attributes: {}, text: 'CBC <News> & "Co"' },
            { name: 'atom:updated', attributes: {}, text: ITEM.date.toISOString() },
          ]),
        },
      ]).rss2(),
      { container: 'channel', entry: 'item' },
      { rootAttributes: { 'xmlns:dc': 'http://purl.org/dc/elements/1.1/' }, head: [] },
    );
    expect(readXml(rss, 'string(//item/*[local-name()="creator"])')).toBe('CBC <News> & "Co"');
    expect(readXml(rss, 'string(//item/*[local-name()="updated"])')).toBe(ITEM.date.toISOString());
  });

  it('refuses a document whose entries or root attributes are not what the adapter expects', () => {
    const atom = bareFeed([{}]).atom1();
    expect(() => completeFeedDocument(atom, { container: 'feed', entry: 'entry' }, { rootAttributes: {}, head: [], entries: [[], []] })).toThrow(
      'feed: the feed package wrote 1 <entry> elements for 2 entries',
    );
    expect(() => completeFeedDocument(atom, { container: 'feed', entry: 'entry' }, { rootAttributes: { xmlns: 'urn:other' }, head: [] })).toThrow(
      'the feed package set xmlns="http://www.w3.org/2005/Atom", expected "urn:other"',
    );
  });
});

describe('contents held back from the feed package', () => {
  const contents = [
    '<p>Body.</p>',
    '<p>a ]]> b ]]> c</p>',
    '<p>AT&amp;T &lt;b&gt; "quoted" & \'single\'</p>',
    // Text that looks like a placeholder, a CDATA section, and the end of one.
    '<p>briefing-content-AAAA-0 <![CDATA[briefing-content-x-1]]> ]]></p>',
    '',
    '<p>\u00e9\u{1F600} \t\n</p>',
  ];

  it.each([
    ['rss', (feed: Feed) => feed.rss2(), { container: 'channel', entry: 'item' }],
    ['atom', (feed: Feed) => feed.atom1(), { container: 'feed', entry: 'entry' }],
  ] as const)('%s: put in afterwards, they give the bytes feed writes when given them', (_format, write, shape) => {
    const additions = { rootAttributes: { 'xml:lang': 'uk' }, head: [{ name: 'fh:archive', attributes: {} }], entries: contents.map(() => []) };
    // A character beyond Latin-1 around the contents too: the document is then two bytes a character.
    const options = { title: 'Russia\u2013Ukraine' };
    const direct = completeFeedDocument(write(bareFeed(contents.map((content) => ({ content: asFeedCdataHtml(content) })), options)), shape, additions);
    const held = holdContents('cdata');
    const placed = held.place(completeFeedDocument(write(bareFeed(contents.map((content) => ({ content: held.hold(content) })), options)), shape, additions));
    expect(placed.equals(Buffer.from(direct, 'utf8'))).toBe(true);
    expect(wellFormed(placed.toString('utf8'))).toBe(true);
  });

  it('json: put in afterwards, they give the bytes feed writes when given them', () => {
    const options = { title: 'Russia\u2013Ukraine' };
    const direct = bareFeed(contents.map((content) => ({ content })), options).json1();
    const held = holdContents('json');
    const placed = held.place(bareFeed(contents.map((content) => ({ content: held.hold(content) })), options).json1());
    expect(placed.equals(Buffer.from(direct, 'utf8'))).toBe(true);
    expect((JSON.parse(placed.toString('utf8')) as { items: Array<{ content_html: string }> }).items.map((item) => item.content_html)).toEqual(contents);
  });

  it('refuses a document that lacks one of its placeholders', () => {
    const held = holdContents('cdata');
    const rss = bareFeed([{ content: held.hold('<p>a</p>') }]).rss2();
    held.hold('<p>b</p>');
    expect(() => held.place(rss)).toThrow(/did not write content 2 of 2/);
  });

  it('refuses a document that has one of its placeholders twice', () => {
    const held = holdContents('json');
    const placeholder = held.hold('<p>a</p>');
    const json = bareFeed([{ content: placeholder }, { content: placeholder }]).json1();
    expect(() => held.place(json)).toThrow(/wrote a content twice/);
  });
});

