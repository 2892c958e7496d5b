import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, readEnvironment, type Config } from '../../src/config.js';
import type { Article, ArticleImage, ArticleVideo } from '../../src/content/article.js';
import { loadArticles } from '../../src/content/load-articles.js';
import { createMarkdownRenderer } from '../../src/content/render-markdown.js';
import type { Edition } from '../../src/edition/edition.js';
import { resolveEditionSlot } from '../../src/edition/edition-slot.js';
import { planEdition } from '../../src/edition/plan-edition.js';

/** The repository root: templates/ and content/ are the real ones. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The shipped briefing.config.json, with folders where a test wants them and edits on top. */
export function testConfig(edit: (config: Record<string, unknown>) => void = () => {}, folders: Partial<Record<'output' | 'data', string>> = {}): Config {
  const file = path.join(ROOT, 'briefing.config.json');
  // Through the real parser, so defaults and validation are the product's.
  const raw = JSON.parse(JSON.stringify(RAW_CONFIG)) as Record<string, unknown>;
  raw.paths = {
    content: path.join(ROOT, 'content'),
    templates: path.join(ROOT, 'templates'),
    // Tests that write pass their own temporary folders.
    output: folders.output ?? path.join(tmpdir(), 'briefing-test-no-output'),
    data: folders.data ?? path.join(tmpdir(), 'briefing-test-no-data'),
  };
  delete raw.sampleSubscribers;
  edit(raw);
  return parseConfig(JSON.stringify(raw), file, readEnvironment({}));
}

const RAW_CONFIG: unknown = JSON.parse(readFileSync(path.join(ROOT, 'briefing.config.json'), 'utf8'));

const renderer = createMarkdownRenderer();

/** How a test describes an article: Markdown body, topics per section heading ('' for the lede part). */
export interface ArticleSpec {
  id: string;
  title?: string;
  published: string;
  updated?: string;
  url?: string;
  source?: string;
  body: string;
  topics: Record<string, string[]>;
  images?: ArticleImage[];
  videos?: ArticleVideo[];
}

/** An article as the loader makes it: blocks rendered by the real Markdown renderer. */
export function makeArticle(spec: ArticleSpec): Article {
  const body = renderer.render(spec.body);
  const sections = body.sections.map((section) => ({
    heading: section.heading,
    blocks: section.blocks,
    topics: spec.topics[section.heading ?? ''] ?? [],
  }));
  return {
    id: spec.id,
    file: `content/${spec.id}.md`,
    title: spec.title ?? `Story ${spec.id}`,
    published: new Date(spec.published),
    ...(spec.updated === undefined ? {} : { updated: new Date(spec.updated) }),
    source: spec.source ?? 'Test Wire',
    ...(spec.url === undefined ? {} : { url: spec.url }),
    topics: [...new Set(sections.flatMap((section) => section.topics))],
    summary: sections[0]?.blocks[0]?.text ?? '',
    images: spec.images ?? [],
    videos: spec.videos ?? [],
    credits: [],
    body: spec.body,
    html: body.html,
    sections,
    contentHash: spec.id,
  };
}

/** Every paragraph text of an edition, in order. */
export function paragraphsOf(edition: { sections: Array<{ items: Array<{ blocks: Array<{ text: string }> }> }> }): string[] {
  return edition.sections.flatMap((section) => section.items.flatMap((item) => item.blocks.map((block) => block.text)));
}

/**
 * The edition that tells the 2025-07-23 seed records: with the 21:00 schedule that is Wednesday
 * 23 July's, the first edition (no previous one).
 */
export async function planSeedEdition(config: Config): Promise<{ edition: Edition; articles: Article[] }> {
  const articles = await loadArticles({ dir: config.paths.content, topics: config.topics, timeZone: config.timeZone, maxRecordBytes: config.content.maxRecordBytes });
  const { id, slot } = resolveEditionSlot({ cron: config.schedule.cron, zone: config.timeZone, now: new Date(), date: SEED_EDITION });
  const edition = planEdition({
    id,
    slot,
    timeZone: config.timeZone,
    siteUrl: config.siteUrl,
    articles,
    topics: config.topics,
    settings: config.edition,
    previous: undefined,
  });
  return { edition, articles };
}

/** The edition dated the day of the seed stories, whose 21:00 slot follows both. */
export const SEED_EDITION = '2025-07-23';
