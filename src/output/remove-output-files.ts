import { rm } from 'node:fs/promises';
import path from 'node:path';
import { BriefingError } from '../errors.js';

/**
 * Deletes files an earlier build wrote and this one no longer makes (paths relative to `outputDir`,
 * taken from the build manifest, so nothing else in output/ is ever touched). Returns how many went.
 */
export async function removeOutputFiles(outputDir: string, relativePaths: readonly string[]): Promise<number> {
  const root = path.resolve(outputDir);
  let removed = 0;
  for (const relative of relativePaths) {
    const target = path.resolve(root, relative);
    if (!target.startsWith(`${root}${path.sep}`)) {
      throw new BriefingError('output', 'unsafe-path', `refusing to remove ${JSON.stringify(relative)}: it is outside the output folder`);
    }
    try {
      await rm(target);
      removed += 1;
    } catch (error) {
      // Gone already (deleted by hand, or listed by a stopped build that never wrote it): nothing to remove.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new BriefingError('output', 'remove-failed', `cannot remove ${path.relative(process.cwd(), target)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        cause: error,
      });
    }
  }
  return removed;
}
