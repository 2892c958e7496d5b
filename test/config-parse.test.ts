/**
 * parseConfig reads a plain JSON config without the YAML parser and leaves everything else to it
 * (its lines for problems): both ways must give the same config, and no repeated key may slip through.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig, readEnvironment } from '../src/config.js';
import { BriefingError } from '../src/errors.js';

const FILE = path.resolve('briefing.config.json');
const TEXT = readFileSync(FILE, 'utf8');
const ENV = readEnvironment({ BRIEFING_SECRET: 'config-test-secret-0123456789' });

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, FILE, ENV);
  } catch (error) {
    expect(error).toBeInstanceOf(BriefingError);
    return ((error as BriefingError).problems ?? []).map((problem) => `${problem.line}: ${problem.field ?? ''} ${problem.message}`);
  }
  throw new Error('the config was accepted');
}

/** The 1-based line of the `occurrence`-th line of `text` that contains `needle`. */
function lineOf(text: string, needle: string, occurrence = 1): number {
  let seen = 0;
  const index = text.split('\n').findIndex((line) => line.includes(needle) && (seen += 1) === occurrence);
  return index + 1;
}

describe('parseConfig', () => {
  it('reads plain JSON as the YAML parser reads it', () => {
    // A YAML comment makes the text YAML, not JSON: the same config then comes through the YAML parser.
    expect(parseConfig(TEXT, FILE, ENV)).toEqual(parseConfig(`# the same config, as YAML\n${TEXT}`, FILE, ENV));
  });

  it.each([
    ['at the top', '"title":', '"title": "Another",\n  "title":', '"title"', 2],
    ['in a nested object', '"concurrency":', '"concurrency": 3,\n    "concurrency":', '"concurrency"', 2],
    ['in an object of a list', '"id": "talks"', '"id": "talks", "id": "talks"', '"id": "talks", "id"', 1],
  ])('refuses a key repeated %s, with its line, where JSON.parse would keep the last', (_where, find, replace, needle, occurrence) => {
    const text = TEXT.replace(find, replace);
    expect(text).not.toBe(TEXT);
    expect(problemsOf(text)).toEqual([`${lineOf(text, needle, occurrence)}:  invalid JSON: Map keys must be unique`]);
  });

  it('reads plain JSON without loading the YAML parser, whatever quotes, colons and backslashes its text holds', () => {
    const title = 'A quote": then "colons": and a backslash at the end \\';
    const text = TEXT.replace('"title": "Briefing"', `"title": ${JSON.stringify(title)}`);
    expect(text).toContain('\\\\"');
    // A process of its own (the compiled program), so no other test has loaded the parser before.
    const script = [
      `import { createRequire } from 'node:module';`,
      `import { parseConfig, readEnvironment } from ${JSON.stringify(pathToFileURL(path.resolve('dist/config.js')).href)};`,
      `const config = parseConfig(process.argv[1], ${JSON.stringify(FILE)}, readEnvironment({}));`,
      `const yamlLoaded = Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('/node_modules/yaml/'));`,
      `process.stdout.write(JSON.stringify({ title: config.title, yamlLoaded }));`,
    ].join('\n');
    const run = (config: string): unknown => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, config], { encoding: 'utf8' }));
    expect(run(text)).toEqual({ title, yamlLoaded: false });
    // The same config as YAML (a comment) goes through the parser: the check above can tell.
    expect(run(`# a comment\n${text}`)).toEqual({ title, yamlLoaded: true });
  });

  it('refuses a text nested thousands deep in one line, as the YAML parser does, without running out of stack first', () => {
    const depth = 100_000;
    const text = TEXT.replace('"title": "Briefing"', `"title": ${'['.repeat(depth)}${']'.repeat(depth)}`);
    expect(() => JSON.parse(text)).not.toThrow();
    const problems = problemsOf(text);
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) expect(problem).toMatch(new RegExp(`^${lineOf(text, '"title"')}:  invalid JSON: `));
  });

  it.each([
    ['en-GB', undefined, 'ltr'],
    ['ar', undefined, 'rtl'],
    ['he', undefined, 'rtl'],
    ['fa-IR', undefined, 'rtl'],
    ['ur', undefined, 'rtl'],
    ['az-Arab', undefined, 'rtl'],
    ['ur-Aran', undefined, 'rtl'],
    ['arc', undefined, 'rtl'],
    ['ku', undefined, 'ltr'],
    ['uk', undefined, 'ltr'],
    ['ar', 'ltr', 'ltr'],
  ])('writes a publication in %s (direction %s) %s', (language, direction, expected) => {
    const text = TEXT.replace(/"language": "[^"]*"/, `"language": "${language}"${direction === undefined ? '' : `, "direction": "${direction}"`}`);
    expect(text).toContain(`"language": "${language}"`);
    expect(parseConfig(text, FILE, ENV).direction).toBe(expected);
  });

  it('names the line of a repeated topic id and of a field with a problem', () => {
    const text = TEXT.replace('"id": "protests"', '"id": "talks"');
    expect(problemsOf(text)).toEqual([`${lineOf(text, '"id": "talks"', 2)}: topics.1.id duplicate topic "talks"`]);
    const wrong = TEXT.replace('"concurrency": 8', '"concurrency": 0');
    expect(problemsOf(wrong)).toEqual([expect.stringMatching(new RegExp(`^${lineOf(wrong, '"concurrency"')}: delivery\\.concurrency `))]);
  });

  it('names the line of a mistyped setting itself, not of the object around it', () => {
    const text = TEXT.replace('"concurrency": 8', '"concurrency": 8,\n    "concurency": 4').replace('"title":', '"titel": "x",\n  "title":');
    expect(problemsOf(text).sort()).toEqual([
      `${lineOf(text, '"titel"')}: titel is not a setting (check its spelling against the README)`,
      `${lineOf(text, '"concurency"')}: delivery.concurency is not a setting (check its spelling against the README)`,
    ]);
  });

  it('refuses a line break in a name that goes into mail headers, naming its line', () => {
    const text = TEXT.replace(/("sender": \{\s*"name": ")([^"]*)"/, '$1$2\\nBcc: someone@example.org"');
    expect(problemsOf(text)).toEqual([`${lineOf(text, 'Bcc: someone')}: sender.name must be one line, without line breaks or control characters`]);
  });

  it.each([
    ['an article (front matter)', '---\ntitle: A story\npublished: 2025-07-23T12:00:00Z\n---\nIts text.\n', 1],
    ['Markdown notes', '\n# Notes\n\nSome *text*: with a colon.\n', 2],
    ['a CSV list', 'address,name\nann@example.org,Ann\n', 1],
    ['a JSON list', '[{ "title": "Briefing" }]', 1],
  ])('says that %s given to --config is not a configuration, at its first line', (_what, text, line) => {
    expect(problemsOf(text)).toEqual([`${line}:  a JSON object of settings ("title", "siteUrl", …) was expected here: is --config naming the right file?`]);
  });

  it('keeps the missing settings as the answer for an empty object and the problems of a broken configuration', () => {
    expect(problemsOf('{}')[0]).toBe('1: title is required');
    expect(problemsOf(TEXT.replace('"title": "Briefing"', '"titel": "Briefing"'))).toEqual([
      '1: title is required',
      `${lineOf(TEXT, '"title"')}: titel is not a setting (check its spelling against the README)`,
    ]);
  });
});
