import { beforeAll, describe, expect, it } from 'vitest';
import { lastChanged, type Article } from '../../src/content/article.js';
import type { Edition } from '../../src/edition/edition.js';
import { resolveEditionSlot } from '../../src/edition/edition-slot.js';
import { fingerprintText } from '../../src/edition/fingerprint.js';
import { planEdition } from '../../src/edition/plan-edition.js';
import { planSeedEdition, testConfig } from './fixtures.js';

/**
 * The two seed records of 2025-07-23 (a morning preview of the Istanbul talks and the evening
 * wrap-up, sharing paragraphs word for word). With the 21:00 schedule both are told in the edition
 * of Wednesday 23 July, the evening they were published.
 */
const config = testConfig();
let articles: Article[];
let edition: Edition;
let earlier: Article;
let later: Article;

beforeAll(async () => {
  const seed = await planSeedEdition(config);
  edition = seed.edition;
  articles = seed.articles.filter((article) => article.id.startsWith('2025-07-23'));
  [earlier, later] = [...articles].sort((a, b) => lastChanged(a).getTime() - lastChanged(b).getTime()) as [Article, Article];
});

const blocksOf = (article: Article): string[] => article.sections.flatMap((section) => section.blocks.map((block) => block.text));

describe('the edition of the 2025-07-23 seed stories', () => {
  it('has the two records, which share paragraphs', () => {
    expect(articles).toHaveLength(2);
    const shared = blocksOf(later).filter((text) => blocksOf(earlier).some((other) => fingerprintText(other) === fingerprintText(text)));
    expect(shared.length).toBeGreaterThan(0);
  });

  it('has sections for the talks and the protests', () => {
    const ids = edition.sections.map((section) => section.id);
    expect(ids.slice(0, 2)).toEqual(['talks', 'protests']);
    expect(edition.empty).toBe(false);
  });

  it('puts the NABU/SAPO protest paragraphs of these talks stories under protests', () => {
    expect(articles.every((article) => article.topics[0] === 'talks')).toBe(true);
    const nabu = (text: string): boolean => /\b(NABU|SAPO)\b/.test(text);
    const sourceParagraphs = articles.flatMap(blocksOf).filter(nabu);
    expect(sourceParagraphs.length).toBeGreaterThanOrEqual(2);
    const placed = edition.sections.flatMap((section) =>
      section.items.flatMap((item) => item.blocks.filter((block) => nabu(block.text)).map((block) => [section.id, block.text])),
    );
    expect(placed.length).toBe(new Set(sourceParagraphs.map(fingerprintText)).size);
    expect(placed.every(([section]) => section === 'protests')).toBe(true);
  });

  it('tells no paragraph twice, and every paragraph of the two records once', () => {
    const told = edition.sections.flatMap((section) => section.items.flatMap((item) => item.blocks.map((block) => fingerprintText(block.text))));
    expect(new Set(told).size).toBe(told.length);
    expect(new Set(told)).toEqual(new Set(articles.flatMap(blocksOf).map(fingerprintText)));
  });

  it('shows the later story as updated, first in each section, leading with facts the earlier story did not have', () => {
    const earlierTexts = new Set(blocksOf(earlier).map(fingerprintText));
    for (const section of edition.sections.filter((candidate) => candidate.items.some((item) => item.articleId === later.id))) {
      const first = section.items[0];
      expect(first?.articleId, section.id).toBe(later.id);
      expect(first?.status).toBe('updated');
      expect(first?.blocks.every((block) => !earlierTexts.has(fingerprintText(block.text)))).toBe(true);
    }
    const earlierItems = edition.sections.flatMap((section) => section.items.filter((item) => item.articleId === earlier.id));
    expect(earlierItems.every((item) => item.status === 'new')).toBe(true);
  });

  it('leaves nothing for the next edition to repeat', () => {
    const { id, slot } = resolveEditionSlot({ cron: config.schedule.cron, zone: config.timeZone, now: new Date(), date: '2025-07-24' });
    const next = planEdition({
      id,
      slot,
      timeZone: config.timeZone,
      siteUrl: config.siteUrl,
      // Both records edited after the first edition, unchanged text: still nothing new to tell.
      articles: articles.map((article) => ({ ...article, updated: new Date('2025-07-24T12:00:00Z') })),
      topics: config.topics,
      settings: config.edition,
      previous: { cutoff: edition.window.until, memory: JSON.parse(JSON.stringify(edition.memory)) },
    });
    expect(next.empty).toBe(true);
  });
});
