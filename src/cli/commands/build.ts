import path from 'node:path';
import { DateTime } from 'luxon';
import type { Config } from '../../config.js';
import { BriefingError } from '../../errors.js';
import { buildSite, type BuildSummary } from '../../run/build-site.js';
import type { CliContext } from '../context.js';

interface BuildOptions {
  date?: string;
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

/** `briefing build [--date D] [--json]`: writes the feeds, archive and pages and prints what it did. */
export default async function build(context: CliContext, options: BuildOptions): Promise<number> {
  const config = context.config();
  const summary = await buildSite(config, options.date === undefined ? {} : { until: endOfDay(options.date, config) });
  if (options.json) {
    context.print(JSON.stringify(summary));
  } else {
    context.print(formatBuildSummary(summary));
  }
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
