import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPublication, REPOSITORY, type TestPublication } from './support.js';

const CLI = path.join(REPOSITORY, 'dist/cli/main.js');
let publication: TestPublication | undefined;

afterEach(() => {
  publication?.cleanup();
  publication = undefined;
});

/** Runs `briefing serve` with only PATH and `env`; resolves with its exit code and output (or kills it after 10 s). */
function serve(configFile: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--port', '0'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('briefing serve without BRIEFING_SECRET (links signed with the public development key)', () => {
  it('refuses to start: exit 1, one line naming the variable and how to make one', async () => {
    publication = createPublication();
    const result = await serve(publication.configFile, {});
    expect(result.code).toBe(1);
    expect(result.stdout).not.toMatch(/listening/);
    expect(result.stderr).toBe(
      'config: BRIEFING_SECRET is not set: `briefing serve` would sign links with the public development key; set it to a random value, e.g. BRIEFING_SECRET="$(openssl rand -base64 32)"\n',
    );
  });

  it('refuses a BRIEFING_SECRET_PREVIOUS too short to be a secret', async () => {
    publication = createPublication();
    const result = await serve(publication.configFile, { BRIEFING_SECRET: 'a-long-enough-secret-0123', BRIEFING_SECRET_PREVIOUS: 'short' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('config: BRIEFING_SECRET_PREVIOUS must be at least 16 characters long\n');
  });
});
