import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

/** The median of some numbers (the middle one, or the mean of the two middle ones). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Milliseconds `work` takes. */
export async function timed<T>(work: () => Promise<T> | T): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await work();
  return { ms: performance.now() - start, result };
}

/** How a child process ended, what it printed, and (when asked) its peak resident memory. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak resident set size in kilobytes (VmHWM), when measured. */
  peakRssKb?: number;
}

const TIME_COMMAND = '/usr/bin/time';

/**
 * Runs a command to its end. With `measureMemory`, its peak resident set size comes from GNU time
 * (`/usr/bin/time -f %M`, exact) when installed, else from polling /proc/PID/status VmHWM.
 * `onStart` gets the child as soon as it is spawned (to watch its output or stop it).
 */
export function runChild(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { measureMemory?: boolean; onStart?: (child: ChildProcess) => void } = {},
): Promise<ChildResult> {
  const { measureMemory = false, onStart, ...spawnOptions } = options;
  const useTime = measureMemory && existsSync(TIME_COMMAND);
  const timeFile = useTime ? path.join(String(spawnOptions.cwd ?? process.cwd()), `.bench-time-${process.pid}-${Date.now()}`) : undefined;
  const [file, argv] = timeFile === undefined ? [command, [...args]] : [TIME_COMMAND, ['-f', '%M', '-o', timeFile, command, ...args]];
  const start = performance.now();
  // Its own process group, so that stopping it also stops what it started (GNU time's command).
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...spawnOptions });
  // A bench stopped early (Ctrl-C, SIGTERM) leaves no child running.
  const killOnExit = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  process.on('exit', killOnExit);
  onStart?.(child);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  let polledKb = 0;
  const poll =
    measureMemory && !useTime
      ? setInterval(() => {
          try {
            const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (match) polledKb = Math.max(polledKb, Number(match[1]));
          } catch {
            // The process is gone; the last reading stands.
          }
        }, 20)
      : undefined;
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      process.off('exit', killOnExit);
      if (poll) clearInterval(poll);
      reject(error);
    });
    child.once('close', (code, signal) => {
      const ms = performance.now() - start;
      process.off('exit', killOnExit);
      if (poll) clearInterval(poll);
      let peakRssKb: number | undefined = measureMemory ? polledKb : undefined;
      if (timeFile !== undefined) {
        try {
          // GNU time writes "Command exited with non-zero status N" first when the command fails.
          const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
          peakRssKb = Number(lines.at(-1));
        } catch {
          peakRssKb = undefined;
        }
        rmSync(timeFile, { force: true });
      }
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        ms,
        ...(peakRssKb === undefined ? {} : { peakRssKb }),
      });
    });
  });
}

/** Throws with the command's own words when it did not exit 0, so a figure says why it failed. */
export function expectSuccess(what: string, result: ChildResult): ChildResult {
  if (result.code !== 0) {
    const said = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' | ');
    throw new Error(`${what} exited with ${result.code ?? result.signal}: ${said.slice(0, 400)}`);
  }
  return result;
}
