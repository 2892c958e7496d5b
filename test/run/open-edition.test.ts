import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import type { Article } from '../../src/content/article.js';
import { loadArticles } from '../../src/content/load-articles.js';
import { openEdition, type OpenedEdition } from '../../src/run/open-edition.js';
import { resolveTarget } from '../../src/run/open-slot-edition.js';
import { loadBriefingTemplates, type BriefingTemplates } from '../../src/email/briefing-templates.js';
import { BriefingError } from '../../src/errors.js';
import { openStoreAt } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { makeArticle, SEED_EDITION, testConfig } from '../edition/fixtures.js';

let config: Config;
let templates: BriefingTemplates;
let seedArticles: Article[];
let dir: string;
let store: Store;
/** Two hours after the seed edition's slot (21:00 Kyiv): planning happens after the slot, as the scheduler does. */
const clock = { now: () => new Date('2025-07-23T20:00:00Z') };

beforeAll(async () => {
  config = testConfig();
  templates = await loadBriefingTemplates(config.paths.templates);
  seedArticles = await loadArticles({ dir: config.paths.content, topics: config.topics, timeZone: config.timeZone, maxRecordBytes: config.content.maxRecordBytes });
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'briefing-open-edition-'));
  store = await openStoreAt({ kind: 'sqlite', file: path.join(dir, 'briefing.db') });
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** As the run does: the slot resolved once, and when persisting its record read once and reused as stored. */
const open = async (request: { date?: string; persist: boolean }, articles: readonly Article[] = seedArticles, options: { config?: Config; now?: Date } = {}): Promise<OpenedEdition> => {
  const used = options.config ?? config;
  const at = options.now ? { now: () => options.now as Date } : clock;
  const target = resolveTarget(used, at.now(), request.date);
  const stored = request.persist ? await store.getEdition(target.id) : undefined;
  return openEdition({ config: used, store, articles, clock: at, templates }, { target, stored, persist: request.persist });
};

function ready(opened: OpenedEdition): Extract<OpenedEdition, { kind: 'ready' }> {
  if (opened.kind !== 'ready') throw new Error(`expected a ready edition, got: ${opened.message}`);
  return opened;
}

