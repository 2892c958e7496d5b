import { createRequire } from 'node:module';
import type * as JsYamlModule from 'js-yaml';

const require = createRequire(import.meta.url);

/** js-yaml, loaded at its first use (see yaml() in yaml-source.ts), required so the read stays synchronous. */
function jsYaml(): typeof JsYamlModule {
  return require('js-yaml') as typeof JsYamlModule;
}

// The subset, line by line. A key is a word; a value is a plain scalar that starts with no indicator
// and holds no `: ` or ` #`, a quoted scalar on one line, or a one-line list of such scalars.
const KEY = String.raw`[A-Za-z][A-Za-z0-9_-]*`;
const PLAIN = String.raw`[^\s\-?:,\[\]{}#&*!|>'"%@\x60](?:[^:#]|:(?=\S)|(?<=\S)#)*(?<=[^\s:])`;
const DOUBLE_QUOTED = String.raw`"(?:[^"\\]|\\[0abtnvfre"/\\N_LP]|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4})*"`;
const SINGLE_QUOTED = String.raw`'(?:[^']|'')*'`;
const LIST_ITEM = String.raw`(?:${DOUBLE_QUOTED}|${SINGLE_QUOTED}|[A-Za-z0-9](?:[^,\[\]{}:#'"]*[^,\[\]{}:#'"\s])?)`;
const LIST = String.raw`\[(?: *${LIST_ITEM}(?: *, *${LIST_ITEM})*)? *\]`;
const VALUE = `(?:${PLAIN}|${DOUBLE_QUOTED}|${SINGLE_QUOTED}|${LIST})`;
/** `key:`, `key: value`, `- key:`, `- key: value` or `- value`, indented by spaces; or a comment line. */
const SIMPLE_LINE = new RegExp(`^(?: *(?:- )?${KEY}:(?: ${VALUE})?| *- ${VALUE}|#.*)$`);

/** Anything but printable text and line feeds: tabs, carriage returns, other controls, Unicode line separators, byte-order marks. */
const UNUSUAL_CHARACTER = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

/**
 * Texts that YAML 1.2's core schema reads as something other than text (null, a boolean, a number),
 * broadly: js-yaml and the yaml package disagree on some (`0b1`, `1_000`, `-.5`), so a string or key
 * that could be one is left to the yaml package.
 */
const CORE_NON_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?|[-+]?0[box][0-9a-fA-F_]+|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN))$/;

/** More lines and list items than a front matter holds: a bound on the walk below. */
const MAX_NODES = 100_000;

/** The value holds only strings that cannot be read as anything else, nulls, lists and mappings of word keys. */
function plainTextValue(value: unknown): boolean {
  const pending: unknown[] = [value];
  for (let seen = 0; pending.length > 0; seen += 1) {
    if (seen > MAX_NODES) return false;
    const item = pending.pop();
    if (item === null) continue;
    if (typeof item === 'string') {
      if (CORE_NON_STRING.test(item)) return false;
    } else if (Array.isArray(item)) {
      pending.push(...(item as unknown[]));
    } else if (typeof item === 'object' && Object.getPrototypeOf(item) === Object.prototype) {
      for (const [key, child] of Object.entries(item)) {
        if (CORE_NON_STRING.test(key) || key === '__proto__') return false;
        pending.push(child);
      }
    } else {
      return false;
    }
  }
  return true;
}

/**
 * The value of a YAML text written in a narrow subset that js-yaml and the yaml package read alike
 * (checked by a differential test over mutated records), read by js-yaml, which is some ten times
 * faster than the yaml package's parse that keeps positions for messages. Undefined for any text
 * outside the subset, for one js-yaml refuses, and for values with anything but text in them: the
 * caller then reads it with the yaml package, which says what is wrong and where.
 */
export function simpleYamlValue(text: string): { value: unknown } | undefined {
  if (UNUSUAL_CHARACTER.test(text)) return undefined;
  for (const line of text.split('\n')) {
    if (line !== '' && !SIMPLE_LINE.test(line)) return undefined;
  }
  let value: unknown;
  try {
    const { load, CORE_SCHEMA } = jsYaml();
    value = load(text, { schema: CORE_SCHEMA });
  } catch {
    return undefined;
  }
  return plainTextValue(value) ? { value } : undefined;
}
