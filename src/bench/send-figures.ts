import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../config.js';
import { messageOptions } from '../delivery/deliver-edition.js';
import { personaliseMessage, prepareMessage } from '../delivery/message.js';
import { subscriberLinks } from '../delivery/tokens.js';
import type { Briefing } from '../email/briefing.js';
import type { TopicChoice } from '../store/store.js';
import { readStoredEdition } from '../run/stored-edition.js';
import { openSlotEdition, resolveTarget } from '../run/open-slot-edition.js';
import { openStoreAt } from '../store/open-store.js';
import {
  BENCH_EDITION,
  BENCH_EDITION_NEWEST,
  BENCH_LINK_KEY,
  BENCH_SECRET,
  createPublication,
  REPOSITORY,
  installStore,
  seedSubscribers,
  type BenchPublication,
} from './bench-publication.js';
import { failedFigure, figure, type Figure } from './bench-report.js';
import { timeFirstMessage, type FirstMessageResult } from './first-message.js';
import { writeRecords } from './generate-articles.js';
import { createBenchSchema } from './postgres-schema.js';
import { expectSuccess, median } from './measure.js';
import { sendWithNodemailer } from './nodemailer-baseline.js';
import { postfixToolsInstalled, runSmtpSource, startSmtpSink, type SmtpSink } from './postfix-tools.js';
import { measureOutboxShare } from './outbox-figure.js';

/** List sizes of the send figures. */
export interface SendSizes {
  /** Subscribers of the throughput send (and smtp-source's message count). */
  throughput: number;
  /** Messages of the nodemailer baseline (a smaller count: it is slow, and rates are compared). */
  baseline: number;
  /** The two list sizes whose peak memory is compared. */
  memorySmall: number;
  memoryLarge: number;
  /** The list of the largest send, with SQLite and with PostgreSQL (a million in a full run: minutes each). */
  memoryHuge: number;
}

/** The edition's one article: four paragraphs make a message of about 21 KB with the MJML layout. */
const ARTICLE_PARAGRAPHS = 4;

/** What `briefing send --json` prints at the end. */
interface SendOutput {
  sent: number;
  failed: number;
  rate: number;
  elapsedMs: number;
  complete: boolean;
}

/** The figures' shared parts: the generated content and the seeded stores by list size (and topic spread). */
interface SendContent {
  root: string;
  contentDir: string;
  seeds: Map<string, string>;
  log: (line: string) => void;
}

/**
 * The topic choices of the topic send, one subscriber in five each: every topic, each topic alone,
 * and two of them. The repository's own records have news in every topic, so no choice is skipped.
 */
const TOPIC_CHOICES: readonly TopicChoice[] = [null, ['talks'], ['protests'], ['war'], ['protests', 'talks']];

/** The same with Postfix's sink running. */
interface SendBench extends SendContent {
  sink: SmtpSink;
}

async function seed(bench: SendContent, count: number, choices: readonly TopicChoice[] = [null]): Promise<string> {
  const key = `${count}-${choices.length}`;
  let file = bench.seeds.get(key);
  if (file === undefined) {
    file = path.join(bench.root, 'seeds', `${key}.db`);
    bench.log(`  seeding a store with ${count} subscribers${choices.length > 1 ? ` over ${choices.length} topic choices` : ''}`);
    await seedSubscribers({ kind: 'sqlite', file }, count, choices);
    bench.seeds.set(key, file);
  }
  return file;
}

/** A publication of its own (fresh store copy, no edition yet) that sends the shared content (or `contentDir`). */
async function publicationFor(bench: SendContent, name: string, subscribers: number, choices?: readonly TopicChoice[], contentDir = bench.contentDir): Promise<BenchPublication> {
  const publication = createPublication(path.join(bench.root, name), contentDir);
  installStore(await seed(bench, subscribers, choices), publication);
  return publication;
}

/** Runs `briefing send` of the bench edition to the sink and checks that every subscriber got one message. */
async function sendAll(
  publication: BenchPublication,
  url: string,
  subscribers: number,
  env: Record<string, string> = {},
): Promise<SendOutput & { peakRssKb: number | undefined; wallMs: number }> {
  const result = expectSuccess(
    'briefing send',
    await publication.run(['send', '--date', BENCH_EDITION, '--json'], { ...env, BRIEFING_SMTP_URL: url, BRIEFING_SECRET: BENCH_SECRET }, { measureMemory: true }),
  );
  const output = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as SendOutput;
  if (output.sent !== subscribers || !output.complete) throw new Error(`briefing send sent ${output.sent} of ${subscribers} messages`);
  return { ...output, peakRssKb: result.peakRssKb, wallMs: result.ms };
}

