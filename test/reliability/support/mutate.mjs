/**
 * A seeded mutation fuzzer for text inputs: input `index` of seed `seed` is always the same, so
 * the harness can rebuild the input that crashed or hung from its number. Plain JavaScript: the
 * fuzz worker thread loads it as it is.
 */
import { createHash } from 'node:crypto';
import { mulberry32 } from './mulberry32.mjs';

/** Fragments that mean something to YAML, Markdown, CSV, HTML, MIME or the importer, and runs that stress parsers. */
export const DICTIONARY = [
  '\u0000', '\r', '\n', '\r\n', '\t', '\u000b', '\u0085', '\u2028', '\u2029', '\u202e', '\u2066', '\ufeff', '\ud800', '\udfff', '\uffff', '🙂',
  '---', '---\n', '\n---\n', '- ', ': ', '"', "'", ',', ';', '#', '## ', '##', '&', '&a ', '*a', '<<: *a', '!!binary ', '!!js/function ', '|', '>', '? ', '{', '}', '[', ']', '%YAML 1.2\n',
  'title: ', 'published: ', 'published: 2025-07-23T12:58:11+03:00', 'updated: 1999-01-01', 'source: ', 'url: javascript:alert(1)', 'topics: [talks]', 'images:\n  - alt: x\n', 'videos: [{title: v}]',
  '<script>alert(1)</script>', '<img src=x onerror=alert(1)>', ']]>', '<![CDATA[', '&#0;', '&#x202e;', 'javascript:', 'data:text/html,<script>', '[x](javascript:alert(1))', '![i](data:image/png;base64,AA==)',
  '=?utf-8?q?=0D=0ABcc:_x@evil.example?=', '%0d%0a', 'Bcc: x@evil.example',
  'Published: 2025-07-23 12:58:11 | Views: 3', 'Published: 2025-13-45 99:99:99', 'WATCH', 'WATCH l A video:', '10 days ago', 'Duration 2:08', 'Source link', 'Source link https://example.org/', 'With files from ', ' (Jane Doe/Reuters)', 'World\n',
  'address,name\n', 'email,name,status\n', '@', 'a@b.c', '"a b"@example.org', 'x@[127.0.0.1]', 'ü@xn--bcher-kva.example', ',,,', '"', '""', '"\n"',
  'a'.repeat(5000), '['.repeat(2000), '*'.repeat(3000), '_'.repeat(2000), '<'.repeat(1000), '> '.repeat(1000), '- '.repeat(500), '`'.repeat(1000), '\n'.repeat(2000), '#'.repeat(300), '9'.repeat(400), '  '.repeat(2000),
];

/** A generator in [0, 1) for (seed, index). */
export function generatorFor(seed, index) {
  return mulberry32(createHash('sha256').update(`${seed}:${index}`).digest().readUInt32BE(0));
}

function randomCodePoint(random) {
  const roll = random();
  if (roll < 0.3) return String.fromCharCode(Math.floor(random() * 32));
  if (roll < 0.6) return String.fromCharCode(32 + Math.floor(random() * 95));
  if (roll < 0.9) return String.fromCodePoint(0x80 + Math.floor(random() * 0xff80));
  return String.fromCodePoint(0x10000 + Math.floor(random() * 0xfffff));
}

/**
 * Input `index` of `seed`: one corpus text (or a splice of two) with 1 to 8 mutations; every
 * 50th input is a fragment of the dictionary alone or repeated.
 */
export function mutate(corpus, seed, index) {
  const random = generatorFor(seed, index);
  const pick = (list) => list[Math.floor(random() * list.length)];
  if (index % 50 === 49) return pick(DICTIONARY).repeat(1 + Math.floor(random() * 50));
  let text = pick(corpus);
  const operations = 1 + Math.floor(random() * 8);
  for (let step = 0; step < operations; step += 1) {
    const at = Math.floor(random() * (text.length + 1));
    const span = Math.floor(random() * Math.min(400, text.length - at + 1));
    switch (Math.floor(random() * 9)) {
      case 0: text = text.slice(0, at) + pick(DICTIONARY) + text.slice(at); break;
      case 1: text = text.slice(0, at) + text.slice(at + span); break;
      case 2: text = text.slice(0, at + span) + text.slice(at, at + span) + text.slice(at + span); break;
      case 3: text = text.slice(0, at) + randomCodePoint(random) + text.slice(at + 1); break;
      case 4: text = text.slice(0, at); break;
      case 5: {
        const other = pick(corpus);
        const from = Math.floor(random() * other.length);
        text = text.slice(0, at) + other.slice(from, from + 1 + Math.floor(random() * 800)) + text.slice(at);
        break;
      }
      case 6: {
        const lines = text.split('\n');
        const line = Math.floor(random() * lines.length);
        lines.splice(line, 0, ...Array(1 + Math.floor(random() * 40)).fill(lines[line] ?? ''));
        text = lines.join('\n');
        break;
      }
      case 7: {
        const lines = text.split('\n');
        const [a, b] = [Math.floor(random() * lines.length), Math.floor(random() * lines.length)];
        [lines[a], lines[b]] = [lines[b], lines[a]];
        text = lines.join('\n');
        break;
      }
      default: text = text.slice(0, at) + text.slice(at, at + span).toUpperCase() + text.slice(at + span);
    }
  }
  return text;
}

/** The same for bytes (CSV files are read as bytes): the text mutated, then a few raw bytes changed. */
export function mutateBytes(corpus, seed, index) {
  const bytes = Buffer.from(mutate(corpus, seed, index), 'utf8');
  const random = generatorFor(seed, `bytes:${index}`);
  const flips = Math.floor(random() * 4);
  for (let flip = 0; flip < flips && bytes.length > 0; flip += 1) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
  return bytes;
}
