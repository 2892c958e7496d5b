import type { RenderJob } from './plan-site-build.js';
import { writeOutputFiles } from './write-output-files.js';

/**
 * Rendered outputs are written once they add up to this many characters (or this many files): a
 * few hundred article pages, a few dozen feed pages, so memory stays flat and the disk stays busy.
 */
const CHARACTERS_PER_WRITE = 2_000_000;
const FILES_PER_WRITE = 200;

/** What rendering a batch's jobs did: files rendered, and of them those written and those found unchanged. */
export interface BatchResult {
  rendered: number;
  written: number;
  unchanged: number;
}

/** Takes each job in turn: for a batch this thread renders alone. */
export function everyJob(): () => number {
  let next = 0;
  return () => next++;
}

/**
 * Renders the jobs of one batch that `take` gives this thread (indexes into the batch, rising; past
 * its end when none is left) and writes them into `outputDir` a slice at a time: render, write, let
 * go, so memory stays flat however many pages there are. `absent` names files known not to exist,
 * which need not be read to see whether they changed.
 */
export async function renderBatch(jobs: Iterable<RenderJob>, outputDir: string, absent: (relative: string) => boolean, take: () => number): Promise<BatchResult> {
  const result: BatchResult = { rendered: 0, written: 0, unchanged: 0 };
  let files = new Map<string, string>();
  let characters = 0;
  const write = async (): Promise<void> => {
    const written = await writeOutputFiles(outputDir, files, { absent });
    result.written += written.written.length;
    result.unchanged += written.unchanged.length;
    files = new Map();
    characters = 0;
  };
  let index = 0;
  let taken = take();
  for (const job of jobs) {
    if (index++ !== taken) continue;
    taken = take();
    for (const [relative, text] of job.render()) {
      files.set(relative, text);
      characters += text.length;
      result.rendered += 1;
    }
    if (characters >= CHARACTERS_PER_WRITE || files.size >= FILES_PER_WRITE) await write();
  }
  if (files.size > 0) await write();
  return result;
}
