import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { formatRecord } from '../../src/content/format-record.js';
import { importRawArticle, type ImportedRecord } from '../../src/content/import-raw.js';
import { loadArticles } from '../../src/content/load-articles.js';
import { BriefingError } from '../../src/errors.js';
import { folderWith, testTopics } from './helpers.js';

const SEEDS = '../shared/seeds';
const PREVIEW_FILE = `${SEEDS}/000_6b3c912130be6f25.txt`;
const WRAP_FILE = `${SEEDS}/004_922878f7dfab2107.txt`;
const zone = 'Europe/Kyiv';
const preview = () => importRawArticle(readFileSync(PREVIEW_FILE, 'utf8'), { file: PREVIEW_FILE, timeZone: zone, source: 'CBC News' });
const wrap = () =>
  importRawArticle(readFileSync(WRAP_FILE, 'utf8'), { file: WRAP_FILE, timeZone: zone, published: '2025-07-23T20:30:00', source: 'CBC News' });

const headings = (record: ImportedRecord) => [...record.body.matchAll(/^## (.*)$/gm)].map((match) => match[1]);

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

function importError(text: string, options: Partial<Parameters<typeof importRawArticle>[1]> = {}): BriefingError {
  try {
    importRawArticle(text, { file: 'raw.txt', timeZone: zone, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(BriefingError);
    return error as BriefingError;
  }
  throw new Error('expected the import to fail');
}

describe('importRawArticle on the first seed (preview)', () => {
  it('reads the headline and the Published line in the configured zone, dropping the views', () => {
    const record = preview();
    expect(record.frontMatter.title).toBe('Russia, Ukraine to hold first peace talks in nearly 2 months');
    expect(record.frontMatter.published).toBe('2025-07-23T12:58:11+03:00');
    expect(record.frontMatter.kicker).toBeUndefined();
    expect(record.id).toBe('2025-07-23-russia-ukraine-to-hold-first-peace-talks-in-nearly-2-months');
    expect(record.body).not.toMatch(/Published:|Views/);
  });

  it('finds the subheadings', () => {
    expect(headings(preview())).toEqual(['Russia presses on in eastern Ukraine', 'Protests against Ukraine government move']);
  });

  it('keeps photo alt text, captions and credits as images, not paragraphs', () => {
    const record = preview();
    expect(record.frontMatter.images).toEqual([
      {
        alt: 'Two men and a woman inspect a heavily damaged car with a smashed windshield, amid other damaged vehicles in an urban setting.',
        caption: 'Residents inspect a damaged car at the site of the Russian drone strike in Odesa, Ukraine, on Tuesday.',
        credit: 'Nina Liashonok/Reuters',
        section: 'Russia presses on in eastern Ukraine',
      },
      {
        alt: 'Dozens of people are shown on a city street in an apparent outdoor demonstrations with signs, and a blue-and-yellow flag.',
        caption:
          'Protesters hold placards during a demonstration in Kyiv on Tuesday night, calling for the Ukrainian president to veto a law passed by parliament that reduces the powers of two anti-corruption agencies.',
        credit: 'Tetiana Dzhafarova/AFP/Getty Images',
        section: 'Protests against Ukraine government move',
      },
    ]);
    expect(record.body).not.toMatch(/Nina Liashonok|Two men and a woman/);
  });

  it('keeps WATCH blocks as videos with intro, title and description', () => {
    const record = preview();
    expect(record.frontMatter.videos).toEqual([
      {
        intro: "Trump's latest pressure tactic to end war",
        title: 'Trump’s Russia-Ukraine ceasefire deadline met with skepticism',
        description:
          'U.S. President Donald Trump’s 50-day deadline for Russia to agree to a ceasefire is being met with skepticism in Ukraine, but people are hopeful more military support could be on its way.',
        section: null,
      },
      {
        intro: 'Drones proving harder for Ukraine to defend against',
        title: 'Why Russian drones are getting harder to shoot down',
        description:
          'Russia is using upgraded weapons to launch its escalating attacks on Ukraine. These drones are designed to cause even more destruction and are even harder to shoot down. CBC’s Briar Stewart explains.',
        section: 'Russia presses on in eastern Ukraine',
      },
    ]);
    expect(record.body).not.toMatch(/WATCH|skepticism|Briar Stewart/);
  });

  it('takes the Source link trailer out of the body and asks for its address', () => {
    const record = preview();
    expect(record.body).not.toContain('Source link');
    expect(record.frontMatter.sourceUrl).toBeUndefined();
    expect(record.notes).toEqual(['the text ends with "Source link" but not its address: add `sourceUrl:` by hand']);
    expect(record.body.split('\n\n').at(-1)).toMatch(/^Corruption is consistently cited/);
  });
});

describe('importRawArticle on the second seed (wrap-up)', () => {
  it('needs a date: without --published it is an error naming the file', () => {
    const error = importError(readFileSync(WRAP_FILE, 'utf8'), { file: WRAP_FILE });
    expect(error.message).toBe(
      `import: ${WRAP_FILE} cannot be imported\nimport: ${WRAP_FILE}:3: Published: the text has no "Published:" line: a date is needed (use --published ISO)`,
    );
  });

  it('takes the date from --published, the section label as kicker, and the headline', () => {
    const record = wrap();
    expect(record.frontMatter.published).toBe('2025-07-23T20:30:00+03:00');
    expect(record.frontMatter.kicker).toBe('World');
    expect(record.frontMatter.title).toBe('Russia, Ukraine wrap latest peace talks without deal on ceasefire or plan for leaders to meet');
  });

  it('keeps the deck once: as summary, and in the story where the source repeats it', () => {
    const record = wrap();
    const deck = 'Russia and Ukraine discussed further prisoner swaps on Wednesday at a brief session of peace talks in Istanbul';
    expect(record.frontMatter.summary).toMatch(new RegExp(`^${deck}`));
    expect(record.body.split(deck)).toHaveLength(2);
    expect(record.body).toMatch(/^## Russia says there was agreement on more prisoner swaps\n\nRussia and Ukraine discussed/);
  });

  it('finds all five subheadings', () => {
    expect(headings(wrap())).toEqual([
      'Russia says there was agreement on more prisoner swaps',
      'Disagreement on ceasefire terms',
      'Shortest talks yet',
      'Russia presses on in eastern Ukraine',
      'Protests against Ukraine government',
    ]);
  });

  it('keeps the captions with their credits and the sections they sit in', () => {
    expect(wrap().frontMatter.images?.map((image) => [image.credit, image.section, image.caption?.slice(0, 30)])).toEqual([
      ['Serhii Korovainyi/Reuters', 'Russia says there was agreement on more prisoner swaps', 'A service member of the 13th O'],
      ['Russian Defense Ministry Press Service/The Associated Press', 'Disagreement on ceasefire terms', 'Russian servicemen pose with n'],
      ['Thomas Peter/Reuters', 'Protests against Ukraine government', 'Ukrainians in Kyiv protested W'],
    ]);
  });

  it('reads the age and duration of the videos', () => {
    expect(wrap().frontMatter.videos?.map((video) => [video.title, video.age, video.duration, video.section])).toEqual([
      ['Trump’s Russia-Ukraine ceasefire deadline met with skepticism', '10 days ago', '2:08', 'Shortest talks yet'],
      ['Why Russian drones are getting harder to shoot down', '3 days ago', '2:06', 'Russia presses on in eastern Ukraine'],
    ]);
    expect(wrap().body).not.toMatch(/Duration|days ago/);
  });

  it('keeps the With files from trailer as a credit, not a paragraph', () => {
    const record = wrap();
    expect(record.frontMatter.credits).toEqual(['With files from CBC News']);
    expect(record.body).not.toContain('With files from');
    expect(record.notes).toEqual([]);
  });
});

describe('imported records load with loadArticles', () => {
  it('round-trips both seeds through formatRecord and the loader', async () => {
    const records = [preview(), wrap()];
    const folder = await folderWith(Object.fromEntries(records.map((record) => [`${record.id}.md`, formatRecord(record)])));
    cleanups.push(folder.cleanup);
    const articles = await loadArticles({ dir: folder.dir, topics: testTopics, timeZone: zone });
    expect(articles.map((article) => article.title)).toEqual([records[1]?.frontMatter.title, records[0]?.frontMatter.title]);
    expect(articles.map((article) => article.published.toISOString())).toEqual(['2025-07-23T17:30:00.000Z', '2025-07-23T09:58:11.000Z']);
    const [wrapArticle, previewArticle] = articles;
    expect(previewArticle?.sections.map((section) => section.heading)).toEqual([null, ...headings(records[0] as ImportedRecord)]);
    expect(wrapArticle?.sections.map((section) => section.heading)).toEqual(headings(records[1] as ImportedRecord));
    expect(wrapArticle?.images).toEqual(records[1]?.frontMatter.images);
    expect(wrapArticle?.videos).toEqual(records[1]?.frontMatter.videos);
    expect(wrapArticle?.credits).toEqual(['With files from CBC News']);
    expect(wrapArticle?.kicker).toBe('World');
    expect(previewArticle?.sections[0]?.blocks[2]?.text).toBe(
      '"Naturally, no one expects an easy road. Naturally, this will be a very difficult conversation. The projects [of each side] are diametrically opposed," Kremlin spokesperson Dmitry Peskov told reporters.',
    );
  });
});

describe('importRawArticle on other texts', () => {
  it.each([
    ['an empty text', '', 'raw.txt:1: headline: no headline'],
    ['a text that starts with the date', 'Published: 2025-07-23 12:58:11\n\nText.', 'raw.txt:1: headline: no headline'],
    ['a malformed Published line', 'Headline\n\nPublished: yesterday | Views: 3\n\nText.', 'raw.txt:3: Published: "Published: yesterday | Views: 3" is not a date it can read: no time of day in "yesterday"'],
    ['an impossible date', 'Headline\n\nPublished: 2025-02-30 10:00:00\n\nText.', 'raw.txt:3: Published: "Published: 2025-02-30 10:00:00" is not'],
    ['a headline and nothing else', 'Headline\n\nPublished: 2025-07-23 10:00:00', 'raw.txt: body: no paragraphs found after the headline'],
  ])('refuses %s', (_name, text, expected) => {
    expect(importError(text, { published: undefined }).message).toContain(`import: ${expected}`);
  });

  it('refuses a --published value that is not a date', () => {
    expect(importError('Headline\n\nText.', { published: 'last Tuesday' }).message).toContain(
      'import: raw.txt: --published: "last Tuesday" is not an ISO 8601 date-time',
    );
  });

  it('prefers the Published line over --published, keeps an explicit offset', () => {
    const withLine = importRawArticle('Headline\n\nPublished: 2025-07-23 12:58:11 | Views: 1\n\nText.', { file: 'r', timeZone: zone, published: '2025-01-01T00:00:00Z' });
    expect(withLine.frontMatter.published).toBe('2025-07-23T12:58:11+03:00');
    const withOffset = importRawArticle('Headline\n\nText.', { file: 'r', timeZone: zone, published: '2025-07-23T20:30:00-04:00' });
    expect(withOffset.frontMatter.published).toBe('2025-07-23T20:30:00-04:00');
  });

  it('escapes Markdown and HTML in the text so it stays literal', async () => {
    const text = [
      'Headline with <script>alert(1)</script> & ]]>',
      '',
      'Published: 2025-07-23 10:00:00',
      '',
      '# not a heading, *not emphasis*, [not](javascript:alert(1)) <b>bold</b> &amp; `code`.',
      '',
      '1. not a list.',
      '',
      '- not a list either.',
      '',
      '> not a quote.',
      '',
      '---',
      '',
      'Sub # heading *x* <b>',
      '',
      'Control\u0007 characters\u0000 go, emoji 🙂 and Cyrillic Привіт stay.',
    ].join('\n');
    const record = importRawArticle(text, { file: 'r', timeZone: zone, source: 'Test' });
    const folder = await folderWith({ [`${record.id}.md`]: formatRecord(record) });
    cleanups.push(folder.cleanup);
    const [article] = await loadArticles({ dir: folder.dir, topics: testTopics, timeZone: zone });
    expect(article?.title).toBe('Headline with <script>alert(1)</script> & ]]>');
    expect(article?.sections.map((section) => section.heading)).toEqual([null, 'Sub # heading *x* <b>']);
    expect(article?.sections.flatMap((section) => section.blocks.map((block) => block.text))).toEqual([
      '# not a heading, *not emphasis*, [not](javascript:alert(1)) <b>bold</b> &amp; `code`.',
      '1. not a list.',
      '- not a list either.',
      '> not a quote.',
      '---',
      'Control characters go, emoji 🙂 and Cyrillic Привіт stay.',
    ]);
    expect(article?.html).not.toMatch(/<(script|b|h1|ol|ul|blockquote|hr|code|em)\b/);
  });

  it('takes a one-word first line as the headline when no headline follows it', () => {
    const record = importRawArticle('Ceasefire\n\nBoth sides agreed.\n\nMore text.', { file: 'r', timeZone: zone, published: '2025-07-23T10:00:00' });
    expect(record.frontMatter.title).toBe('Ceasefire');
    expect(record.frontMatter.kicker).toBeUndefined();
  });

  it('names a record by date and headline, or by a hash when the headline has no Latin letters', () => {
    const latin = importRawArticle('Zelenskyy’s São Paulo trip: 5 things\n\nText.', { file: 'r', timeZone: zone, published: '2025-07-23T10:00:00' });
    expect(latin.id).toBe('2025-07-23-zelenskyy-s-sao-paulo-trip-5-things');
    const cyrillic = importRawArticle('Переговори у Стамбулі\n\nText.', { file: 'r', timeZone: zone, published: '2025-07-23T10:00:00' });
    expect(cyrillic.id).toMatch(/^2025-07-23-[0-9a-f]{8}$/);
  });

  it('recognises a Source link trailer that carries its address', () => {
    const record = importRawArticle('Headline\n\nText.\n\nSource link: https://example.org/story', { file: 'r', timeZone: zone, published: '2025-07-23T10:00:00' });
    expect(record.frontMatter.sourceUrl).toBe('https://example.org/story');
    expect(record.body).toBe('Text.');
  });
});
