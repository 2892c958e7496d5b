import { describe, expect, it } from 'vitest';
import type { EditionMemory } from '../../src/edition/edition.js';
import { fingerprintText } from '../../src/edition/fingerprint.js';
import { planEdition, type PlanEditionInput } from '../../src/edition/plan-edition.js';
import { makeArticle, paragraphsOf, type ArticleSpec } from './fixtures.js';

const ZONE = 'Europe/Kyiv';
/** 07:00 in Kyiv on Thursday 24 July 2025. */
const SLOT = new Date('2025-07-24T04:00:00Z');
const TOPICS = [
  { id: 'talks', title: 'Peace talks' },
  { id: 'protests', title: 'Protests in Ukraine' },
  { id: 'war', title: 'On the front line' },
];

function plan(specs: ArticleSpec[], overrides: Partial<PlanEditionInput> = {}): ReturnType<typeof planEdition> {
  return planEdition({
    id: '2025-07-24',
    slot: SLOT,
    timeZone: ZONE,
    siteUrl: 'https://briefing.example.org/',
    articles: specs.map(makeArticle),
    topics: TOPICS,
    settings: { firstLookBackHours: 48, generalSection: true, generalTitle: 'Also in the news' },
    previous: undefined,
    ...overrides,
  });
}

const one = (id: string, published: string, extra: Partial<ArticleSpec> = {}): ArticleSpec => ({
  id,
  published,
  body: `Paragraph of ${id}.`,
  topics: { '': ['talks'] },
  ...extra,
});

describe('planEdition: the window', () => {
  it('covers the look-back before the first edition, the start excluded and the slot included', () => {
    const edition = plan([
      one('before-window', '2025-07-22T03:59:59Z'),
      one('at-window-start', '2025-07-22T04:00:00Z'),
      one('just-inside', '2025-07-22T04:00:01Z'),
      one('at-slot', '2025-07-24T04:00:00Z'),
      one('after-slot', '2025-07-24T04:00:01Z'),
      one('old-but-updated', '2025-07-01T10:00:00Z', { updated: '2025-07-23T10:00:00Z' }),
      one('updated-later', '2025-07-01T10:00:00Z', { updated: '2025-07-25T10:00:00Z' }),
    ]);
    expect(edition.window).toEqual({ since: new Date('2025-07-22T04:00:00Z'), until: SLOT });
    expect(edition.date).toBe('2025-07-24');
    expect(new Set(edition.sections.flatMap((section) => section.items.map((item) => item.articleId)))).toEqual(
      new Set(['just-inside', 'at-slot', 'old-but-updated']),
    );
  });

  it("starts at the previous edition's cut-off and never reaches past the planning time", () => {
    const edition = plan([one('yesterday', '2025-07-23T03:00:00Z'), one('today', '2025-07-23T12:00:00Z'), one('not-yet', '2025-07-23T20:00:00Z')], {
      previous: { cutoff: new Date('2025-07-23T04:00:00Z'), memory: { told: {}, sent: {} } },
      asOf: new Date('2025-07-23T15:00:00Z'),
    });
    expect(edition.window).toEqual({ since: new Date('2025-07-23T04:00:00Z'), until: new Date('2025-07-23T15:00:00Z') });
    expect(paragraphsOf(edition)).toEqual(['Paragraph of today.']);
  });

  it('is empty, with no sections, when nothing changed in the window', () => {
    const edition = plan([one('old', '2025-07-01T10:00:00Z')]);
    expect(edition.empty).toBe(true);
    expect(edition.sections).toEqual([]);
  });
});