/** The briefing the send stored with its edition, and the publication's configuration. */
async function storedBriefing(publication: BenchPublication): Promise<{ briefing: Briefing; config: Config }> {
  const config = loadConfig(publication.configFile, { BRIEFING_SECRET: BENCH_SECRET });
  const store = await openStoreAt({ kind: 'sqlite', file: publication.databaseFile });
  try {
    const record = await store.getEdition(BENCH_EDITION);
    const briefing = record === undefined ? null : readStoredEdition(record.id, record.memory).briefing;
    if (briefing === null) throw new Error(`edition ${BENCH_EDITION} was not stored with its briefing`);
    return { briefing, config };
  } finally {
    await store.close();
  }
}

/** Bytes of one reader's complete message, as the sender puts it on the wire. */
function messageSize(briefing: Briefing, config: Config): number {
  const template = prepareMessage(briefing, messageOptions(config, undefined));
  const links = subscriberLinks(config.siteUrl, BENCH_SECRET, { id: 1, linkKey: BENCH_LINK_KEY });
  return personaliseMessage(template, { subscriberId: 1, address: 'reader1@example.com', name: null, ...links }, new Date()).raw.length;
}

/**
 * Sends and smtp-source runs of the throughput figure, taken by turns: each rate is the median of its
 * runs, so one run slowed by the machine's other work does not make the ratio.
 */
const THROUGHPUT_PAIRS = 3;

async function throughputFigures(bench: SendBench, sizes: SendSizes): Promise<Figure[]> {
  const count = sizes.throughput;
  const oursRates: number[] = [];
  const sourceRates: number[] = [];
  let stored: { briefing: Briefing; config: Config; size: number } | undefined;
  for (let pair = 1; pair <= THROUGHPUT_PAIRS; pair += 1) {
    const publication = await publicationFor(bench, `send-throughput-${pair}`, count);
    bench.log(`  briefing send to smtp-sink, ${count} subscribers (run ${pair} of ${THROUGHPUT_PAIRS})`);
    oursRates.push((await sendAll(publication, bench.sink.url, count)).rate);
    if (stored === undefined) {
      const { briefing, config } = await storedBriefing(publication);
      stored = { briefing, config, size: messageSize(briefing, config) };
    }
    const { size, config } = stored;
    bench.log(`  smtp-source, ${count} messages of ${size} bytes over ${config.delivery.concurrency} connections (run ${pair} of ${THROUGHPUT_PAIRS})`);
    sourceRates.push((await runSmtpSource(bench.sink.port, { count, size, connections: config.delivery.concurrency })).rate);
  }
  const { briefing, config, size } = stored as NonNullable<typeof stored>;
  const connections = config.delivery.concurrency;
  const ours = { rate: median(oursRates) };
  const source = { rate: median(sourceRates) };
  bench.log(`  nodemailer baseline, ${sizes.baseline} messages`);
  const baseline = await sendWithNodemailer(
    bench.sink.url,
    briefing,
    { sender: config.sender, listId: config.listId, title: config.title, siteUrl: config.siteUrl, secret: BENCH_SECRET },
    { count: sizes.baseline, connections, inFlight: connections * 2 },
  );
  bench.log(`  the sender in process, ${count} subscribers, its outbox calls timed`);
  const outbox = await measureOutboxShare(path.join(bench.root, 'outbox.db'), await seed(bench, count), {
    edition: BENCH_EDITION,
    template: prepareMessage(briefing, messageOptions(config, undefined)),
    config,
    smtpUrl: bench.sink.url,
    secret: BENCH_SECRET,
  });
  return [
    figure({
      id: 'send.vsSmtpSource',
      name: `send rate ÷ smtp-source (${count} msgs, ${Math.round(size / 1024)} KB, ${connections} conns)`,
      value: ours.rate / source.rate,
      unit: '×',
      goal: { atLeast: 0.85 },
      detail: { oursPerSecond: ours.rate, smtpSourcePerSecond: source.rate, messageBytes: size, oursRuns: oursRates.map(Math.round).join(' '), smtpSourceRuns: sourceRates.map(Math.round).join(' ') },
    }),
    figure({
      id: 'send.vsNodemailer',
      name: `send rate ÷ pooled nodemailer sendMail (${sizes.baseline} msgs)`,
      value: ours.rate / baseline.rate,
      unit: '×',
      goal: { atLeast: 5 },
      detail: { oursPerSecond: ours.rate, nodemailerPerSecond: baseline.rate },
    }),
    figure({
      id: 'send.outboxHeadroom',
      name: 'outbox bookkeeping rate ÷ send rate (same send)',
      value: outbox.bookkeepingRate / outbox.sendRate,
      unit: '×',
      goal: { atLeast: 5 },
      detail: {
        bookkeepingPerSecond: outbox.bookkeepingRate,
        sendPerSecond: outbox.sendRate,
        transactions: outbox.transactions,
        outcomesPerTransaction: outbox.outcomesPerRecord,
      },
    }),
  ];
}

