import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { REPOSITORY, cleanEnvironment } from './bench-publication.js';
import { expectSuccess, runChild } from './measure.js';

/** What one run of a command cost: wall time, CPU time in the process and in the kernel, peak resident memory. */
export interface RunCost {
  ms: number;
  userSeconds: number;
  systemSeconds: number;
  peakRssKb: number;
}

const TIME_COMMAND = '/usr/bin/time';

/**
 * Runs a command to its end under GNU time, which reports its user and system CPU and its peak
 * resident set size (of the command alone: GNU time waits for it and reads its rusage). Throws with
 * the command's own words when it fails.
 */
export async function runWithCosts(what: string, command: string, args: readonly string[], cwd: string): Promise<RunCost> {
  if (!existsSync(TIME_COMMAND)) throw new Error(`${TIME_COMMAND} (GNU time, Debian package "time") is needed to measure CPU and memory`);
  const report = path.join(cwd, `.bench-costs-${process.pid}-${Date.now()}`);
  try {
    const result = expectSuccess(what, await runChild(TIME_COMMAND, ['-f', '%U %S %M', '-o', report, command, ...args], { cwd, env: cleanEnvironment() }));
    const [user, system, rss] = (readFileSync(report, 'utf8').trim().split('\n').at(-1) ?? '').split(' ').map(Number);
    if (![user, system, rss].every((value) => Number.isFinite(value))) throw new Error(`${what}: GNU time reported nothing readable`);
    return { ms: result.ms, userSeconds: user as number, systemSeconds: system as number, peakRssKb: rss as number };
  } finally {
    rmSync(report, { force: true });
  }
}

/** The Eleventy site of bench/eleventy/ and Eleventy's command line, as installed by `npm install` (devDependencies). */
const ELEVENTY_CONFIG = path.join(REPOSITORY, 'bench', 'eleventy', 'eleventy.config.js');
const ELEVENTY_CLI = path.join(REPOSITORY, 'node_modules', '@11ty', 'eleventy', 'cmd.cjs');

/**
 * Builds the peer site: Eleventy 3 over the records of `contentDir` into `outputDir` (emptied first,
 * so every run is a full build, as Briefing's are), each record a page with a layout, archive pages
 * of 20, a home page and an Atom feed of 20 (see bench/eleventy/eleventy.config.js).
 */
export async function buildWithEleventy(contentDir: string, outputDir: string): Promise<RunCost> {
  if (!existsSync(ELEVENTY_CLI)) throw new Error('@11ty/eleventy is not installed: run npm install (it is a devDependency)');
  rmSync(outputDir, { recursive: true, force: true });
  const args = [ELEVENTY_CLI, `--config=${ELEVENTY_CONFIG}`, `--input=${contentDir}`, `--output=${outputDir}`, '--quiet'];
  return runWithCosts('eleventy', process.execPath, args, REPOSITORY);
}
