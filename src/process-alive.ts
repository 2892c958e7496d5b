import { readFileSync } from 'node:fs';

/** Whether process `pid` of this host is running (one that has ended but is not yet reaped is not). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !zombie(pid);
}

/**
 * Whether the process has ended and waits only for its parent to reap it (a shell or supervisor
 * that has not looked yet): killed a moment ago, it holds nothing and writes nothing any more. Read
 * from /proc; elsewhere, kill's answer stands.
 */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The state follows the command name, which is in parentheses and may hold any character.
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}
