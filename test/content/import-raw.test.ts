import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { formatRecord } from '../../src/content/format-record.js';
import { importRawArticle, type ImportedRecord } from '../../src/content/import-raw.js';
import { loadArticles } from '../../src/content/load-articles.js';
import { BriefingError } from '../../src/errors.js';
import { conformance, RAW_TEXTS, REFERENCE } from '../support/outside-material.js';
import { folderWith, testRecordLimit, testTopics } from './helpers.js';

const zone = 'Europe/Kyiv';
const SOURCE = 'Harbourview Ledger';
const importFile = (file: string, published?: string) => importRawArticle(readFileSync(file, 'utf8'), { file, timeZone: zone, published, source: SOURCE });
const preview = () => importFile(RAW_TEXTS.preview);
const result = () => importFile(RAW_TEXTS.result, '2025-09-16T22:45:00');

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

describe('importRawArticle on a text with a date (the vote preview)', () => {
  it('reads the headline and the Published line in the configured zone, dropping the views', () => {
    const record = preview();
    expect(record.frontMatter.title).toBe('Harbourview council to vote on eastern tram line after two years of delay');
    expect(record.frontMatter.published).toBe('2025-09-16T09:14:37+03:00');
    expect(record.frontMatter.kicker).toBeUndefined();
    expect(record.id).toBe('2025-09-16-harbourview-council-to-vote-on-eastern-tram-line-after-two');
    expect(record.body).not.toMatch(/Published:|Views/);
  });

  it('finds the subheadings', () => {
    expect(headings(preview())).toEqual(['Cost estimates keep climbing', 'Residents plan protest outside city hall']);
  });

  it('keeps photo alt text, captions and credits as images, not paragraphs', () => {
    const record = preview();
    expect(record.frontMatter.images).toEqual([
      {
        alt: 'A work crew in orange vests measures a stretch of road beside a row of parked buses.',
        caption: 'Surveyors mark out the planned route along Quarry Road in Harbourview on Monday.',
        credit: 'Lena Marsh/Harbourview Ledger',
        section: 'Cost estimates keep climbing',
      },
      {
        alt: 'Dozens of people hold hand-painted signs on the steps of a stone building.',
        caption: 'Millbrook residents rally on the steps of city hall last week, asking council to back the eastern tram extension.',
        credit: 'Samir Haddad/Coastal Photo Agency',
        section: 'Residents plan protest outside city hall',
      },
    ]);
    expect(record.body).not.toMatch(/Lena Marsh|A work crew/);
  });

  it('keeps WATCH blocks as videos with intro, title and description', () => {
    const record = preview();
    expect(record.frontMatter.videos).toEqual([
      {
        intro: 'What the eastern extension would change',
        title: 'Riding the route the tram would take',
        description: 'A reporter makes the 40-minute bus trip from Millbrook to the city centre that the tram is meant to cut to 18 minutes.',
        section: null,
      },
      {
        intro: 'Councillors explain where they stand',
        title: 'Three undecided votes, three different worries',
        description:
          'Councillors Ade Okafor, Marta Velez and Tom Reinholt describe what would win or lose their support. Our city hall reporter Jonah Pike reports.',
        section: 'Cost estimates keep climbing',
      },
    ]);
    expect(record.body).not.toMatch(/WATCH|different worries|Jonah Pike/);
  });

  it('takes the Source link trailer out of the body and asks for its address', () => {
    const record = preview();
    expect(record.body).not.toContain('Source link');
    expect(record.frontMatter.sourceUrl).toBeUndefined();
    expect(record.notes).toEqual(['the text ends with "Source link" but not its address: add `sourceUrl:` by hand']);
    expect(record.body.split('\n\n').at(-1)).toMatch(/^The meeting starts at 6 p\.m\./);
  });
});