/**
 * Topic choices cost a render per choice and a template per choice in the sender: the same list and
 * content sent once with every subscriber on every topic and once spread over five topic choices.
 */
async function topicChoiceFigures(bench: SendBench, sizes: SendSizes): Promise<Figure[]> {
  const count = sizes.throughput;
  const contentDir = path.join(bench.root, 'topic-content');
  cpSync(path.join(REPOSITORY, 'content'), contentDir, { recursive: true });
  bench.log(`  briefing send to smtp-sink, ${count} subscribers, one topic choice`);
  const one = await sendAll(await publicationFor(bench, 'send-topics-1', count, [null], contentDir), bench.sink.url, count);
  bench.log(`  briefing send to smtp-sink, ${count} subscribers, ${TOPIC_CHOICES.length} topic choices`);
  const five = await sendAll(await publicationFor(bench, 'send-topics-5', count, TOPIC_CHOICES, contentDir), bench.sink.url, count);
  return [
    figure({
      id: 'send.topicChoices',
      name: `send rate, ${TOPIC_CHOICES.length} topic choices ÷ one (${count} msgs: ${Math.round(five.rate)}/s ÷ ${Math.round(one.rate)}/s)`,
      value: five.rate / one.rate,
      unit: '×',
      goal: { atLeast: 0.9 },
      detail: { oneChoicePerSecond: one.rate, fiveChoicesPerSecond: five.rate, oneChoiceWallMs: one.wallMs, fiveChoicesWallMs: five.wallMs },
    }),
  ];
}

/** The README's memory tuning for large lists: a smaller V8 young generation and fewer malloc arenas. */
const TUNED_MEMORY_ENV = { NODE_OPTIONS: '--max-semi-space-size=4', MALLOC_ARENA_MAX: '2' };

/** One send's peak memory and rate, and how long the figure took (seeding included): the largest lists take minutes. */
async function timedPeak(
  bench: SendBench,
  count: number,
  prepare: () => Promise<BenchPublication>,
  options: { env?: Record<string, string>; label?: string } = {},
): Promise<{ mb: number; rate: number; seconds: number }> {
  const { env = {}, label = '' } = options;
  const started = performance.now();
  const publication = await prepare();
  bench.log(`  briefing send to smtp-sink, ${count} subscribers, peak memory${label}`);
  const result = await sendAll(publication, bench.sink.url, count, env);
  if (result.peakRssKb === undefined || !(result.peakRssKb > 0)) throw new Error('the peak memory of briefing send could not be read');
  const seconds = Math.round((performance.now() - started) / 1000);
  bench.log(`    ${Math.round(result.peakRssKb / 1024)} MB at ${Math.round(result.rate)}/s, ${seconds} s for the figure`);
  return { mb: result.peakRssKb / 1024, rate: result.rate, seconds };
}

/** The largest send with its store in PostgreSQL: a fresh schema of the bench's database, seeded through the real store. */
async function postgresFigures(bench: SendBench, sizes: SendSizes): Promise<Figure[]> {
  const schema = await createBenchSchema();
  try {
    const count = sizes.memoryHuge;
    const env = { BRIEFING_DATABASE_URL: schema.url };
    const huge = await timedPeak(
      bench,
      count,
      async () => {
        bench.log(`  seeding a PostgreSQL schema with ${count} subscribers`);
        await seedSubscribers({ kind: 'postgres', url: schema.url }, count);
        return createPublication(path.join(bench.root, 'send-memory-postgres'), bench.contentDir);
      },
      { env, label: ' (PostgreSQL)' },
    );
    return [
      figure({
        id: 'send.peakRssPostgres',
        name: `peak RSS of briefing send, ${count} subscribers (PostgreSQL)`,
        value: huge.mb,
        unit: 'MB',
        goal: { atMost: 150 },
        detail: { perSecond: huge.rate, seconds: huge.seconds },
      }),
    ];
  } finally {
    await schema.drop();
  }
}

