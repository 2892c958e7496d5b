import { createHash } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import type { Config } from '../config.js';
import type { Article, SiteArticle } from '../content/article.js';
import { forgetParsedArticles, saveArticleCache, type ArticleCacheMemory } from '../content/article-cache.js';
import { openArticleSpool, type ArticleSpool } from '../content/article-spool.js';
import { indexArticle, type IndexedArticle } from '../content/indexed-article.js';
import { loadArticleIndex } from '../content/load-articles.js';
import { createSharedStats } from '../content/record-stats.js';
import { BriefingError } from '../errors.js';
import { settledBefore } from '../settled-change.js';
import { MANIFEST_PATH, PENDING_PATH, parseManifest, serializeManifest, serializePending, withoutPending, type BuildManifest, type PlannedManifest } from '../output/build-manifest.js';
import { OutputPathMap } from '../output/output-path-map.js';
import { planSiteBuild } from '../output/plan-site-build.js';
import { publishEditions } from '../output/publish-editions.js';
import { removeOutputFiles } from '../output/remove-output-files.js';
import { ARCHIVE_FOLDER, ARTICLES_FOLDER } from '../output/site-paths.js';
import { compileSiteTemplates, readSiteTemplates, type SiteTemplateSources, type SiteTemplates } from '../output/site-templates.js';
import { SHARED_RENDER_FROM, startRenderHelper, type RenderHelper, type RenderHelperData } from '../output/shared-render.js';
import { abandonedTemporary, writeOutputFiles } from '../output/write-output-files.js';
import { writeRenderJobs, type WrittenCounts } from '../output/write-render-jobs.js';

/** What `briefing build` did. */
export interface BuildSummary {
  outputDir: string;
  articles: number;
  /** Files rendered because their inputs changed, and files left alone because they did not. */
  rendered: number;
  reused: number;
  /** Of the rendered files, those whose bytes changed on disk and those that came out the same. */
  written: number;
  unchanged: number;
  /** Of the rendered files, those the helper thread rendered (none on one thread): the bench shows the split. */
  renderedByHelper: number;
  /** Files of earlier builds no longer made (removed articles, vanished archive pages). */
  removed: number;
}

/** The folders of output/ the build writes files into. */
const OUTPUT_FOLDERS = ['', ARTICLES_FOLDER, ARCHIVE_FOLDER] as const;

/**
 * The output folders' inodes and change times (nanoseconds) as one key, and their times: a folder's
 * times change whenever a file is added to it, removed or renamed in it.
 */
function folderStamps(outputDir: string): { key: string; times: Array<{ mtimeMs: number; ctimeMs: number }> } {
  const parts: string[] = [];
  const times: Array<{ mtimeMs: number; ctimeMs: number }> = [];
  for (const folder of OUTPUT_FOLDERS) {
    const stat = statSync(path.join(outputDir, folder), { bigint: true, throwIfNoEntry: false });
    parts.push(stat === undefined ? 'missing' : `${stat.ino}:${stat.mtimeNs}:${stat.ctimeNs}`);
    if (stat !== undefined) times.push({ mtimeMs: Number(stat.mtimeMs), ctimeMs: Number(stat.ctimeMs) });
  }
  return { key: parts.join(), times };
}

/**
 * How long after a build a resident builder lists output/ again, while it waits for the next change:
 * then a next build that finds the folders' stamps unchanged takes that listing instead of making
 * its own (some 10 ms at 10,000 articles, a tenth of a rebuild after one edit).
 */
const IDLE_LISTING_DELAY_MS = 150;

/**
 * The listing of output/ now, kept only if it can vouch for itself: a change within the step of a
 * folder's last one may leave its times as they were, so every folder's last change must have
 * settled before the listing (see settledBefore), as the parse cache asks of records.
 */
function idleListing(outputDir: string): { existing: OutputPathMap<true>; stamps: string } | undefined {
  const listedAt = Date.now();
  const before = folderStamps(outputDir);
  if (!before.times.every((times) => settledBefore(times, listedAt))) return undefined;
  const existing = listOutputs(outputDir);
  // Nothing came or went while it was listed.
  return folderStamps(outputDir).key === before.key ? { existing, stamps: before.key } : undefined;
}