describe('importRawArticle on a text without a date (the vote result)', () => {
  it('needs a date: without --published it is an error naming the file', () => {
    const error = importError(readFileSync(RAW_TEXTS.result, 'utf8'), { file: RAW_TEXTS.result });
    expect(error.message).toBe(
      `import: ${RAW_TEXTS.result} cannot be imported\nimport: ${RAW_TEXTS.result}:3: Published: the text has no "Published:" line: a date is needed (give --published, e.g. 2025-07-31T18:02-04:00 or "July 31, 2025 6:02 PM EDT")`,
    );
  });

  it('takes the date from --published, the section label as kicker, and the headline', () => {
    const record = result();
    expect(record.frontMatter.published).toBe('2025-09-16T22:45:00+03:00');
    expect(record.frontMatter.kicker).toBe('City');
    expect(record.frontMatter.title).toBe('Harbourview council backs eastern tram line by one vote, leaving funding questions open');
  });

  it('keeps the deck once: as summary, and in the story where the source repeats it', () => {
    const record = result();
    const deck = 'Harbourview city council approved the eastern tram extension by six votes to five late on Tuesday';
    expect(record.frontMatter.summary).toMatch(new RegExp(`^${deck}`));
    expect(record.body.split(deck)).toHaveLength(2);
    expect(record.body).toMatch(/^## Deciding vote came after a promise on buses\n\nHarbourview city council approved/);
  });

  it('finds all five subheadings', () => {
    expect(headings(result())).toEqual([
      'Deciding vote came after a promise on buses',
      'Funding talks with the province',
      'A long night at city hall',
      'Cost of the line',
      'Shop owners vow to keep up protest',
    ]);
  });

  it('keeps the captions with their credits and the sections they sit in', () => {
    expect(result().frontMatter.images?.map((image) => [image.credit, image.section, image.caption?.slice(0, 30)])).toEqual([
      ['Lena Marsh/Harbourview Ledger', 'Deciding vote came after a promise on buses', 'A tram waits at the Central St'],
      ['Samir Haddad/Coastal Photo Agency', 'Funding talks with the province', 'Transit manager Olga Brandt an'],
      ['Kit Moreau/Harbourview Ledger', 'Shop owners vow to keep up protest', 'Shop owners on Quarry Road gat'],
    ]);
  });

  it('reads the age and duration of the videos', () => {
    expect(result().frontMatter.videos?.map((video) => [video.title, video.age, video.duration, video.section])).toEqual([
      ['Cheers and groans in the council gallery', '10 days ago', '2:08', 'A long night at city hall'],
      ['From 148 million to 212 million in three years', '3 days ago', '2:06', 'Cost of the line'],
    ]);
    expect(result().body).not.toMatch(/Duration|days ago/);
  });

  it('keeps the With files from trailer as a credit, not a paragraph', () => {
    const record = result();
    expect(record.frontMatter.credits).toEqual(['With files from Harbourview Ledger']);
    expect(record.body).not.toContain('With files from');
    expect(record.notes).toEqual([]);
  });
});

describe('imported records load with loadArticles', () => {
  it('round-trips both raw texts through formatRecord and the loader', async () => {
    const records = [preview(), result()];
    const folder = await folderWith(Object.fromEntries(records.map((record) => [`${record.id}.md`, formatRecord(record)])));
    cleanups.push(folder.cleanup);
    const articles = await loadArticles({ dir: folder.dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: zone });
    expect(articles.map((article) => article.title)).toEqual([records[1]?.frontMatter.title, records[0]?.frontMatter.title]);
    expect(articles.map((article) => article.published.toISOString())).toEqual(['2025-09-16T19:45:00.000Z', '2025-09-16T06:14:37.000Z']);
    const [resultArticle, previewArticle] = articles;
    expect(previewArticle?.sections.map((section) => section.heading)).toEqual([null, ...headings(records[0] as ImportedRecord)]);
    expect(resultArticle?.sections.map((section) => section.heading)).toEqual(headings(records[1] as ImportedRecord));
    expect(resultArticle?.images).toEqual(records[1]?.frontMatter.images);
    expect(resultArticle?.videos).toEqual(records[1]?.frontMatter.videos);
    expect(resultArticle?.credits).toEqual(['With files from Harbourview Ledger']);
    expect(resultArticle?.kicker).toBe('City');
    expect(previewArticle?.sections[0]?.blocks[2]?.text).toBe(
      '"We have studied this line [from every angle] for two years. At some point a council has to choose, and Tuesday is that point," Solberg said.',
    );
  });
});

describe('importRawArticle on the seed texts beside the repository', () => {
  const seed = (file: string, published?: string) => importRawArticle(readFileSync(file, 'utf8'), { file, timeZone: zone, published, source: 'CBC News' });

  conformance('imports the seed preview with its date, subheadings, photos, videos and bare Source link', [REFERENCE.seeds.preview], () => {
    const record = seed(REFERENCE.seeds.preview);
    expect(record.frontMatter.title).toBe('Russia, Ukraine to hold first peace talks in nearly 2 months');
    expect(record.frontMatter.published).toBe('2025-07-23T12:58:11+03:00');
    expect(headings(record)).toEqual(['Russia presses on in eastern Ukraine', 'Protests against Ukraine government move']);
    expect(record.frontMatter.images?.map((image) => [image.credit, image.section])).toEqual([
      ['Nina Liashonok/Reuters', 'Russia presses on in eastern Ukraine'],
      ['Tetiana Dzhafarova/AFP/Getty Images', 'Protests against Ukraine government move'],
    ]);
    expect(record.frontMatter.videos?.map((video) => [video.intro, video.section])).toEqual([
      ["Trump's latest pressure tactic to end war", null],
      ['Drones proving harder for Ukraine to defend against', 'Russia presses on in eastern Ukraine'],
    ]);
    expect(record.notes).toEqual(['the text ends with "Source link" but not its address: add `sourceUrl:` by hand']);
  });

  conformance('imports the seed wrap-up: needs --published, then kicker, deck, five subheadings, videos with age and duration, credit', [REFERENCE.seeds.wrap], () => {
    expect(importError(readFileSync(REFERENCE.seeds.wrap, 'utf8'), { file: REFERENCE.seeds.wrap }).message).toContain(
      `import: ${REFERENCE.seeds.wrap}:3: Published: the text has no "Published:" line`,
    );
    const record = seed(REFERENCE.seeds.wrap, '2025-07-23T20:30:00');
    expect(record.frontMatter.kicker).toBe('World');
    expect(record.frontMatter.summary).toMatch(/^Russia and Ukraine discussed further prisoner swaps/);
    expect(headings(record)).toHaveLength(5);
    expect(record.frontMatter.images?.map((image) => image.credit)).toEqual([
      'Serhii Korovainyi/Reuters',
      'Russian Defense Ministry Press Service/The Associated Press',
      'Thomas Peter/Reuters',
    ]);
    expect(record.frontMatter.videos?.map((video) => [video.age, video.duration])).toEqual([
      ['10 days ago', '2:08'],
      ['3 days ago', '2:06'],
    ]);
    expect(record.frontMatter.credits).toEqual(['With files from CBC News']);
    expect(record.notes).toEqual([]);
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
    const [article] = await loadArticles({ dir: folder.dir, topics: testTopics, maxRecordBytes: testRecordLimit, timeZone: zone });
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
