import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { isRecordName } from '../content/load-articles.js';
import { BriefingError, isBriefingError } from '../errors.js';
import { createSiteBuilder, type BuildSummary } from './build-site.js';

/** One build of a watch: what it did, or the operating error (bad record, unwritable output) that stopped it. */
export type WatchBuild = { summary: BuildSummary; ms: number } | { error: BriefingError; ms: number };

export interface WatchOptions {
  until?: Date | undefined;
  /** Ends the watch once the build in flight, if any, is done. */
  signal: AbortSignal;
  /** Called after every build, the first one (at the start) included. */
  onBuild(build: WatchBuild): void;
  /** Called after the first build; the folders were watched from before it. */
  onWatching?(folders: string[]): void;
}

/**
 * Changes that arrive this close together make one build: an editor's save is often several events
 * (write, rename, attribute change), and a checkout of many records is a burst of them.
 */
const SETTLE_MS = 10;

/**
 * `briefing build --watch`: builds the site, then builds it again whenever a record or a template
 * changes, in the same process, so each build after the first does only what the change needs (see
 * createSiteBuilder). One build at a time; changes during a build make one more after it. A build
 * that fails on an operating condition (a record with problems, an unwritable output) is reported
 * and the watch goes on, so fixing the record brings the next build; any other error ends the watch.
 */
export async function watchSite(config: Config, options: WatchOptions): Promise<void> {
  const builder = createSiteBuilder(config, { resident: true });
  const build = async (): Promise<void> => {
    const started = performance.now();
    try {
      const summary = await builder.build({ until: options.until });
      options.onBuild({ summary, ms: performance.now() - started });
    } catch (error) {
      if (!isBriefingError(error)) throw error;
      options.onBuild({ error: error as BriefingError, ms: performance.now() - started });
    }
    // Reported first: the next build needs this, the one just reported does not.
    await builder.afterBuild();
  };
  const folders = [config.paths.content, config.paths.templates];
  const watchers: FSWatcher[] = [];
  let changed = false;
  let wake: (() => void) | undefined;
  let failure: BriefingError | undefined;
  const notify = (folder: string) => (_event: string, name: string | Buffer | null): void => {
    // In the content folder only a record's change counts: not an editor's swap or backup file
    // (`.story.md.swp`, `story.md~`), which the build does not read. A change without a name counts.
    if (folder === config.paths.content && typeof name === 'string' && !isRecordName(name)) return;
    changed = true;
    wake?.();
  };
  const stop = (): void => wake?.();
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    for (const folder of folders) {
      const shown = path.relative(process.cwd(), folder) || folder;
      let watcher: FSWatcher;
      try {
        watcher = watch(folder, { persistent: true }, notify(folder));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new BriefingError('output', 'watch-failed', `cannot watch ${shown}: ${code ?? String(error)}${code === 'ENOSPC' ? ' (the system limit of watched folders, fs.inotify.max_user_watches, is reached)' : ''}`, {
          cause: error,
        });
      }
      watcher.on('error', (error: NodeJS.ErrnoException) => {
        failure ??= new BriefingError('output', 'watch-failed', `stopped watching ${shown}: ${error.code ?? error.message}`, { cause: error });
        wake?.();
      });
      watchers.push(watcher);
    }
    // Watched before the first build, so a change made while it runs brings another.
    await build();
    options.onWatching?.(folders);
    for (;;) {
      if (!changed && failure === undefined && !options.signal.aborted) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      if (failure !== undefined) throw failure;
      if (options.signal.aborted) return;
      // Let the rest of a burst of changes arrive, then build once for all of them.
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      changed = false;
      await build();
    }
  } finally {
    options.signal.removeEventListener('abort', stop);
    for (const watcher of watchers) watcher.close();
  }
}