describe('openEdition', () => {
  it('plans and renders without writing anything when not persisting (preview)', async () => {
    const opened = ready(await open({ date: SEED_EDITION, persist: false }));
    expect(opened.origin).toBe('planned');
    expect(opened.outline.sections.map((section) => section.id)).toEqual(['talks', 'protests', 'war']);
    expect(opened.briefing.subject).toMatch(/^Briefing, Wednesday 23 July 2025:/);
    expect(await store.getEdition(SEED_EDITION)).toBeUndefined();
  });

  it('opens the due edition when no date is given', async () => {
    expect((await open({ persist: false }, seedArticles, { now: new Date('2025-07-23T17:59:00Z') })).id).toBe('2025-07-22');
    expect((await open({ persist: false }, seedArticles, { now: new Date('2025-07-23T18:00:00Z') })).id).toBe('2025-07-23');
  });

  it('records the edition once with its memory and briefing, and reuses the stored briefing afterwards', async () => {
    const first = ready(await open({ date: SEED_EDITION, persist: true }));
    expect(first.origin).toBe('planned');
    expect(first.record).toMatchObject({ id: SEED_EDITION, status: 'planned', subject: first.briefing.subject, cutoff: new Date('2025-07-23T18:00:00Z') });

    // Content changed since: a resumed send still sends what was rendered first.
    const changed = [...seedArticles, makeArticle({ id: 'late-news', published: '2025-07-23T22:00:00Z', body: 'Late news.', topics: { '': ['talks'] } })];
    const again = ready(await open({ date: SEED_EDITION, persist: true }, changed));
    expect(again.origin).toBe('stored');
    expect(again.briefing).toEqual(first.briefing);
    expect(again.outline).toEqual(first.outline);
    expect(again.window).toEqual(first.window);
  });

  it("keeps the edition's sections in its record and gives them back, dates revived, for rendering any topic choice later", async () => {
    const first = ready(await open({ date: SEED_EDITION, persist: true }));
    const again = ready(await open({ date: SEED_EDITION, persist: true }, []));
    expect(again.origin).toBe('stored');
    expect(again.edition?.sections).toEqual(first.edition?.sections);
    expect(again.edition?.sections[0]?.items[0]?.published).toBeInstanceOf(Date);
    expect(again.edition).toMatchObject({ id: SEED_EDITION, slot: first.slot, window: first.window, empty: false });
  });

  it('reads a record stored before editions kept their sections: ready, without content to narrow', async () => {
    const planned = ready(await open({ date: SEED_EDITION, persist: false }));
    const memory = { version: 1, since: planned.window.since.toISOString(), memory: { told: {}, sent: {} }, outline: planned.outline, briefing: planned.briefing };
    await store.createEdition({ id: SEED_EDITION, slot: planned.slot, status: 'planned', cutoff: planned.window.until, subject: planned.briefing.subject, note: null, memory }, clock.now());
    const opened = ready(await open({ date: SEED_EDITION, persist: true }, []));
    expect(opened.edition).toBeUndefined();
    expect(opened.briefing).toEqual(planned.briefing);
  });

  it.each([
    ['a published time that is no date', (item: Record<string, unknown>) => (item.published = 'yesterday'), 'sections.0.items.0.published'],
    ['markup where a paragraph list belongs', (item: Record<string, unknown>) => (item.blocks = '<script>alert(1)</script>'), 'sections.0.items.0.blocks'],
    ['an unknown story status', (item: Record<string, unknown>) => (item.status = 'forged'), 'sections.0.items.0.status'],
  ])('refuses a stored record whose sections were tampered with: %s', async (_name, tamper, field) => {
    const planned = ready(await open({ date: SEED_EDITION, persist: false }));
    const sections = JSON.parse(JSON.stringify(planned.edition?.sections)) as Array<{ items: Array<Record<string, unknown>> }>;
    tamper(sections[0]?.items[0] ?? {});
    const memory = { version: 1, since: planned.window.since.toISOString(), memory: { told: {}, sent: {} }, outline: planned.outline, briefing: planned.briefing, sections };
    await store.createEdition({ id: SEED_EDITION, slot: planned.slot, status: 'planned', cutoff: planned.window.until, subject: planned.briefing.subject, note: null, memory }, clock.now());
    const error = await open({ date: SEED_EDITION, persist: true }, []).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BriefingError);
    expect((error as Error).message).toContain(`edition ${SEED_EDITION}: the stored record cannot be read (${field}:`);
  });

  it('creates the record once when two callers open the same edition at the same time', async () => {
    const both = (await Promise.all([open({ date: SEED_EDITION, persist: true }), open({ date: SEED_EDITION, persist: true })])).map(ready);
    expect(both.map((opened) => opened.origin).sort()).toEqual(['planned', 'stored']);
    expect(both[0]?.briefing).toEqual(both[1]?.briefing);
    expect(await store.listEditions(10)).toHaveLength(1);
  });

  it("starts the next edition at the sent edition's cut-off and does not repeat what it told", async () => {
    await open({ date: SEED_EDITION, persist: true });
    await store.setEditionStatus(SEED_EDITION, 'sent', clock.now());
    const followUp = makeArticle({
      id: 'follow-up',
      published: '2025-07-24T12:00:00Z',
      body: [
        'Parliament met in an emergency session on Thursday.',
        // A paragraph of the seed wrap-up, already told.
        seedArticles.flatMap((article) => article.sections.flatMap((section) => section.blocks.map((block) => block.markdown))).find((text) => text.includes('NABU')) ?? '',
      ].join('\n\n'),
      topics: { '': ['protests'] },
    });
    const next = ready(await open({ date: '2025-07-24', persist: true }, [...seedArticles, followUp], { now: new Date('2025-07-24T20:00:00Z') }));
    expect(next.window.since).toEqual(new Date('2025-07-23T18:00:00Z'));
    expect(next.edition?.sections.map((section) => [section.id, section.items.map((item) => [item.articleId, item.status, item.blocks.map((block) => block.text)])])).toEqual([
      ['protests', [['follow-up', 'updated', ['Parliament met in an emergency session on Thursday.']]]],
    ]);
  });

  it('skips an edition with nothing new, records why, and says so again when asked again', async () => {
    await open({ date: SEED_EDITION, persist: true });
    await store.setEditionStatus(SEED_EDITION, 'sent', clock.now());
    const now = new Date('2025-07-24T20:00:00Z');
    const skipped = await open({ date: '2025-07-24', persist: true }, seedArticles, { now });
    expect(skipped.kind).toBe('skipped');
    const message = skipped.kind === 'skipped' ? skipped.message : '';
    expect(message).toBe(
      'edition 2025-07-24: nothing new between 2025-07-23 21:00 EEST and 2025-07-24 21:00 EEST, so it is recorded as skipped (`briefing send --date 2025-07-24 --replan` plans it again; edition.sendWhenEmpty sends empty editions)',
    );
    expect(await store.getEdition('2025-07-24')).toMatchObject({ status: 'skipped', note: message });
    expect(await open({ date: '2025-07-24', persist: true }, seedArticles, { now })).toMatchObject({ kind: 'skipped', origin: 'stored', message });
    // The skipped edition is not a previous edition: the next window still starts at the last sent one.
    const after = await open({ date: '2025-07-25', persist: false }, seedArticles, { now: new Date('2025-07-25T20:00:00Z') });
    expect(after.window.since).toEqual(new Date('2025-07-23T18:00:00Z'));
  });

  it('sends an empty edition when edition.sendWhenEmpty says so', async () => {
    const always = testConfig((raw) => {
      (raw.edition as Record<string, unknown>).sendWhenEmpty = true;
    });
    const empty = ready(await open({ date: '2025-07-20', persist: true }, seedArticles, { config: always, now: new Date('2025-07-20T20:00:00Z') }));
    expect(empty.outline.sections).toEqual([]);
    expect(empty.briefing.text).toContain('Nothing new since the last briefing.');
    expect(empty.briefing.subject).toBe('Briefing, Sunday 20 July 2025');
  });

  it('refuses a previous edition record it cannot read', async () => {
    await store.createEdition(
      { id: '2025-07-22', slot: new Date('2025-07-22T18:00:00Z'), status: 'sent', cutoff: new Date('2025-07-22T18:00:00Z'), subject: 's', note: null, memory: { something: 'else' } },
      clock.now(),
    );
    const error = await open({ date: SEED_EDITION, persist: false }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BriefingError);
    expect((error as Error).message).toMatch(/^edition: edition 2025-07-22: the stored record cannot be read/);
  });
});
