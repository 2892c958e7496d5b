import { describe, expect, it } from 'vitest';
import { narrowEdition, type GeneralSectionReaders } from '../../src/edition/narrow-edition.js';
import { planEdition } from '../../src/edition/plan-edition.js';
import { makeArticle } from './fixtures.js';

const TOPICS = [
  { id: 'talks', title: 'Peace talks' },
  { id: 'protests', title: 'Protests in Ukraine' },
  { id: 'war', title: 'On the front line' },
  { id: 'economy', title: 'The economy' },
];
const TOPIC_IDS = TOPICS.map((topic) => topic.id);

/** An edition with news in talks, protests and the general section; none on the front line or the economy. */
const EDITION = planEdition({
  id: '2025-07-24',
  slot: new Date('2025-07-24T04:00:00Z'),
  timeZone: 'Europe/Kyiv',
  siteUrl: 'https://briefing.example.org/',
  articles: [
    makeArticle({ id: 'talks-story', published: '2025-07-23T10:00:00Z', body: 'Delegations met.\n\n## Outside\n\nCrowds gathered.', topics: { '': ['talks'], Outside: ['protests'] } }),
    makeArticle({ id: 'weather', published: '2025-07-23T11:00:00Z', body: 'A heatwave.', topics: {} }),
  ],
  topics: TOPICS,
  settings: { firstLookBackHours: 48, generalSection: true, generalTitle: 'Also in the news' },
  previous: undefined,
});

const sectionIds = (topics: readonly string[] | null, readers: GeneralSectionReaders = 'everyone'): string[] | null =>
  narrowEdition(EDITION, topics, { topicIds: TOPIC_IDS, generalSectionReaders: readers })?.sections.map((section) => section.id) ?? null;

describe('narrowEdition', () => {
  it('keeps the whole edition for every topic: null, or a choice naming each configured topic', () => {
    expect(EDITION.sections.map((section) => section.id)).toEqual(['talks', 'protests', 'general']);
    expect(narrowEdition(EDITION, null, { topicIds: TOPIC_IDS, generalSectionReaders: 'every-topic' })).toBe(EDITION);
    expect(narrowEdition(EDITION, ['economy', 'protests', 'talks', 'war'], { topicIds: TOPIC_IDS, generalSectionReaders: 'every-topic' })).toBe(EDITION);
  });

  it.each([
    [['protests'], 'everyone', ['protests', 'general']],
    [['protests'], 'every-topic', ['protests']],
    [['talks', 'war'], 'everyone', ['talks', 'general']],
    [['protests', 'talks'], 'every-topic', ['talks', 'protests']],
    // Only the chosen topics make a briefing worth sending: the general section alone is not.
    [['war'], 'everyone', null],
    [['economy', 'war'], 'everyone', null],
    // A topic no longer configured matches nothing; the rest of the choice still counts.
    [['retired-topic'], 'everyone', null],
    [['protests', 'retired-topic'], 'everyone', ['protests', 'general']],
  ] as const)('%j with the general section for %s reads %j', (topics, readers, expected) => {
    expect(sectionIds(topics, readers)).toEqual(expected);
  });

  it('a choice naming the general section id gets no general section it is not given', () => {
    expect(sectionIds(['general'])).toBeNull();
    expect(sectionIds(['general', 'protests'], 'every-topic')).toEqual(['protests']);
  });

  it('leaves the edition it narrows as it was', () => {
    const before = JSON.stringify(EDITION);
    sectionIds(['protests']);
    expect(JSON.stringify(EDITION)).toBe(before);
  });
});
