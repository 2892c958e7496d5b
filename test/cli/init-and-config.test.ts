/**
 * A new operator's first steps (issue 15 §2): `briefing init` and config errors that name the next
 * step, through the built CLI (dist/, `npx tsc -p .` first) in a temp folder.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPOSITORY } from '../support/cli-workspace.js';
import { withoutPermissionOverride } from '../support/without-permission-override.js';

const MAIN = path.join(REPOSITORY, 'dist/cli/main.js');

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'briefing-init-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function briefing(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BRIEFING_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: dir, env }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('briefing init', () => {
  it('writes a commented config, the templates and an example article that build and send as they are', async () => {
    const init = await briefing('init');
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/^Wrote briefing\.config\.json, content\/example\.md and \d+ templates under templates\//);
    expect(init.stdout).toContain('Next: edit briefing.config.json');
    const config = JSON.parse(readFileSync(path.join(dir, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.$comment).toMatch(/environment/);
    expect(readFileSync(path.join(dir, 'templates', 'briefing.mjml'), 'utf8')).toBe(readFileSync(path.join(REPOSITORY, 'templates', 'briefing.mjml'), 'utf8'));
    expect((await briefing('subscribers', 'add', 'me@example.org')).code).toBe(0);
    const build = await briefing('build');
    expect(build.stderr).toBe('');
    expect(build.stdout).toMatch(/^Built 1 article into output\//);
    const send = await briefing('send', '--date', '2025-01-06');
    expect(send.code).toBe(0);
    expect(send.stdout).toMatch(/^Sent 1, failed 0/m);
  });

  it('refuses to overwrite any existing file, and writes nothing then', async () => {
    writeFileSync(path.join(dir, 'briefing.config.json'), '{}\n');
    const result = await briefing('init', '.');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^cli: briefing\.config\.json exists already: init writes nothing over existing files/);
    expect(readFileSync(path.join(dir, 'briefing.config.json'), 'utf8')).toBe('{}\n');
    expect(existsSync(path.join(dir, 'templates'))).toBe(false);
    expect(existsSync(path.join(dir, 'content'))).toBe(false);
  });

  it('names a file in the way of a folder in one line, not a stack trace, and writes nothing', async () => {
    writeFileSync(path.join(dir, 'notes.md'), '# notes\n');
    mkdirSync(path.join(dir, 'paper'));
    writeFileSync(path.join(dir, 'paper', 'templates'), 'not a folder');
    for (const [target, inTheWay] of [
      ['notes.md', 'notes.md'],
      [path.join('notes.md', 'paper'), 'notes.md'],
      ['paper', path.join('paper', 'templates')],
    ]) {
      const result = await briefing('init', target as string);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`cli: cannot write the new publication into ${target}: ${inTheWay} is a file where a folder is needed; choose an empty folder (\`briefing init DIR\`)\n`);
    }
    expect(readFileSync(path.join(dir, 'notes.md'), 'utf8')).toBe('# notes\n');
    expect(readdirSync(path.join(dir, 'paper'))).toEqual(['templates']);
  });

  it('takes back what it wrote when a folder cannot be written, so it can run again once that is mended', async () => {
    mkdirSync(path.join(dir, 'paper', 'templates'), { recursive: true });
    chmodSync(path.join(dir, 'paper', 'templates'), 0o555);
    const child = withoutPermissionOverride(process.execPath, [MAIN, 'init', 'paper']);
    const result = spawnSync(child.command, child.args, { cwd: dir, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('cli: cannot write the new publication into paper: EACCES; choose an empty folder (`briefing init DIR`)\n');
    expect(readdirSync(path.join(dir, 'paper'))).toEqual(['templates']);
    chmodSync(path.join(dir, 'paper', 'templates'), 0o755);
    expect((await briefing('init', 'paper')).code).toBe(0);
  });

  it('starts a publication in another folder', async () => {
    const result = await briefing('init', 'paper');
    expect(result.code).toBe(0);
    expect(existsSync(path.join(dir, 'paper', 'content', 'example.md'))).toBe(true);
    expect(result.stdout).toContain('npx briefing build --config paper/briefing.config.json');
  });
});

describe('config errors name the next step', () => {
  it('a missing config says to run briefing init', async () => {
    const result = await briefing('status');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('config: cannot read briefing.config.json: ENOENT (no such file): run `npx briefing init` to start a publication here, or name its config with --config FILE\n');
  });

  it('a missing field is "is required", not zod\'s "expected string, received undefined"', async () => {
    await briefing('init');
    const config = JSON.parse(readFileSync(path.join(dir, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
    delete config.title;
    writeFileSync(path.join(dir, 'briefing.config.json'), JSON.stringify(config, null, 2));
    const result = await briefing('build');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^config: briefing\.config\.json:1: title: is required$/m);
    expect(result.stderr).not.toMatch(/received undefined/);
  });

  it.each([
    ['a field of the wrong type', (config: Record<string, unknown>) => Object.assign(config, { title: 5 }), /^config: briefing\.config\.json:\d+: title: must be text$/m],
    ['a flag that is not true or false', (config: Record<string, unknown>) => Object.assign(config.edition as object, { sendWhenEmpty: 'no' }), /^config: briefing\.config\.json:\d+: edition\.sendWhenEmpty: must be true or false$/m],
  ])('%s says what the field must be, not zod\'s "expected …, received …"', async (_name, change, expected) => {
    await briefing('init');
    const config = JSON.parse(readFileSync(path.join(dir, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
    change(config);
    writeFileSync(path.join(dir, 'briefing.config.json'), JSON.stringify(config, null, 2));
    const result = await briefing('status');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(expected);
    expect(result.stderr).not.toMatch(/Invalid input|received/);
  });

  it('a JSON syntax error is called invalid JSON, with its line', async () => {
    writeFileSync(path.join(dir, 'briefing.config.json'), '{\n  "title": "Paper",\n  "language": "en"\n  "timeZone": "UTC"\n}\n');
    const result = await briefing('status');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^config: briefing\.config\.json:\d: invalid JSON: /m);
    expect(result.stderr).not.toMatch(/YAML/);
  });

  it.each([
    ['content', /^content: cannot read the content folder \S+content: ENOENT: create the folder, or point paths\.content in the config at the records$/m],
    ['templates', /^output: cannot read the template templates\/\S+: ENOENT: point paths\.templates in the config at a folder of Briefing templates \(`npx briefing init DIR` writes a set\)$/m],
  ])('a %s folder that is not there names the config field to correct', async (folder, expected) => {
    await briefing('init');
    rmSync(path.join(dir, folder), { recursive: true });
    const result = await briefing('build');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(expected);
  });

  it('a sampleSubscribers file that does not exist is named', async () => {
    await briefing('init');
    const config = JSON.parse(readFileSync(path.join(dir, 'briefing.config.json'), 'utf8')) as Record<string, unknown>;
    config.sampleSubscribers = 'people.csv';
    writeFileSync(path.join(dir, 'briefing.config.json'), JSON.stringify(config, null, 2));
    const result = await briefing('run');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^config: sampleSubscribers: people\.csv does not exist: correct the path in the config, or remove the field/m);
  });
});
