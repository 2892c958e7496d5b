/**
 * Small tmpfs mounts for disk faults: a full disk is a tmpfs too small for the next build, a
 * read-only output/ is a tmpfs remounted read-only. Needs root with mount rights (the CI container
 * has them); `canMount` says whether this machine allows it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

function mount(args: readonly string[]): { ok: boolean; error: string } {
  const result = spawnSync('mount', args, { encoding: 'utf8' });
  return { ok: result.status === 0, error: `${result.stderr ?? ''}${result.error?.message ?? ''}`.trim() };
}

/**
 * True when this process may mount a tmpfs (tried once, on a throw-away folder). With `CI=true` a
 * machine that cannot is an error, not a skip: CI must run the disk-fault tests.
 */
export const canMount: boolean = (() => {
  const probe = mkdtempSync(path.join(tmpdir(), 'briefing-mount-probe-'));
  try {
    const tried = process.platform === 'linux' && process.getuid?.() === 0 ? mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]) : { ok: false, error: 'not root on Linux' };
    if (tried.ok) spawnSync('umount', [probe]);
    else if (process.env.CI === 'true') throw new Error(`CI=true but this process cannot mount a tmpfs for the disk-fault tests: ${tried.error}`);
    return tried.ok;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

/** A mounted tmpfs and what can be done to it. */
export interface Tmpfs {
  dir: string;
  /** Changes the size limit (`remount,size=`). */
  resize(bytes: number): void;
  readOnly(readOnly: boolean): void;
  unmount(): void;
}

/** Mounts a tmpfs of `bytes` on a new folder under `parent`. */
export function mountTmpfs(parent: string, bytes: number): Tmpfs {
  const dir = path.join(parent, 'disk');
  mkdirSync(dir, { recursive: true });
  const mounted = mount(['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir]);
  if (!mounted.ok) throw new Error(`mount tmpfs on ${dir}: ${mounted.error}`);
  const remount = (options: string): void => {
    const result = mount(['-o', `remount,${options}`, dir]);
    if (!result.ok) throw new Error(`remount ${options} ${dir}: ${result.error}`);
  };
  let mountedNow = true;
  return {
    dir,
    resize: (size) => remount(`size=${size}`),
    readOnly: (readOnly) => remount(readOnly ? 'ro' : 'rw'),
    unmount() {
      if (!mountedNow) return;
      mountedNow = false;
      spawnSync('umount', ['-l', dir]);
    },
  };
}
