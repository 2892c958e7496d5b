import type { RenderJob } from './plan-site-build.js';
import { writeOutputFiles } from './write-output-files.js';

/**
 * Rendered outputs are written once they add up to this many bytes (or this many files): a
 * few hundred article pages, a few dozen feed pages, so memory stays flat and the disk stays busy.
 */
const BYTES_PER_WRITE = 2_000_000;
const FILES_PER_WRITE = 200;

/** Of the files rendered, those whose bytes changed on disk and those that came out the same. */
export interface WrittenCounts {
  written: number;
  unchanged: number;
}

/**
 * Renders jobs and writes their files, a slice at a time: memory stays flat however many pages there
 * are. `claim` gives the index of the next job this thread renders, ever larger (past the last job
 * when none is left): two threads that claim from one shared counter share the jobs. Without it
 * every job is rendered here. `absent` names files known not to exist when the build began.
 */
export async function writeRenderJobs(
  outputDir: string,
  jobs: Iterable<RenderJob>,
  options: { absent: (relative: string) => boolean; claim?: () => number },
): Promise<WrittenCounts> {
  let sequence = 0;
  const claim = options.claim ?? (() => sequence++);
  const counts: WrittenCounts = { written: 0, unchanged: 0 };
  let files = new Map<string, Uint8Array>();
  /** Bytes rendered and not yet written. */
  let pending = 0;
  const write = async (): Promise<void> => {
    const result = await writeOutputFiles(outputDir, files, { absent: options.absent });
    counts.written += result.written.length;
    counts.unchanged += result.unchanged.length;
    files = new Map();
    pending = 0;
  };
  let wanted = claim();
  let index = 0;
  for (const job of jobs) {
    index += 1;
    if (index - 1 !== wanted) continue;
    for (const [relative, text] of job.render()) {
      // Encoded at once: the page's string then dies young instead of being copied by every young
      // collection until its slice is written (the bytes are made anyway, before writing).
      const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
      files.set(relative, bytes);
      pending += bytes.length;
    }
    if (pending >= BYTES_PER_WRITE || files.size >= FILES_PER_WRITE) await write();
    wanted = claim();
  }
  if (files.size > 0) await write();
  return counts;
}
