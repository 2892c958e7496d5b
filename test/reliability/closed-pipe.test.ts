import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, type Workspace } from '../support/cli-workspace.js';
import { SECRET } from './support/publication.js';

/** `briefing … | head`: the reader closes the pipe early; the command must not die of an unhandled EPIPE. */

let workspace: Workspace;

beforeAll(async () => {
  // Enough lines to fill the pipe (64 KB) several times over.
  workspace = await createWorkspace({ subscribers: 3000, names: (n) => `Reader number ${n} with a long enough name` });
});
afterAll(() => workspace.remove());

describe('a reader that closes stdout early', () => {
  it.each([
    ['subscribers export', ['subscribers', 'export']],
    ['subscribers list --json', ['subscribers', 'list', '--json']],
  ])('%s ends without a crash or a stack trace', async (_label, args) => {
    const child = workspace.start(args, { BRIEFING_SECRET: SECRET });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Like `head -c 1`: take the first bytes, then go away.
    child.stdout?.once('data', () => child.stdout?.destroy());
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])));
    expect(stderr).not.toMatch(/EPIPE|Unhandled|unexpected error/);
    expect(signal).toBeNull();
    expect(code, stderr).toBe(0);
  });
});