/** How far V8's old generation may grow past what was live at its last collection, in percent (see buildSite). */
const HEAP_GROWING_PERCENT = 20;

/**
 * The folders the build writes into, listed once: what exists is what need not be re-rendered.
 * Synchronously, like the records (see listRecords): an asynchronous listing's handles, an entry per
 * file, would stay alive through the build that follows.
 */
function listOutputs(outputDir: string): OutputPathMap<true> {
  const existing = new OutputPathMap<true>();
  const now = Date.now();
  for (const folder of OUTPUT_FOLDERS) {
    try {
      for (const entry of readdirSync(path.join(outputDir, folder), { withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const file = path.join(entry.parentPath, entry.name);
        // A page a killed build never renamed into place: a static host would publish it.
        if (entry.name.endsWith('.tmp') && abandonedTemporary(entry.name, () => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? now, now)) removeAbandoned(file);
        else existing.set(folder === '' ? entry.name : `${folder}/${entry.name}`, true);
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        const where = path.relative(process.cwd(), path.join(outputDir, folder)) || outputDir;
        throw new BriefingError('output', 'output-unreadable', `cannot list ${where}: ${code ?? String(error)}`, { cause: error });
      }
    }
  }
  return existing;
}

function removeAbandoned(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // Left as it is (a read-only folder): the next build tries again.
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The parts of the program that shape the output: record loading, feeds, pages (and the program's root files, which they may use). */
const RENDERING_FOLDERS = ['content', 'feed', 'output'];

/** The compiled program's folder (src/ when run from the sources). */
const PROGRAM_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A digest of the code that renders (and of package.json, which pins the libraries it uses), so an
 * upgrade re-renders everything while a change elsewhere in the program does not. The root files
 * count too: every folder may use them (zone names on the pages, YAML reading of the records).
 */
export async function programFingerprint(root = PROGRAM_ROOT): Promise<string> {
  const listings = await Promise.all([
    readdir(root, { withFileTypes: true }),
    ...RENDERING_FOLDERS.map((folder) => readdir(path.join(root, folder), { recursive: true, withFileTypes: true })),
  ]);
  const files = listings.flatMap((entries) =>
    entries
      .filter((entry) => entry.isFile() && /\.(js|ts)$/.test(entry.name))
      .map((entry) => path.join(entry.parentPath, entry.name))
      .sort(),
  );
  // Read all at once, hashed in a fixed order: one after the other, the reads add up to most of a rebuild's wait.
  const [manifest, ...contents] = await Promise.all([readFile(path.join(root, '../package.json')), ...files.map((file) => readFile(file))]);
  const hash = createHash('sha256').update(manifest as Buffer);
  files.forEach((file, index) => hash.update(file.slice(root.length)).update(contents[index] as Buffer));
  return hash.digest('hex');
}

/** Everything besides the articles that shapes the output. */
function buildKeyOf(config: Config, templates: SiteTemplateSources, program: string): string {
  const { title, description, siteUrl, language, direction, timeZone, author, topics, feed } = config;
  const facts = { title, description, siteUrl, language, direction, timeZone, author, topics, feed };
  return createHash('sha256').update(JSON.stringify({ facts, templates, program })).digest('hex');
}

/** What a build is asked for: `until` leaves out articles published after it; `articles` are given by a run that loaded them already. */
export interface BuildOptions {
  until?: Date | undefined;
  articles?: readonly Article[];
}

/**
 * Builds the site of one configuration, again and again if asked. A resident builder (`briefing build
 * --watch`) keeps what a build makes that the next may use (the compiled templates while their
 * sources are the same, the parse cache's entries, the manifest it wrote), so a build after one edit
 * does only what the edit needs.
 */
export interface SiteBuilder {
  build(options?: BuildOptions): Promise<BuildSummary>;
  /**
   * What the next build needs and the site's files do not wait for, done by a resident builder once
   * its caller has reported the build, before the next one: the manifest put in place and the pending
   * list removed (a process that dies first leaves the list, and the next build renders those files
   * again), the parse cache written to its file (for a later process) and its parsed articles let go,
   * the manifest kept as the next build looks it up.
   */
  afterBuild(): Promise<void>;
  /** Stops what a resident builder keeps running (the helper thread of its loads' stats). */
  close(): void;
}

/** The manifest a resident builder wrote, and the stamp of its file then: another stamp means another build wrote it since. */
interface KeptManifest {
  stamp: string;
  manifest: BuildManifest;
}

/** The stamp of a regular file (of `size` bytes, when given); undefined for anything else. */
function fileStamp(file: string, size?: number): string | undefined {
  try {
    const stats = statSync(file);
    if (!stats.isFile() || (size !== undefined && stats.size !== size)) return undefined;
    return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
  } catch {
    return undefined;
  }
}

export function createSiteBuilder(config: Config, options: { resident?: boolean } = {}): SiteBuilder {
  const templatesDir = config.paths.templates;
  const shownTemplates = path.relative(process.cwd(), templatesDir) || templatesDir;
  const outputDir = config.paths.output;
  const manifestFile = path.join(outputDir, MANIFEST_PATH);
  const cacheFile = path.join(config.paths.data, 'article-cache');
  let program: Promise<string> | undefined;
  let compiled: { text: string; sources: SiteTemplateSources; templates: SiteTemplates; buildKey: string } | undefined;
  const cacheMemory: ArticleCacheMemory | undefined = options.resident === true ? {} : undefined;
  // A `stat` of every record is a quarter of a rebuild after one edit: a resident builder shares it with a helper thread it keeps.
  const statter = options.resident === true ? createSharedStats() : undefined;
  let kept: KeptManifest | undefined;
  let written: { buildKey: string; site: WrittenSite } | undefined;
  /** A resident builder's listing of output/ taken while idle, and its pending timer (see IDLE_LISTING_DELAY_MS). */
  let listed: { existing: OutputPathMap<true>; stamps: string } | undefined;
  let listing: NodeJS.Timeout | undefined;
  const outputListing = (): OutputPathMap<true> => {
    const idle = listed;
    listed = undefined;
    return idle !== undefined && folderStamps(outputDir).key === idle.stamps ? idle.existing : listOutputs(outputDir);
  };
  const compile = async (): Promise<{ sources: SiteTemplateSources; templates: SiteTemplates; buildKey: string }> => {
    // Started first, so the program's files are read while the templates are.
    program ??= programFingerprint();
    const sources = await readSiteTemplates(templatesDir);
    const text = JSON.stringify(sources);
    if (compiled?.text !== text) {
      compiled = { text, sources, templates: compileSiteTemplates(sources, shownTemplates), buildKey: buildKeyOf(config, sources, await program) };
    }
    return compiled;
  };
  /** The last build's manifest: the one this builder wrote if the file is still that one, else read from the file. */
  const previousManifest = async (): Promise<BuildManifest | undefined> => {
    const mine = kept;
    kept = undefined;
    if (mine !== undefined && fileStamp(manifestFile) === mine.stamp) return mine.manifest;
    return parseManifest(await readOptional(manifestFile));
  };
  return {
    async build(buildOptions = {}) {
      // No listing of output/ from now on but this build's own (see outputListing).
      clearTimeout(listing);
      // A build makes much short-lived garbage (pages, feeds) over a small live heap; by default V8 lets
      // the old generation grow to several times what is live before collecting it, which made a build's
      // peak memory half garbage and grow with the number of articles. Collecting at 1.2 times keeps the
      // peak near what is live (a third less at 10,000 articles, for the same CPU time). Not so for a
      // resident builder: there it would collect the whole heap on every rebuild (a third of its time).
      if (cacheMemory === undefined) {
        setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
        // The build's two threads (this one and a parsing or rendering helper) hold both cores of a
        // two-core machine: V8's helper threads for young-generation collections then only take turns
        // with them (a 10,000-article build 2-3 % faster without, eight alternating pairs).
        if (availableParallelism() <= 2) setFlagsFromString('--no-parallel-scavenge');
      }
      written = undefined;
      const [{ sources, templates, buildKey }, previous, pendingText] = await Promise.all([compile(), previousManifest(), readOptional(path.join(outputDir, PENDING_PATH))]);
      const existing = outputListing();
      // A run that already loaded the content passes it in, so it is not read twice. Otherwise unchanged
      // records come from the parse cache in data/ (never published), keyed like the build itself, and
      // the others, once parsed, wait in a spool there until their pages are rendered.
      const spool = buildOptions.articles === undefined ? await openSpool(config.paths.data) : undefined;
      // A build that renders everything (the first, or after a template or program change) renders far
      // more than a helper thread costs: it starts now, so it loads its modules and compiles the
      // templates while the records are loaded, not after.
      const everything = previous === undefined || previous.buildKey !== buildKey;
      const ahead = spool !== undefined && cacheMemory === undefined && everything && manyRecords(config.paths.content);
      let helper = ahead ? startRenderHelper(renderHelperData(config, sources, shownTemplates)) : undefined;
      try {
        const loaded =
          buildOptions.articles?.map(indexArticle) ??
          (await loadArticleIndex({
            dir: config.paths.content,
            topics: config.topics,
            timeZone: config.timeZone,
            maxRecordBytes: config.content.maxRecordBytes,
            cache: { file: cacheFile, key: buildKey, ...(cacheMemory === undefined ? {} : { memory: cacheMemory }) },
            ...(spool === undefined ? {} : { spool }),
            ...(statter === undefined ? {} : { statter }),
          }));
        const site = await writeSite(config, {
          articles: loaded,
          until: buildOptions.until,
          templates: { sources, compiled: templates, folderName: shownTemplates },
          buildKey,
          previous: withoutPending(previous, pendingText),
          pendingText,
          existing,
          spool,
          helper,
        });
        helper = undefined;
        // A resident caller reports the build once its files are in place, then records it (afterBuild).
        if (options.resident === true) written = { buildKey, site };
        else await site.recordManifest();
        return site.summary;
      } finally {
        try {
          // A helper writeSite did not take (the load failed): ended before the spool it would read is closed.
          await helper?.close();
        } finally {
          spool?.close();
        }
      }
    },
    async afterBuild() {
      const done = written;
      written = undefined;
      if (done !== undefined) {
        const bytes = await done.site.recordManifest();
        // Stamped at once, and only as the file just written (a regular file of its size): anything
        // put there since is another's, and is read from the file.
        const stamp = fileStamp(manifestFile, bytes);
        if (stamp !== undefined) kept = { stamp, manifest: { version: 2, buildKey: done.buildKey, outputs: done.site.manifest.keys() } };
      }
      if (cacheMemory !== undefined) {
        saveArticleCache(cacheMemory, cacheFile);
        forgetParsedArticles(cacheMemory);
        listing = setTimeout(() => {
          try {
            listed = idleListing(outputDir);
          } catch {
            // An output folder that cannot be listed now: the next build lists it and says so.
          }
        }, IDLE_LISTING_DELAY_MS);
        listing.unref();
      }
    },
    close() {
      clearTimeout(listing);
      statter?.close();
    },
  };
}

/**
 * Builds the site into output/: article pages, feeds and their archive, home page and archive pages,
 * style sheet. Only what changed since the last build is rendered (see planSiteBuild), and only the
 * records that changed are read (see loadArticleIndex). Used by `briefing build` and by `briefing run`.
 */
export function buildSite(config: Config, options: BuildOptions = {}): Promise<BuildSummary> {
  return createSiteBuilder(config).build(options);
}

/** Whether the content folder holds enough names for its full build to share the rendering (a small site starts no helper ahead). */
function manyRecords(folder: string): boolean {
  try {
    return readdirSync(folder).length >= SHARED_RENDER_FROM;
  } catch {
    // The load says what is wrong with the folder.
    return false;
  }
}

/** What a rendering helper thread is started with: the site's facts and the templates' sources. */
function renderHelperData(config: Config, sources: SiteTemplateSources, folderName: string): RenderHelperData {
  const { title, description, siteUrl, language, direction, timeZone, topics, author, feed } = config;
  return { site: { title, description, siteUrl, language, direction, timeZone, topics, author, feed }, sources, folderName, outputDir: config.paths.output };
}

/** A spool in the data folder; none (the articles stay in memory) where that folder cannot be written. */
async function openSpool(folder: string): Promise<ArticleSpool | undefined> {
  try {
    await mkdir(folder, { recursive: true });
    return openArticleSpool(folder);
  } catch {
    return undefined;
  }
}

/** The pending list, once the manifest it guarded is in place; a failure to remove it only makes the next build render those files again. */
function removePending(outputDir: string): void {
  try {
    rmSync(path.join(outputDir, PENDING_PATH), { force: true });
  } catch {
    // See above.
  }
}

/**
 * A site whose files are written: what it did, its manifest, and the step that puts the manifest in
 * place and removes the pending list (until then the next build renders the pending files again).
 */
interface WrittenSite {
  summary: BuildSummary;
  manifest: PlannedManifest;
  /** Puts the manifest in place; gives its size in bytes. */
  recordManifest(): Promise<number>;
}

/** Renders and writes what the plan says is out of date, the manifest around it, and the editions' index. */
async function writeSite(
  config: Config,
  input: {
    articles: ReadonlyArray<IndexedArticle<SiteArticle>>;
    until: Date | undefined;
    templates: { sources: SiteTemplateSources; compiled: SiteTemplates; folderName: string };
    buildKey: string;
    previous: BuildManifest | undefined;
    pendingText: string | undefined;
    existing: OutputPathMap<true>;
    /** Where the articles wait, if they do: a helper thread reads them there. */
    spool: ArticleSpool | undefined;
    /** A rendering helper started ahead, if one was: writeSite shares the rendering with it or ends it. */
    helper: RenderHelper | undefined;
  },
): Promise<WrittenSite> {
  const outputDir = config.paths.output;
  const { until, buildKey, previous, pendingText, existing } = input;
  const templates = input.templates.compiled;
  const articles = until === undefined ? input.articles : input.articles.filter((article) => article.published <= until);
  const plan = planSiteBuild({ articles, site: config, templates, buildKey, previous, existing });

  const summary: BuildSummary = {
    outputDir,
    articles: articles.length,
    rendered: plan.rendered,
    reused: plan.reused,
    written: 0,
    unchanged: 0,
    renderedByHelper: 0,
    removed: 0,
  };
  // After a build that changed files the manifest is written without comparing (that would read the
  // old one whole, megabytes for a large site); one that changed nothing leaves it untouched if the same.
  const changing = plan.rendered > 0 || plan.stale.length > 0;
  // What this build renders is listed before any of it is written (see PENDING_PATH).
  if (changing) await writeOutputFiles(outputDir, new Map([[PENDING_PATH, serializePending(plan.pending())]]), { absent: () => true });
  // Many files to render: a helper thread renders them beside this one, reading the spooled articles.
  const table = plan.rendered >= SHARED_RENDER_FROM ? input.spool?.table(articles) : undefined;
  const share =
    table === undefined
      ? undefined
      : (input.helper ?? startRenderHelper(renderHelperData(config, input.templates.sources, input.templates.folderName)))?.share({ table, buildKey, previous, existing, batches: plan.batches.length });
  // Few files to render: a helper started ahead goes unused.
  if (table === undefined) await input.helper?.close();
  const count = (counts: WrittenCounts): void => {
    summary.written += counts.written;
    summary.unchanged += counts.unchanged;
  };
  try {
    for (const [number, batch] of plan.batches.entries()) {
      // A file not there when the build began need not be read to see whether it changed.
      count(await writeRenderJobs(outputDir, batch, { absent: (relative) => !existing.has(relative), claim: share?.claim(number) }));
      if (share !== undefined) {
        const helped = share.finish(number);
        count(helped);
        summary.renderedByHelper += helped.written + helped.unchanged;
      }
    }
  } catch (error) {
    // This error is the one reported, not a helper too slow to stop after it.
    await share?.close().catch(() => undefined);
    throw error;
  }
  await share?.close();
  summary.removed = await removeOutputFiles(outputDir, plan.stale);
  // The home page links the editions' index: it exists (maybe empty) from the first build.
  await publishEditions(config, { templates });
  const recordManifest = async (): Promise<number> => {
    const bytes = serializeManifest(plan.manifest);
    await writeOutputFiles(outputDir, new Map([[MANIFEST_PATH, bytes]]), { absent: () => changing });
    if (changing || pendingText !== undefined) removePending(outputDir);
    return bytes.length;
  };
  return { summary, manifest: plan.manifest, recordManifest };
}