async function memoryFigures(bench: SendBench, sizes: SendSizes): Promise<Figure[]> {
  const peak = (count: number, name: string, options: { env?: Record<string, string>; label?: string } = {}) =>
    timedPeak(bench, count, () => publicationFor(bench, `send-memory-${name}`, count), options);
  const small = (await peak(sizes.memorySmall, 'small')).mb;
  const large = await peak(sizes.memoryLarge, 'large');
  const tuned = await peak(sizes.memoryLarge, 'tuned', { env: TUNED_MEMORY_ENV, label: ' (tuned)' });
  const huge = await peak(sizes.memoryHuge, 'huge');
  return [
    figure({
      id: 'send.peakRss',
      name: `peak RSS of briefing send, ${sizes.memoryLarge} subscribers`,
      value: large.mb,
      unit: 'MB',
      goal: { atMost: 150 },
      detail: { [`mb${sizes.memorySmall}`]: small, [`mb${sizes.memoryLarge}`]: large.mb },
    }),
    figure({
      id: 'send.peakRssGrowth',
      name: `peak RSS ${sizes.memoryLarge} ÷ ${sizes.memorySmall} subscribers`,
      value: large.mb / small,
      unit: '×',
      goal: { atMost: 1.2 },
      detail: { [`mb${sizes.memorySmall}`]: small, [`mb${sizes.memoryLarge}`]: large.mb },
    }),
    figure({
      id: 'send.peakRssTuned',
      name: `the same, ${sizes.memoryLarge} subscribers, NODE_OPTIONS=${TUNED_MEMORY_ENV.NODE_OPTIONS} MALLOC_ARENA_MAX=${TUNED_MEMORY_ENV.MALLOC_ARENA_MAX}`,
      value: tuned.mb,
      unit: 'MB',
      goal: { info: true },
      detail: { mb: tuned.mb, perSecond: tuned.rate, defaultPerSecond: large.rate },
    }),
    figure({
      id: 'send.peakRssHuge',
      name: `peak RSS of briefing send, ${sizes.memoryHuge} subscribers (SQLite)`,
      value: huge.mb,
      unit: 'MB',
      goal: { atMost: 150 },
      detail: { perSecond: huge.rate, seconds: huge.seconds },
    }),
  ];
}

/**
 * Records the bench edition in the publication's store (planned, rendered, not enqueued), as a
 * scheduler's earlier run or a preview-and-approve step leaves it, so a send finds it stored.
 */
async function storeEdition(publication: BenchPublication): Promise<void> {
  const config = loadConfig(publication.configFile, { BRIEFING_SECRET: BENCH_SECRET });
  const store = await openStoreAt({ kind: 'sqlite', file: publication.databaseFile });
  try {
    const clock = { now: () => new Date() };
    await openSlotEdition({ config, clock, store }, { target: resolveTarget(config, clock.now(), BENCH_EDITION), stored: undefined, persist: true });
  } finally {
    await store.close();
  }
}

/**
 * Runs of each first-message case in a full run: one start is a noisy sample of a shared machine (the
 * same program measured 1.1–1.8 s in a row of twelve on one), and each run costs a second or two.
 */
const FIRST_MESSAGE_RUNS = 5;

/**
 * Time to the first message, with the edition rendered by the send and with it already stored: the
 * median of a few runs of each, alternating, each on a publication of its own (a fresh store).
 */
