import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { reloadConfig, type Config } from '../config.js';
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
 * A change of the configuration file starts the watch again with the file read anew (a file with
 * problems is reported, and the watch goes on with the configuration it had); so does a watched
 * folder replaced by another of its name.
 */
export async function watchSite(initial: Config, options: WatchOptions): Promise<void> {
  let config = initial;
  for (;;) {
    const ended = await watchWith(config, options);
    if (ended === 'stopped') return;
    if (ended === 'restart') continue;
    try {
      config = reloadConfig(config);
    } catch (error) {
      if (!isBriefingError(error)) throw error;
      options.onBuild({ error: error as BriefingError, ms: 0 });
    }
  }
}

/** Watches and builds with one configuration until stopped or until its file changes. */
async function watchWith(config: Config, options: WatchOptions): Promise<'stopped' | 'config-changed' | 'restart'> {
  const builder = createSiteBuilder(config, { resident: true });
  const build = async (): Promise<void> => {
    const started = performance.now();
    const reportFailure = (error: unknown): void => {
      if (!isBriefingError(error)) throw error;
      options.onBuild({ error: error as BriefingError, ms: performance.now() - started });
    };
    try {
      const summary = await builder.build({ until: options.until });
      options.onBuild({ summary, ms: performance.now() - started });
    } catch (error) {
      reportFailure(error);
    }
    // Reported first: the next build needs this, the one just reported does not. Should it fail (a
    // manifest that cannot be written), the next build renders the pending files again.
    await builder.afterBuild().catch(reportFailure);
  };
  const configFile = config.configFile;
  // The configuration's folder too, not its file: an editor that saves by renaming replaces the file.
  const watched = [
    { folder: config.paths.content, role: 'content' },
    { folder: config.paths.templates, role: 'templates' },
    { folder: path.dirname(configFile), role: 'config' },
  ] as const;
  const watchers: FSWatcher[] = [];
  let changed = false;
  /** Why this watch must end for another to start, once the burst of changes has settled. */
  let ending: 'config-changed' | 'restart' | undefined;
  let wake: (() => void) | undefined;
  let failure: BriefingError | undefined;
  /** What a change in one watched folder means: a record's, a template's, or the configuration's. */
  const notify = ({ folder, role }: (typeof watched)[number]) => (_event: string, name: string | Buffer | null): void => {
    const named = typeof name === 'string' ? name : undefined;
    if (role === 'config') {
      if (named !== undefined && named !== path.basename(configFile)) return;
      ending = 'config-changed';
    } else if (named === path.basename(folder)) {
      // The watched folder itself renamed or removed (a checkout or a sync that swaps the whole
      // folder): its watch now follows the old one, so the watch starts again on the path.
      ending ??= 'restart';
    } else {
      // In the content folder only a record's change counts: not an editor's swap or backup file
      // (`.story.md.swp`, `story.md~`), which the build does not read. A change without a name counts.
      if (role === 'content' && named !== undefined && !isRecordName(named)) return;
      changed = true;
    }
    wake?.();
  };
  const stop = (): void => wake?.();
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    for (const entry of watched) {
      const shown = path.relative(process.cwd(), entry.folder) || entry.folder;
      let watcher: FSWatcher;
      try {
        watcher = watch(entry.folder, { persistent: true }, notify(entry));
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
    options.onWatching?.([config.paths.content, config.paths.templates]);
    for (;;) {
      if (!changed && ending === undefined && failure === undefined && !options.signal.aborted) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      if (failure !== undefined) throw failure;
      if (options.signal.aborted) return 'stopped';
      // Let the rest of a burst of changes arrive, then build once for all of them.
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      if (options.signal.aborted) return 'stopped';
      if (ending !== undefined) return ending;
      changed = false;
      await build();
    }
  } finally {
    options.signal.removeEventListener('abort', stop);
    for (const watcher of watchers) watcher.close();
    builder.close();
  }
}
