/**
 * Whether a file's or folder's last change (its mtime and ctime, in milliseconds) lay a step of its
 * file system's clock before `seenAt`. A file system keeps times in steps (nanoseconds on most, whole
 * seconds on some, two on FAT), so a change within the step of the last one may leave the times as
 * they were; once the last change lay a step before it was seen, any later change gets a later time.
 * Until then what was seen cannot vouch for itself, as with git's "racily clean" files. Whole-second
 * times are taken for a coarse file system. Like git, this trusts the file system's clock (a network
 * share's) to agree with this machine's within the step.
 */
export function settledBefore(times: { mtimeMs: number; ctimeMs: number }, seenAt: number): boolean {
  const coarse = times.mtimeMs % 1000 === 0 && times.ctimeMs % 1000 === 0;
  const step = coarse ? 3000 : 100;
  return Math.max(times.mtimeMs, times.ctimeMs) < seenAt - step;
}
