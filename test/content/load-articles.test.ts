import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loadArticles } from '../../src/content/load-articles.js';
import { BriefingError } from '../../src/errors.js';
import { conformance, RAW_TEXTS, REFERENCE } from '../support/outside-material.js';
import { folderWith, record, testRecordLimit, testTopics } from './helpers.js';

const zone = 'Europe/Kyiv';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function load(files: Record<string, string | Uint8Array>, timeZone = zone) {
  const folder = await folderWith(files);
  cleanups.push(folder.cleanup);
  return loadArticles({ dir: folder.dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone });
}

async function loadError(dir: string): Promise<BriefingError> {
  const error = await loadArticles({ dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: zone }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(BriefingError);
  return error as BriefingError;
}

describe('loadArticles: bad records', () => {
  it('reports every problem of every file at once, as content: FILE:LINE: field: what is wrong', async () => {
    const dir = 'test/fixtures/content/bad';
    const error = await loadError(dir);
    expect(error.stage).toBe('content');
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('content: 21 problems in the article records');
    const file = (name: string) => `${dir}/${name}`;
    expect(lines.slice(1)).toEqual([
      `content: ${file('2025-07-22-bad-fields.md')}:2: title: must not contain control characters or line breaks`,
      `content: ${file('2025-07-22-bad-fields.md')}:3: published: "23 July 2025" is not a date-time (use YYYY-MM-DDTHH:MM:SS with an optional offset)`,
      `content: ${file('2025-07-22-bad-fields.md')}:5: url: must be an absolute http or https URL`,
      `content: ${file('2025-07-22-bad-fields.md')}:6: topics.1: unknown topic "sports" (topics in the config: talks, protests)`,
      `content: ${file('2025-07-22-bad-fields.md')}:7: summary: must not be empty`,
      `content: ${file('2025-07-22-bad-fields.md')}:8: colour: is not a field of an article record`,
      `content: ${file('2025-07-22-bad-yaml.md')}:4: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      `content: ${file('2025-07-22-duplicate-key.md')}:4: invalid YAML: Map keys must be unique`,
      `content: ${file('2025-07-22-empty-body.md')}:6: body: is empty: a record needs at least one paragraph`,
      // The file ends at its closing `---`, on line 5: the body is placed there, not on a line 6 it lacks.
      `content: ${file('2025-07-22-ends-at-fence.md')}:5: body: is empty: a record needs at least one paragraph`,
      `content: ${file('2025-07-22-no-front-matter.md')}:1: front matter: missing: a record starts with a \`---\` line, its YAML fields, and another \`---\` line`,
      `content: ${file('2025-07-22-structures.md')}:2: title: must not be empty`,
      `content: ${file('2025-07-22-structures.md')}:2: published: is required`,
      `content: ${file('2025-07-22-structures.md')}:7: images.0.section: no subheading "No such heading" in the body`,
      `content: ${file('2025-07-22-structures.md')}:8: images.0.url: must be an absolute http or https URL`,
      `content: ${file('2025-07-22-structures.md')}:11: videos.0.duration: must be a duration such as 2:08`,
      `content: ${file('2025-07-22-structures.md')}:12: credits.1: must not be empty`,
      `content: ${file('2025-07-22-unclosed.md')}:1: front matter: not closed: no \`---\` line ends the YAML fields that this line opens`,
      `content: ${file('2025-07-22-updated.md')}:4: updated: is earlier than published`,
      `content: ${file('2025-07-22-updated.md')}:8: body: has an empty subheading`,
      `content: ${file('Bad_Name.md')}:1: id: "Bad_Name" (the file name) must be lower-case letters, digits and single dashes`,
    ]);
    expect(error.problems).toHaveLength(21);
    expect(error.problems[0]).toMatchObject({ file: file('2025-07-22-bad-fields.md'), line: 2, field: 'title' });
  });

  it.each([
    ['a javascript: URL', 'url: javascript:alert(1)', 'url: must be an absolute http or https URL'],
    ['a relative URL', 'url: /articles/x', 'url: must be an absolute http or https URL'],
    ['a data: image', 'image: { url: "data:image/png;base64,AA", alt: x }', 'image.url: must be an absolute http or https URL'],
    ['a title with a line break', 'title: "two\\nlines"', 'title: must not contain control characters or line breaks'],
    ['a title of spaces', 'title: "   "', 'title: must not be empty'],
    ['a numeric title', 'title: 2025', 'title: must be text'],
    ['a missing source', 'source: null', 'source: must be text'],
    ['a topic list that is not a list', 'topics: talks', 'topics: must be a list of topic ids'],
    ['front matter that is a list', '- a\n- b', '(top level): the front matter must be a mapping of fields'],
  ])('reports %s', async (_name, yaml, expected) => {
    const base = 'title: A record\npublished: 2025-07-23T10:00:00+03:00\nsource: Test';
    const overridden = yaml.startsWith('- ') ? yaml : `${base.split('\n').filter((line) => !line.startsWith(`${yaml.split(':')[0]}:`)).join('\n')}\n${yaml}`;
    const error = await load({ 'x.md': record('Text.', overridden) }).catch((thrown: unknown) => thrown as BriefingError);
    expect(error).toBeInstanceOf(BriefingError);
    expect((error as BriefingError).message).toContain(`x.md:`);
    expect((error as BriefingError).message).toContain(expected);
  });

  it('requires source, as the README says: a record without it is refused, not attributed to nobody', async () => {
    const error = await load({ 'x.md': record('Text.', 'title: A record\npublished: 2025-07-23T10:00:00+03:00') }).catch((thrown: unknown) => thrown as BriefingError);
    expect((error as BriefingError).message).toMatch(/x\.md:\d+: source: is required$/m);
    const readme = readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readme).toContain('required: `title`, `published` and `source`');
  });

  it('reports an empty front matter', async () => {
    const error = await load({ 'x.md': '---\n---\nText.\n' }).catch((thrown: unknown) => thrown as BriefingError);
    expect((error as BriefingError).message).toMatch(/x\.md:2: \(top level\): the front matter is empty$/m);
  });

  it('reports a folder that cannot be read', async () => {
    const error = await loadError('test/fixtures/content/no-such-folder');
    expect(error.message).toMatch(/^content: cannot read the content folder .*no-such-folder: ENOENT: create the folder, or point paths\.content in the config at the records$/);
  });
});

