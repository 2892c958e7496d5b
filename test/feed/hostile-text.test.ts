import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'htmlparser2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFeeds } from '../../src/feed/build-feeds.js';
import { makeArticle, testSite } from './article-fixture.js';
import { conformance, REFERENCE } from '../support/outside-material.js';
import { feedTexts, readFeeds, validateAtom, writeToTemporaryFolder, type FeedView } from './feed-clients.js';

// Everything a record could carry that XML, HTML or a feed reader might trip over.
const TITLE = 'Talks ]]> end ]]> <script>alert("x")</script> & &amp; &lt; \'q\' \u0001\u0008\u000B\uFFFE Привет, мир 🇺🇦🎉';
const SUMMARY = 'Summary <img src=x onerror=alert(1)> ]]> & Ünïcödé 🙂\u0007 end';
const BODY = '<p>Body ]]> with <b>bold</b> &amp; more ]]> Кириллица 🎉\u0002</p>';
const SOURCE = 'CBC <News> & "Co"';
const CREDIT = 'With files from <Reuters> ]]>';
const CAPTION = '<script>alert(2)</script> caption';

/** What XML can carry of a string: the control characters XML 1.0 forbids are dropped. */
const xmlText = (text: string): string => text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');

const hostile = makeArticle({
  id: 'hostile',
  title: TITLE,
  summary: SUMMARY,
  html: BODY,
  source: SOURCE,
  credits: [CREDIT],
  image: { url: 'https://images.example.org/a.jpg?x=1&y="2"', alt: '"><script>alert(3)</script>', caption: CAPTION },
  published: new Date('2025-07-23T09:58:11Z'),
});
const files = feedTexts(buildFeeds([hostile], testSite).files);
let folder: string;
let rss: FeedView;
let atom: FeedView;

beforeAll(async () => {
  folder = writeToTemporaryFolder(files);
  [rss, atom] = (await readFeeds([path.join(folder, 'feed.xml'), path.join(folder, 'atom.xml')])) as [FeedView, FeedView];
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Tags and text of an HTML fragment, read by an HTML parser. */
function htmlView(fragment: string): { tags: string[]; text: string } {
  const tags: string[] = [];
  const text: string[] = [];
  const walk = (nodes: ReturnType<typeof parseDocument>['children']): void => {
    for (const node of nodes) {
      if (node.type === 'tag' || node.type === 'script' || node.type === 'style') {
        tags.push(node.name);
        walk(node.children);
      } else if (node.type === 'text') {
        text.push(node.data);
      }
    }
  };
  walk(parseDocument(fragment, { decodeEntities: true }).children);
  return { tags, text: text.join('') };
}

describe('hostile article text', () => {
  it('leaves RSS and Atom well-formed (feedparser bozo 0) and Atom valid (jing)', async () => {
    expect(rss.reader.bozoException).toBeNull();
    expect(atom.reader.bozoException).toBeNull();
    expect(rss.xml.error).toBeUndefined();
    expect(atom.xml.error).toBeUndefined();
    expect((await validateAtom([path.join(folder, 'atom.xml')])).code).toBe(0);
  });

  conformance("leaves Atom valid by RFC 4287's own schema", [REFERENCE.atomSchema], async () => {
    expect((await validateAtom([path.join(folder, 'atom.xml')], REFERENCE.atomSchema)).code).toBe(0);
  });

  it('survives in the RSS title as text, with no element inside', () => {
    const [entry] = rss.reader.entries;
    expect(entry?.title.value).toBe(xmlText(TITLE));
    expect(rss.xml.entries[0]?.title).toMatchObject({ text: xmlText(TITLE), children: [] });
  });

  it('survives in the Atom title as escaped HTML that holds no markup', () => {
    const [entry] = atom.reader.entries;
    expect(entry?.title.type).toBe('text/html');
    expect(entry?.titleHtml).toEqual({ tags: [], text: xmlText(TITLE) });
    expect(atom.xml.entries[0]?.title?.children).toEqual([]);
  });

  it.each([
    ['RSS', () => rss],
    ['Atom', () => atom],
  ])('survives in the %s summary as text and the content keeps its markup but gains none', (_, feed) => {
    const [entry] = feed().reader.entries;
    expect(entry?.summaryHtml).toEqual({ tags: [], text: xmlText(SUMMARY) });
    const content = entry?.contentHtml;
    expect(content?.tags).toEqual(['figure', 'img', 'figcaption', 'p', 'b', 'p']);
    expect(content?.text).toContain(xmlText('Body ]]> with bold & more ]]> Кириллица 🎉\u0002'));
    expect(content?.text).toContain(`Source: ${SOURCE}. ${CREDIT}`);
    expect(content?.text).toContain(CAPTION);
  });

  it('survives in JSON Feed unchanged but for XML-illegal characters, and the HTML fields hold no injected markup', () => {
    const document = JSON.parse(files.get('feed.json') ?? '') as { items: Array<{ title: string; summary: string; content_html: string }> };
    const [item] = document.items;
    expect(item?.title).toBe(xmlText(TITLE));
    expect(item?.summary).toBe(xmlText(SUMMARY));
    const content = htmlView(item?.content_html ?? '');
    expect(content.tags).toEqual(['figure', 'img', 'figcaption', 'p', 'b', 'p']);
    expect(content.text).toContain(`Source: ${SOURCE}. ${CREDIT}`);
    expect(content.text).toContain(CAPTION);
  });

  it('keeps the image URL an attribute value, however it is quoted', () => {
    const document = JSON.parse(files.get('feed.json') ?? '') as { items: Array<{ content_html: string; image: string }> };
    const fragment = parseDocument(document.items[0]?.content_html ?? '');
    const image = fragment.children.flatMap((node) => ('children' in node ? node.children : [])).find((node) => 'name' in node && node.name === 'img');
    expect(image && 'attribs' in image ? image.attribs : undefined).toEqual({
      src: 'https://images.example.org/a.jpg?x=1&y=%222%22',
      alt: '"><script>alert(3)</script>',
      title: '"><script>alert(3)</script>',
    });
  });
});

describe('hostile topic titles', () => {
  it('are escaped in the Atom category label, which Briefing writes itself (feed wrote `<` unescaped)', async () => {
    const title = 'Talks <&> "quoted" ]]> end';
    const site = { ...testSite, topics: testSite.topics.map((topic) => (topic.id === 'talks' ? { ...topic, title } : topic)) };
    const own = feedTexts(buildFeeds([{ ...hostile, topics: ['talks'] }], site).files);
    const dir = writeToTemporaryFolder(own);
    try {
      const [view] = await readFeeds([path.join(dir, 'atom.xml')]);
      expect(view?.reader.bozoException).toBeNull();
      expect(view?.xml.error).toBeUndefined();
      expect(own.get('atom.xml')).toContain('<category term="talks" label="Talks &lt;&amp;&gt; &quot;quoted&quot; ]]&gt; end"/>');
      expect((await validateAtom([path.join(dir, 'atom.xml')])).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
