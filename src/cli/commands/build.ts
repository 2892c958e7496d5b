import path from 'node:path';
import { DateTime } from 'luxon';
import type { Config } from '../../config.js';
import { BriefingError } from '../../errors.js';
import { buildSite, type BuildSummary } from '../../run/build-site.js';
import type { CliContext } from '../context.js';

interface BuildOptions {
  date?: string;
  watch?: boolean;
  json?: boolean;
}

/** The end of edition day `date` in the publication's zone: articles after it are left out. */
function endOfDay(date: string, config: Config): Date {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(date) ? DateTime.fromISO(date, { zone: config.timeZone }) : undefined;
  if (!day?.isValid) {
    throw new BriefingError('cli', 'invalid-date', `--date must be a date such as 2025-07-23, not "${date}"`, { exitCode: 2 });
  }
  return day.endOf('day').toJSDate();
}

/**
 * `briefing build [--date D] [--watch] [--json]`: writes the feeds, archive and pages and prints what
 * it did; with --watch, again after every change until stopped, a line per build (a failed build's
 * error on stderr, or as a JSON line with --json, and the watch goes on).
 */
export default async function build(context: CliContext, options: BuildOptions): Promise<number> {
  const config = context.config();
  const until = options.date === undefined ? undefined : endOfDay(options.date, config);
  if (options.watch !== true) {
    const summary = await buildSite(config, { until });
    context.print(options.json ? JSON.stringify(summary) : formatBuildSummary(summary));
    return 0;
  }
  const { watchSite } = await import('../../run/watch-site.js');
  const shown = (folder: string): string => `${path.relative(process.cwd(), folder) || '.'}/`;
  await watchSite(config, {
    until,
    signal: context.stopSignal,
    onBuild(result) {
      const ms = Math.round(result.ms);
      if ('error' in result) {
        if (options.json) context.print(JSON.stringify({ error: result.error.message, ms }));
        else if (result.error.stage === 'config') context.printError(`${result.error.message}\n(not read again; watching with the configuration before it)`);
        else context.printError(`${result.error.message}\n(the build failed after ${ms} ms; watching for the fix)`);
      } else {
        context.print(options.json ? JSON.stringify({ ...result.summary, ms }) : `${formatBuildSummary(result.summary)} (${ms} ms)`);
      }
    },
    onWatching(folders) {
      const configFile = path.relative(process.cwd(), config.configFile) || config.configFile;
      if (!options.json) context.print(`Watching ${folders.map(shown).join(', ')} and ${configFile} for changes (Ctrl-C stops)`);
    },
  });
  return 0;
}

/** The line `build` and `run` print for a site build, in one wording. */
export function formatBuildSummary(summary: BuildSummary): string {
  const where = path.relative(process.cwd(), summary.outputDir) || '.';
  return (
    `Built ${summary.articles} article${summary.articles === 1 ? '' : 's'} into ${where}/: ` +
    `${summary.written} file${summary.written === 1 ? '' : 's'} written, ${summary.unchanged} unchanged, ` +
    `${summary.reused} up to date, ${summary.removed} removed`
  );
}