describe('planEdition: sections by topic, per article section', () => {
  const mixed: ArticleSpec = {
    id: 'mixed',
    published: '2025-07-23T10:00:00Z',
    body: [
      'Talks lede.',
      '## The protests',
      'Protest paragraph.',
      '## Unknown beat',
      'Paragraph with a topic the publication does not have.',
      '## Nothing',
      'Paragraph with no topic.',
    ].join('\n\n'),
    topics: { '': ['talks'], 'The protests': ['protests', 'talks'], 'Unknown beat': ['sports', 'war'], Nothing: [] },
  };

  it('routes each section by its first configured topic, in the order of the configured topics, general last', () => {
    const edition = plan([mixed]);
    expect(edition.sections.map((section) => [section.id, section.title, paragraphsOf({ sections: [section] })])).toEqual([
      ['talks', 'Peace talks', ['Talks lede.']],
      ['protests', 'Protests in Ukraine', ['Protest paragraph.']],
      ['war', 'On the front line', ['Paragraph with a topic the publication does not have.']],
      ['general', 'Also in the news', ['Paragraph with no topic.']],
    ]);
    expect(edition.sections[1]?.items[0]?.heading).toBe('The protests');
  });

  it('leaves sections with no topic out when the config has no general section', () => {
    const edition = plan([mixed], { settings: { firstLookBackHours: 48, generalSection: false, generalTitle: 'x' } });
    expect(edition.sections.map((section) => section.id)).toEqual(['talks', 'protests', 'war']);
    expect(paragraphsOf(edition)).not.toContain('Paragraph with no topic.');
  });

  it('links to the canonical URL, or to the article page on the site', () => {
    const edition = plan([one('with-url', '2025-07-23T10:00:00Z', { url: 'https://news.example.com/a?b=1&c=2' }), one('no-url', '2025-07-23T11:00:00Z')]);
    const urls = Object.fromEntries(edition.sections[0]?.items.map((item) => [item.articleId, item.url]) ?? []);
    expect(urls).toEqual({ 'with-url': 'https://news.example.com/a?b=1&c=2', 'no-url': 'https://briefing.example.org/articles/no-url.html' });
  });
});

