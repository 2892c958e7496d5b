import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { BriefingError } from '../errors.js';
import { renderEditionFeeds } from '../feed/editions-feed.js';
import { parsePublishedEdition, serializePublishedEdition, type PublishedEdition } from './published-edition.js';
import { createSitePages } from './site-pages.js';
import { EDITIONS_FOLDER, EDITIONS_INDEX_PATH, editionRecordPath } from './site-paths.js';
import { compileSiteTemplates, readSiteTemplates, type SiteTemplates } from './site-templates.js';
import { writeOutputFiles } from './write-output-files.js';

/** The publication facts the editions' index and feeds show. */
export type EditionsSite = Pick<Config, 'title' | 'description' | 'siteUrl' | 'language' | 'direction' | 'timeZone' | 'author' | 'topics' | 'feed' | 'paths'>;

/** The records of the sent editions under output/editions/, in folder order. */
async function readPublishedEditions(outputDir: string): Promise<PublishedEdition[]> {
  let folders;
  try {
    folders = await readdir(path.join(outputDir, EDITIONS_FOLDER), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BriefingError('output', 'output-unreadable', `cannot list ${path.join(outputDir, EDITIONS_FOLDER)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  const records = await Promise.all(
    folders
      .filter((entry) => entry.isDirectory())
      .map(async (entry) => {
        const file = path.join(outputDir, editionRecordPath(entry.name));
        // A folder without a record is a preview's web version: not a sent edition.
        const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
        return text === undefined ? undefined : parsePublishedEdition(text, path.relative(process.cwd(), file) || file);
      }),
  );
  return records.filter((record) => record !== undefined);
}

/**
 * Writes `editions/index.html` and the editions feeds from the records of the sent editions, adding
 * `edition`'s record first when given (a run that has just written its web version). Byte-stable:
 * files that come out the same are left alone.
 */
export async function publishEditions(site: EditionsSite, options: { edition?: PublishedEdition; templates?: SiteTemplates } = {}): Promise<void> {
  const outputDir = site.paths.output;
  if (options.edition !== undefined) {
    await writeOutputFiles(outputDir, new Map([[editionRecordPath(options.edition.id), serializePublishedEdition(options.edition)]]));
  }
  const templates = options.templates ?? compileSiteTemplates(await readSiteTemplates(site.paths.templates));
  const editions = await readPublishedEditions(outputDir);
  const files = new Map<string, string | Uint8Array>([[EDITIONS_INDEX_PATH, createSitePages(site, templates).editionsPage(editions)], ...renderEditionFeeds(editions, site)]);
  await writeOutputFiles(outputDir, files);
}