async function firstMessageFigures(bench: SendContent, sizes: SendSizes, runs: number): Promise<Figure[]> {
  const rendered: FirstMessageResult[] = [];
  const storedRuns: FirstMessageResult[] = [];
  bench.log(`  briefing send to an in-process SMTP server, ${sizes.throughput} subscribers, time to the first message: edition rendered and already stored, ${runs} alternating runs each`);
  for (let run = 1; run <= runs; run += 1) {
    const publication = await publicationFor(bench, `send-first-${run}`, sizes.throughput);
    rendered.push(await timeFirstMessage(publication, { edition: BENCH_EDITION, secret: BENCH_SECRET, stopAfter: 100 }));
    const storedPublication = await publicationFor(bench, `send-first-stored-${run}`, sizes.throughput);
    await storeEdition(storedPublication);
    storedRuns.push(await timeFirstMessage(storedPublication, { edition: BENCH_EDITION, secret: BENCH_SECRET, stopAfter: 100 }));
  }
  const result = {
    firstMessageMs: median(rendered.map((run) => run.firstMessageMs)),
    personalised: rendered.every((run) => run.personalised),
    received: rendered.reduce((sum, run) => sum + run.received, 0),
    problem: rendered.find((run) => run.problem !== undefined)?.problem,
  };
  const stored = { firstMessageMs: median(storedRuns.map((run) => run.firstMessageMs)) };
  const all = (results: readonly FirstMessageResult[]): string => results.map((run) => Math.round(run.firstMessageMs)).join(' ');
  return [
    figure({
      id: 'send.firstMessage',
      name: `time to the first message of briefing send (${sizes.throughput} subscribers, edition rendered)`,
      value: result.firstMessageMs / 1000,
      unit: 's',
      goal: { atMost: 1.2 },
      detail: { ms: Math.round(result.firstMessageMs), runs: all(rendered) },
    }),
    figure({
      id: 'send.firstMessageStored',
      name: `the same with the edition already stored`,
      value: stored.firstMessageMs / 1000,
      unit: 's',
      goal: { atMost: 0.6 },
      detail: { ms: Math.round(stored.firstMessageMs), runs: all(storedRuns) },
    }),
    figure({
      id: 'send.personalised',
      name: 'each message has its own To, unsubscribe token, Message-ID',
      value: result.personalised ? 1 : 0,
      unit: 'yes/no',
      goal: { equals: true },
      detail: { checked: result.received, ...(result.problem === undefined ? {} : { problem: result.problem }) },
    }),
  ];
}

/**
 * The send figures: throughput against Postfix's smtp-source and a nodemailer baseline, the
 * outbox's headroom, the rate with five topic choices beside one, peak memory at two list sizes,
 * and time to the first message. Every send is a real `briefing send` child process with its own
 * SQLite store. A part that fails is reported.
 */
export async function sendFigures(root: string, sizes: SendSizes, log: (line: string) => void): Promise<Figure[]> {
  const contentDir = path.join(root, 'send-content');
  mkdirSync(contentDir, { recursive: true });
  writeRecords(contentDir, 1, { newest: BENCH_EDITION_NEWEST, spacingMinutes: 60, paragraphs: ARTICLE_PARAGRAPHS });
  const figures: Figure[] = [];
  const content: SendContent = { root, contentDir, seeds: new Map(), log };
  try {
    // One run of each in a quick run (a tiny list, where the figure means little).
    figures.push(...(await firstMessageFigures(content, sizes, sizes.throughput >= 10_000 ? FIRST_MESSAGE_RUNS : 1)));
  } catch (error) {
    figures.push(failedFigure('send.firstMessage', 'time to the first message of briefing send', error));
  }
  if (!postfixToolsInstalled()) {
    const missing = new Error('Postfix smtp-sink/smtp-source not found (apt-get install postfix)');
    return [
      ...figures,
      failedFigure('send.vsSmtpSource', 'send rate ÷ smtp-source', missing),
      failedFigure('send.topicChoices', 'send rate, 5 topic choices ÷ one', missing),
      failedFigure('send.peakRss', 'peak RSS of briefing send', missing),
    ];
  }
  const sink = await startSmtpSink();
  const bench: SendBench = { ...content, sink };
  try {
    try {
      figures.push(...(await throughputFigures(bench, sizes)));
    } catch (error) {
      figures.push(failedFigure('send.vsSmtpSource', 'send rate ÷ smtp-source', error));
    }
    try {
      figures.push(...(await topicChoiceFigures(bench, sizes)));
    } catch (error) {
      figures.push(failedFigure('send.topicChoices', 'send rate, 5 topic choices ÷ one', error));
    }
    try {
      figures.push(...(await memoryFigures(bench, sizes)));
    } catch (error) {
      figures.push(failedFigure('send.peakRss', 'peak RSS of briefing send', error));
    }
    try {
      figures.push(...(await postgresFigures(bench, sizes)));
    } catch (error) {
      figures.push(failedFigure('send.peakRssPostgres', 'peak RSS of briefing send (PostgreSQL)', error));
    }
  } finally {
    await sink.stop();
  }
  return figures;
}
