import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dotStuff } from '../../src/delivery/smtp-connection.js';
import { scale } from '../reliability/support/seeded.js';

const RUNS = scale(500, 10_000);
const SEED = Number(process.env.SEED ?? 20250724);

/** Text made of what can end SMTP data early or split a line: dots and every kind of line end. */
const data = fc.string({
  unit: fc.constantFrom('.', '..', '\r', '\n', '\r\n', '.\r\n', '\r.\r', '\n.\n', 'a', ' ', 'é'),
  maxLength: 60,
});

describe('dotStuff', () => {
  it.each([
    ['a bare CR around a lone dot', 'a\r.\r\nb', 'a\r\n..\r\nb\r\n'],
    ['a bare LF around a lone dot', 'a\n.\nb', 'a\r\n..\r\nb\r\n'],
    ['a lone dot after a bare CR at the end', 'a\r.', 'a\r\n..\r\n'],
    ['CR CR LF', 'a\r\r\n.b', 'a\r\n\r\n..b\r\n'],
  ])('normalises %s to CRLF before stuffing, so the data cannot end early (SMTP smuggling)', (_label, input, expected) => {
    expect(dotStuff(Buffer.from(input, 'utf8')).toString('utf8')).toBe(expected);
  });

  it('turns any text into data with only CRLF line ends, every line that starts with a dot stuffed, and no end-of-data mark inside', () => {
    fc.assert(
      fc.property(data, (text) => {
        const out = dotStuff(Buffer.from(text, 'utf8')).toString('utf8');
        expect(out.endsWith('\r\n')).toBe(true);
        expect(/\r(?!\n)|(?<!\r)\n/.test(out), JSON.stringify(out)).toBe(false);
        expect(`\r\n${out}`.includes('\r\n.\r\n'), JSON.stringify(out)).toBe(false);
        const lines = out.slice(0, -2).split('\r\n');
        expect(lines.every((line) => !line.startsWith('.') || line.startsWith('..')), JSON.stringify(out)).toBe(true);
        // Unstuffed (what a server does), the data is the text with its line ends made CRLF.
        const unstuffed = lines.map((line) => (line.startsWith('.') ? line.slice(1) : line)).join('\r\n');
        const normalised = text.replace(/\r\n|\r|\n/g, '\r\n');
        expect(`${unstuffed}\r\n`).toBe(normalised.endsWith('\r\n') ? normalised : `${normalised}\r\n`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
