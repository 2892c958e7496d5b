import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Issue 16: the real parts (store, transport, DKIM signer) are built at a composition root and
 * handed down; no stage builds its own (the DKIM signer was once built inside
 * delivery/deliver-edition.ts and server/build-dependencies.ts), and no module keeps state of its
 * own (message.ts once did).
 */
const SRC = path.resolve(import.meta.dirname, '../../src');

/** Where real parts may be built: the CLI's composition root, and the bench's and screenshots' own compositions. */
const ROOTS = [path.join('cli', 'main.ts'), `bench${path.sep}`, `screenshots${path.sep}`];

/** The factories of the real parts, each with the file that defines it (a factory may call the ones below it). */
const FACTORIES: ReadonlyArray<readonly [string, string]> = [
  ['createDkimSigner', path.join('delivery', 'dkim.ts')],
  ['createTransport', path.join('delivery', 'create-transport.ts')],
  ['openStore', path.join('store', 'open-store.ts')],
  ['openStoreAt', path.join('store', 'open-store.ts')],
];

function sources(): Array<{ file: string; text: string }> {
  return readdirSync(SRC, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => {
      const full = path.join(entry.parentPath, entry.name);
      return { file: path.relative(SRC, full), text: readFileSync(full, 'utf8') };
    });
}

/** Calls of `name(` that are not a method (`x.name(`), a declaration (`function name(`) or a member of an interface. */
function callsOf(name: string, text: string): number {
  const call = new RegExp(`(?<![.\\w])${name}\\(`, 'g');
  return [...text.matchAll(call)].filter((match) => {
    const start = text.lastIndexOf('\n', match.index) + 1;
    const end = text.indexOf('\n', match.index);
    const before = text.slice(start, match.index);
    const line = text.slice(start, end === -1 ? undefined : end);
    const memberSignature = before.trim() === '' && /\)\s*:\s*[^;]+;\s*$/.test(line);
    return !/\bfunction\s*$/.test(before) && !memberSignature;
  }).length;
}

describe('the composition root builds the real parts', () => {
  const files = sources();

  it.each(FACTORIES)('%s is called only at a composition root (or by its own file)', (name, home) => {
    const callers = files.filter(({ file, text }) => file !== home && callsOf(name, text) > 0).map(({ file }) => file);
    expect(callers.filter((file) => !ROOTS.some((root) => file === root || file.startsWith(root)))).toEqual([]);
    // Guards the pattern: the CLI's root is found calling the factory (the bench builds its store with openStoreAt).
    if (name !== 'openStoreAt') expect(callers).toContain(path.join('cli', 'main.ts'));
  });

  it('no module keeps state of its own: no top-level `let` or `var` in src/', () => {
    const stateful = files.flatMap(({ file, text }) => text.split('\n').flatMap((line, index) => (/^(?:export\s+)?(?:let|var)\s/.test(line) ? [`${file}:${index + 1}`] : [])));
    expect(stateful).toEqual([]);
  });

  it('the call finder tells calls from declarations, methods and interface members', () => {
    expect(callsOf('createTransport', 'const t = createTransport(config, id, logger);')).toBe(1);
    expect(callsOf('createTransport', 'export function createTransport(config) {}')).toBe(0);
    expect(callsOf('createTransport', 'await context.createTransport(id);\nnodemailer.createTransport({});')).toBe(0);
    expect(callsOf('createTransport', 'interface X {\n  createTransport(editionId: string): Promise<Transport>;\n}')).toBe(0);
    expect(callsOf('openStore', '  openStore(config);')).toBe(1);
  });
});