describe('loadArticles: records', () => {
  it('reads dates without an offset in the configured zone and keeps explicit offsets', async () => {
    const files = {
      'kyiv.md': record('Text.', 'title: Local\npublished: 2025-07-23 12:58:11\nsource: Test'),
      'offset.md': record('Text.', 'title: Offset\npublished: 2025-07-23T12:58:11-04:00\nsource: Test\nupdated: 2025-07-23T20:00:00'),
    };
    const [offset, kyiv] = await load(files);
    expect(kyiv?.published.toISOString()).toBe('2025-07-23T09:58:11.000Z');
    expect(offset?.published.toISOString()).toBe('2025-07-23T16:58:11.000Z');
    expect(offset?.updated?.toISOString()).toBe('2025-07-23T17:00:00.000Z');
    const [inToronto] = await load({ 'kyiv.md': files['kyiv.md'] }, 'America/Toronto');
    expect(inToronto?.published.toISOString()).toBe('2025-07-23T16:58:11.000Z');
  });

  it('sorts newest first, ties by id', async () => {
    const at = (time: string) => record('Text.', `title: T\npublished: ${time}\nsource: Test`);
    const articles = await load({
      'b.md': at('2025-07-23T10:00:00Z'),
      'a.md': at('2025-07-23T10:00:00Z'),
      'old.md': at('2025-07-01T10:00:00Z'),
      'new.md': at('2025-07-24T10:00:00Z'),
    });
    expect(articles.map((article) => article.id)).toEqual(['new', 'a', 'b', 'old']);
  });

  it('splits the body into sections and blocks with Markdown, HTML and text', async () => {
    const body = [
      'Lede with *emphasis* and a [link](https://example.org/a?b=1&c=2).',
      '',
      '## First &amp; foremost',
      '',
      '- one',
      '- two',
      '',
      '> A quote',
      '> over two lines.',
      '',
      '---',
      '',
      '## Second',
      '',
      '1. first',
      '2. second',
    ].join('\n');
    const [article] = await load({ 'x.md': record(body) });
    expect(article?.sections.map((section) => section.heading)).toEqual([null, 'First & foremost', 'Second']);
    expect(article?.sections[0]?.blocks).toEqual([
      {
        markdown: 'Lede with *emphasis* and a [link](https://example.org/a?b=1&c=2).',
        html: '<p>Lede with <em>emphasis</em> and a <a href="https://example.org/a?b=1&amp;c=2">link</a>.</p>',
        text: 'Lede with emphasis and a link.',
      },
    ]);
    expect(article?.sections[1]?.blocks.map((block) => block.text)).toEqual(['- one\n- two', 'A quote over two lines.']);
    expect(article?.sections[1]?.blocks[1]?.markdown).toBe('> A quote\n> over two lines.');
    expect(article?.sections[2]?.blocks.map((block) => block.text)).toEqual(['1. first\n2. second']);
    expect(article?.html).toContain('<h2>First &amp; foremost</h2>');
    expect(article?.html).toContain('<hr />');
    expect(article?.summary).toBe('Lede with emphasis and a link.');
  });

  it('derives the summary from the lede, shortened on a word boundary', async () => {
    const lede = `${'word '.repeat(100)}end.`;
    const [article] = await load({ 'x.md': record(lede) });
    expect(article?.summary.length).toBeLessThanOrEqual(300);
    expect(article?.summary).toMatch(/^(word )+word…$/);
  });

  it('accepts CRLF line endings and a byte-order mark', async () => {
    const text = '\uFEFF---\r\ntitle: Windows\r\npublished: 2025-07-23T10:00:00Z\r\nsource: Test\r\n---\r\nFirst.\r\n\r\n## Next\r\n\r\nSecond.\r\n';
    const [article] = await load({ 'x.md': text });
    expect(article?.title).toBe('Windows');
    expect(article?.sections.map((section) => section.heading)).toEqual([null, 'Next']);
  });

  it('refuses a record that is not UTF-8, naming the line of its first foreign byte, rather than showing U+FFFD', async () => {
    const latin1 = Buffer.concat([Buffer.from('---\ntitle: A caf'), Buffer.from([0xe9]), Buffer.from('\npublished: 2025-07-23T10:00:00Z\nsource: Test\n---\nBody.\n')]);
    const error = (await load({ 'latin1.md': latin1 }).catch((caught: unknown) => caught)) as BriefingError;
    expect(error).toBeInstanceOf(BriefingError);
    expect(error.message).toMatch(/latin1\.md:2: is not UTF-8 text \(byte 0xE9\): save it as UTF-8/);
  });

  it('assigns topics per section by the rules, or inherits the front matter topics', async () => {
    const body = 'Ceasefire talks went on.\n\n## Streets\n\nA protest against corruption.\n\n## Weather\n\nSunny.';
    const [byRules] = await load({ 'x.md': record(body) });
    expect(byRules?.sections.map((section) => section.topics)).toEqual([['talks'], ['protests'], []]);
    expect(byRules?.topics).toEqual(['talks', 'protests']);
    const [byFrontMatter] = await load({ 'x.md': record(body, 'title: T\npublished: 2025-07-23T10:00:00Z\nsource: Test\ntopics: [talks]') });
    expect(byFrontMatter?.topics).toEqual(['talks']);
    expect(byFrontMatter?.sections.map((section) => section.topics)).toEqual([['talks'], ['protests'], ['talks']]);
  });

  it('changes the content hash when the file changes, and only then', async () => {
    const folder = await folderWith({ 'x.md': record('One.') });
    cleanups.push(folder.cleanup);
    const options = { dir: folder.dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: zone };
    const [first] = await loadArticles(options);
    const [again] = await loadArticles(options);
    await writeFile(path.join(folder.dir, 'x.md'), record('Two.'));
    const [changed] = await loadArticles(options);
    expect(again?.contentHash).toBe(first?.contentHash);
    expect(changed?.contentHash).not.toBe(first?.contentHash);
  });

  it('ignores files that are not records', async () => {
    const articles = await load({ 'x.md': record('Text.'), 'notes.txt': 'not a record', '.hidden.md': 'nope' });
    expect(articles.map((article) => article.id)).toEqual(['x']);
  });
});