describe('planEdition: every paragraph told once', () => {
  it('drops a paragraph repeated by a later record, ignoring case, spacing and punctuation, and marks that record updated', () => {
    const edition = plan([
      { id: 'evening', published: '2025-07-23T17:00:00Z', body: 'What is new tonight.\n\n"The talks ended" , he  said -- BRIEFLY', topics: { '': ['talks'] } },
      { id: 'morning', published: '2025-07-23T09:00:00Z', body: 'Morning lede.\n\n“The talks ended,” he said — briefly.', topics: { '': ['talks'] } },
    ]);
    const items = edition.sections[0]?.items ?? [];
    // Newest first: the evening story leads with what is new; the morning story keeps the shared paragraph.
    expect(items.map((item) => [item.articleId, item.status, item.blocks.map((block) => block.text)])).toEqual([
      ['evening', 'updated', ['What is new tonight.']],
      ['morning', 'new', ['Morning lede.', '“The talks ended,” he said — briefly.']],
    ]);
  });

  it('does not mark a record updated for repeating its own paragraph', () => {
    const edition = plan([{ id: 'self', published: '2025-07-23T09:00:00Z', body: 'Lede.\n\n## More\n\nLede.\n\nOther.', topics: { '': ['talks'], More: ['talks'] } }]);
    expect(edition.sections[0]?.items.map((item) => [item.status, item.blocks.map((block) => block.text)])).toEqual([
      ['new', ['Lede.']],
      ['new', ['Other.']],
    ]);
  });

  it('does not repeat what an earlier edition told, and drops sections left without paragraphs', () => {
    const memory: EditionMemory = { told: { [fingerprintText('Told yesterday.')]: '2025-07-23' }, sent: {} };
    const edition = plan(
      [{ id: 'follow-up', published: '2025-07-23T12:00:00Z', body: 'New today.\n\n## Protests\n\nTold yesterday.', topics: { '': ['talks'], Protests: ['protests'] } }],
      { previous: { cutoff: new Date('2025-07-23T04:00:00Z'), memory } },
    );
    expect(edition.sections.map((section) => section.id)).toEqual(['talks']);
    expect(edition.sections[0]?.items[0]?.status).toBe('updated');
    expect(paragraphsOf(edition)).toEqual(['New today.']);
  });

  it('marks an article sent in an older version as updated and shows only its new paragraphs', () => {
    const first = plan([{ id: 'story', published: '2025-07-23T09:00:00Z', body: 'First fact.\n\nSecond fact.', topics: { '': ['talks'] } }], {
      slot: new Date('2025-07-23T12:00:00Z'),
    });
    expect(first.memory.sent).toEqual({ story: '2025-07-23T09:00:00.000Z' });
    const second = plan(
      [{ id: 'story', published: '2025-07-23T09:00:00Z', updated: '2025-07-23T20:00:00Z', body: 'Breaking: a new fact.\n\nFirst fact.\n\nSecond fact.', topics: { '': ['talks'] } }],
      { previous: { cutoff: new Date('2025-07-23T12:00:00Z'), memory: first.memory } },
    );
    expect(second.sections[0]?.items.map((item) => [item.status, item.blocks.map((block) => block.text)])).toEqual([['updated', ['Breaking: a new fact.']]]);
    expect(second.memory.sent).toEqual({ story: '2025-07-23T20:00:00.000Z' });
  });

  it('hands its memory to the next edition, which then has nothing to repeat', () => {
    const specs = [one('a', '2025-07-23T09:00:00Z'), one('b', '2025-07-23T10:00:00Z', { updated: '2025-07-24T03:00:00Z' })];
    const first = plan(specs);
    const serialised = JSON.parse(JSON.stringify(first.memory)) as EditionMemory;
    const next = plan(specs, { id: '2025-07-25', slot: new Date('2025-07-25T04:00:00Z'), previous: { cutoff: new Date('2025-07-23T08:00:00Z'), memory: serialised } });
    expect(next.empty).toBe(true);
    expect(Object.values(next.memory.told)).toEqual(['2025-07-24', '2025-07-24']);
  });

  it('forgets what was told more than 60 days before', () => {
    const memory: EditionMemory = {
      told: { [fingerprintText('Told 61 days ago.')]: '2025-05-24', [fingerprintText('Told 59 days ago.')]: '2025-05-26' },
      sent: { ancient: '2025-05-20T10:00:00.000Z', recent: '2025-07-01T10:00:00.000Z' },
    };
    const edition = plan([{ id: 'x', published: '2025-07-23T09:00:00Z', body: 'Told 61 days ago.\n\nTold 59 days ago.', topics: { '': ['talks'] } }], {
      previous: { cutoff: new Date('2025-07-23T04:00:00Z'), memory },
    });
    expect(paragraphsOf(edition)).toEqual(['Told 61 days ago.']);
    expect(Object.keys(edition.memory.sent).sort()).toEqual(['recent', 'x']);
    expect(Object.values(edition.memory.told).sort()).toEqual(['2025-05-26', '2025-07-24']);
  });
});

describe('planEdition: images and videos', () => {
  it('puts media in the section they belong to, tells each once, and leaves them out with their section', () => {
    const image = (alt: string, section?: string | null) => ({ alt, caption: `${alt} caption`, ...(section === undefined ? {} : { section }) });
    const edition = plan([
      {
        id: 'later',
        published: '2025-07-23T15:00:00Z',
        body: 'Later lede.\n\n## Protests\n\nShared protest paragraph.',
        topics: { '': ['talks'], Protests: ['protests'] },
        images: [image('Crowd', 'Protests'), image('Lead picture')],
        videos: [{ title: 'Same video', section: null }],
      },
      {
        id: 'earlier',
        published: '2025-07-23T09:00:00Z',
        body: 'Earlier lede.\n\n## Protests\n\nShared protest paragraph.',
        topics: { '': ['talks'], Protests: ['protests'] },
        images: [image('Crowd', 'Protests')],
        videos: [{ title: 'Same video', section: null }],
      },
    ]);
    const media = edition.sections.flatMap((section) =>
      section.items.map((item) => [section.id, item.articleId, item.images.map((entry) => entry.alt), item.videos.map((entry) => entry.title)]),
    );
    expect(media).toEqual([
      ['talks', 'later', ['Lead picture'], []],
      ['talks', 'earlier', [], ['Same video']],
      ['protests', 'earlier', ['Crowd'], []],
    ]);
  });
});
