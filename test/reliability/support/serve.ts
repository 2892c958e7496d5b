/** `briefing serve --port 0` on a workspace, as a child process, until stopped. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPOSITORY } from '../../support/cli-workspace.js';

export interface Served {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** What the server logged so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts the server with only the given environment (and PATH); resolves once it listens. */
export function startServe(configFile: string, env: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, [path.join(REPOSITORY, 'dist/cli/main.js'), 'serve', '--config', configFile, '--port', '0'], {
    cwd: path.dirname(configFile),
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+\/)/.exec(stdout);
      if (match?.[1]) resolve({ url: match[1], stdout: () => stdout, stderr: () => stderr, stop });
    });
    void exited.then(() => reject(new Error(`serve exited before listening: ${stderr}`)));
  });
}