describe('the content folder', () => {
  const config = loadConfig('briefing.config.json');
  const loadContent = () => loadArticles({ dir: config.paths.content, topics: config.topics, timeZone: config.timeZone, maxRecordBytes: config.content.maxRecordBytes });

  it('holds both stories, the wrap-up after the preview', async () => {
    const articles = await loadContent();
    expect(articles.map((article) => [article.id, article.published.toISOString()])).toEqual([
      ['2025-07-23-istanbul-talks-wrap', '2025-07-23T17:30:00.000Z'],
      ['2025-07-23-istanbul-talks-preview', '2025-07-23T09:58:11.000Z'],
    ]);
    for (const article of articles) {
      expect(article.source).toBe('CBC News');
      expect(article.file).toBe(`content/${article.id}.md`);
    }
  });

  it('keeps the sections of the source stories', async () => {
    const [wrap, preview] = await loadContent();
    expect(preview?.sections.map((section) => section.heading)).toEqual([
      null,
      'Russia presses on in eastern Ukraine',
      'Protests against Ukraine government move',
    ]);
    expect(wrap?.sections.map((section) => section.heading)).toEqual([
      'Russia says there was agreement on more prisoner swaps',
      'Disagreement on ceasefire terms',
      'Shortest talks yet',
      'Russia presses on in eastern Ukraine',
      'Protests against Ukraine government',
    ]);
    expect(wrap?.kicker).toBe('World');
    expect(wrap?.credits).toContain('With files from CBC News');
  });

  it('puts each section under a topic by the configured rules', async () => {
    const [wrap, preview] = await loadContent();
    expect(preview?.sections.map((section) => section.topics[0])).toEqual(['talks', 'war', 'protests']);
    expect(wrap?.sections.map((section) => section.topics[0])).toEqual(['talks', 'talks', 'talks', 'war', 'protests']);
    expect(wrap?.topics).toEqual(['talks', 'war', 'protests']);
  });

  it('carries the photo captions with their credits and the videos', async () => {
    const [wrap, preview] = await loadContent();
    expect(preview?.images.map((image) => image.credit)).toEqual(['Nina Liashonok/Reuters', 'Tetiana Dzhafarova/AFP/Getty Images']);
    expect(wrap?.images.map((image) => image.credit)).toEqual([
      'Serhii Korovainyi/Reuters',
      'Russian Defense Ministry Press Service/The Associated Press',
      'Thomas Peter/Reuters',
    ]);
    expect(wrap?.videos.map((video) => [video.title, video.age, video.duration])).toEqual([
      ['Trump’s Russia-Ukraine ceasefire deadline met with skepticism', '10 days ago', '2:08'],
      ['Why Russian drones are getting harder to shoot down', '3 days ago', '2:06'],
    ]);
    expect(preview?.videos.map((video) => video.title)).toEqual(wrap?.videos.map((video) => video.title));
  });

  it('repeats the paragraphs the two stories share word for word, so a repeat can be recognised', async () => {
    const [wrap, preview] = await loadContent();
    const texts = (article: typeof wrap) => new Set(article?.sections.flatMap((section) => section.blocks.map((block) => block.text)));
    const inWrap = texts(wrap);
    const shared = [...texts(preview)].filter((text) => inWrap.has(text));
    expect(shared.map((text) => text.slice(0, 40))).toEqual([
      'Heavy fighting continues along a front l',
      "Russia said on Wednesday that its troops",
      'Ukraine has struck back. Last month it s',
      "Putin has previously rejected Zelenskyy'",
      "For decades Ukraine was regarded as one ",
      'Investors and ordinary Ukrainians regula',
    ]);
  });

  // Facts may carry over from a source, sentences may not: no run of eight words outside quotation marks.
  const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}’'-]+/gu) ?? [];
  const runs = (text: string) => {
    const list = words(text);
    return new Set(list.slice(0, Math.max(0, list.length - 7)).map((_, index) => list.slice(index, index + 8).join(' ')));
  };
  const unquoted = (text: string) => text.replace(/"[^"]*"/g, ' ');
  const runsOfFiles = (files: readonly string[]) => new Set(files.flatMap((file) => [...runs(readFileSync(file, 'utf8'))]));
  const copiedInto = (articles: Array<{ sections: Array<{ blocks: Array<{ text: string }> }> }>, source: Set<string>) =>
    articles.flatMap((article) =>
      article.sections.flatMap((section) => section.blocks.flatMap((block) => [...runs(unquoted(block.text))].filter((run) => source.has(run)))),
    );

  it('the own-words check catches a sentence lifted from a raw text, and lets it stand inside quotation marks', async () => {
    const rawRuns = runsOfFiles(Object.values(RAW_TEXTS));
    expect(rawRuns.size).toBeGreaterThan(900);
    const lifted = 'Talks with the province over that share have stalled since June, when the transport ministry asked the city for a new ridership forecast.';
    const [own, copied, quoted] = await load({
      'a-own.md': record('The province and the city have not agreed on the share since June.', 'title: Own\npublished: 2025-09-16T12:00:00+03:00\nsource: Test'),
      'b-copied.md': record(`As reported, ${lifted}`, 'title: Copied\npublished: 2025-09-16T11:00:00+03:00\nsource: Test'),
      'c-quoted.md': record(`The Ledger wrote: "${lifted}"`, 'title: Quoted\npublished: 2025-09-16T10:00:00+03:00\nsource: Test'),
    });
    expect([own, copied, quoted].map((article) => article?.title)).toEqual(['Own', 'Copied', 'Quoted']);
    expect(copiedInto([own!], rawRuns)).toEqual([]);
    expect(copiedInto([copied!], rawRuns)).toHaveLength(words(lifted).length - 7);
    expect(copiedInto([quoted!], rawRuns)).toEqual([]);
  });

  conformance(
    'the content and the raw test texts tell their stories in their own words: no run of eight words of a seed outside quotations',
    Object.values(REFERENCE.seeds),
    async () => {
      const seedRuns = runsOfFiles(Object.values(REFERENCE.seeds));
      expect(seedRuns.size).toBeGreaterThan(1500);
      expect(copiedInto(await loadContent(), seedRuns)).toEqual([]);
      const rawTexts = Object.values(RAW_TEXTS).map((file) => ({ sections: [{ blocks: [{ text: readFileSync(file, 'utf8') }] }] }));
      expect(copiedInto(rawTexts, seedRuns)).toEqual([]);
    },
  );
});
