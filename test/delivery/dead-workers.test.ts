/**
 * Which senders of this host are gone, so a resume takes over their rows at once: one that exited,
 * and one killed a moment ago that its parent has not reaped yet (a zombie); not one still running.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { deadWorkersOnThisHost } from '../../src/delivery/send-edition.js';

const worker = (pid: number): string => `${hostname()}:${pid}:0a1b2c3d`;

describe('deadWorkersOnThisHost', () => {
  it('counts an ended process as gone even before its parent reaps it, and a running one as alive', async () => {
    // The shell starts a short child, prints its pid, then becomes `sleep`, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombiePid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))));
      await new Promise((resolve) => setTimeout(resolve, 600));
      // It still answers kill(pid, 0): only its state says it has ended.
      expect(() => process.kill(zombiePid, 0)).not.toThrow();
      expect(deadWorkersOnThisHost([worker(zombiePid), worker(parent.pid!), worker(process.pid), `elsewhere:${zombiePid}:0a1b2c3d`])).toEqual([worker(zombiePid)]);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
