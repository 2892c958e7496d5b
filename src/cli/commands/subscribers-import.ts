import { performance } from 'node:perf_hooks';
import { BriefingError } from '../../errors.js';
import type { SubscriberStatus } from '../../store/store.js';
import { importSubscriberCsv } from '../../subscribers/import-csv.js';
import type { CliContext } from '../context.js';

interface ImportOptions {
  status?: Extract<SubscriberStatus, 'active' | 'pending'>;
  json?: boolean;
}

/** Progress lines at most this often (lines read). */
const PROGRESS_EVERY = 100_000;

/**
 * `briefing subscribers import FILE.csv [--status pending]`: checks every line first and imports
 * nothing when any is bad (exit 1, every problem listed); else writes in chunks of bounded
 * transactions and prints the counts and the rate.
 */
export default async function subscribersImport(context: CliContext, options: ImportOptions, args: string[]): Promise<number> {
  const file = args[0] ?? '';
  const store = await context.openStore();
  let result;
  try {
    let nextProgress = PROGRESS_EVERY;
    result = await importSubscriberCsv(store, file, {
      status: options.status ?? 'active',
      topicIds: context.config().topics.map((topic) => topic.id),
      now: context.clock.now(),
      elapsedSeconds: () => performance.now() / 1000,
      onProgress: (report) => {
        if (report.lines < nextProgress) return;
        nextProgress = report.lines + PROGRESS_EVERY;
        context.logger.info({ file, lines: report.lines, errors: report.errors }, `${file}: ${report.lines} line${report.lines === 1 ? '' : 's'} read`);
      },
    });
  } finally {
    await store.close();
  }
  const summary = {
    file,
    lines: result.lines,
    imported: result.created,
    updated: result.updated,
    unchanged: result.unchanged,
    keptUnsubscribed: result['kept-unsubscribed'],
    errors: result.errors,
    seconds: Number(result.seconds.toFixed(3)),
    rowsPerSecond: result.rowsPerSecond,
  };
  context.print(
    options.json
      ? JSON.stringify(summary)
      : `${file}: ${summary.lines} line${summary.lines === 1 ? '' : 's'} in ${summary.seconds.toFixed(1)} s (${summary.rowsPerSecond} rows/s): ` +
          `imported ${summary.imported}, updated ${summary.updated}, unchanged ${summary.unchanged}, ` +
          `kept-unsubscribed ${summary.keptUnsubscribed}, errors ${summary.errors}`,
  );
  if (result.errors > 0) {
    const unlisted = result.errors > result.problems.length ? ` (the first ${result.problems.length} problems are listed)` : '';
    throw BriefingError.fromProblems(
      'subscribers',
      'import-errors',
      result.problems,
      result.written
        ? `${result.errors} line${result.errors === 1 ? '' : 's'} of ${file} had errors (the file changed while it was imported) and ${result.errors === 1 ? 'was' : 'were'} skipped; the other lines were imported${unlisted}`
        : `${result.errors} line${result.errors === 1 ? '' : 's'} of ${file} had errors, so nothing was imported: fix ${result.errors === 1 ? 'it' : 'them'} and import the file again${unlisted}`,
    );
  }
  return 0;
}
