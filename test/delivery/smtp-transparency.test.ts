import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { personaliseMessage, prepareMessage } from '../../src/delivery/message.js';
import { dotStuff } from '../../src/delivery/smtp-connection.js';
import { dotSafe, pieceShape } from '../../src/delivery/smtp-transparency.js';
import { createToken, unsubscribeUrl } from '../../src/delivery/tokens.js';
import { scale } from '../reliability/support/seeded.js';
import { MESSAGE_OPTIONS, SECRET, SITE_URL, sampleBriefing } from './fixtures.js';

const RUNS = scale(2000, 20_000);
const SEED = Number(process.env.SEED ?? 20250724);

/** Pieces made of what dot-stuffing looks at (dots, every kind of line end), cut anywhere: a CRLF or a line start may fall on a cut. */
const pieces = fc.array(
  fc.string({ unit: fc.constantFrom('.', '\r', '\n', '\r\n', '\r\n.', 'a', 'é'), maxLength: 12 }).map((text) => Buffer.from(text, 'utf8')),
  { maxLength: 8 },
);

describe('dotSafe', () => {
  it('says a message needs no dot-stuffing exactly when dotStuff would leave its joined pieces as they are', () => {
    fc.assert(
      fc.property(pieces, (parts) => {
        const joined = Buffer.concat(parts);
        expect(dotSafe(parts.map(pieceShape)), JSON.stringify(joined.toString('utf8'))).toBe(dotStuff(joined).equals(joined));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it.each([
    ['a CRLF split across two pieces', ['a\r', '\nb\r\n'], true],
    ['a bare CR at the end of a piece (smuggling a line end)', ['a\r', 'b\r\n'], false],
    ['a bare LF at the start of a piece', ['a', '\nb\r\n'], false],
    ['a dot starting the piece after a line end (an early end of data)', ['a\r\n', '.\r\n'], false],
    ['a dot after an LF that starts the piece', ['a\r', '\n.\r\n'], false],
    ['a dot in the middle of a line across a cut', ['a', '.\r\n'], true],
    ['a message that does not end its last line', ['a\r\n', 'b'], false],
    ['nothing at all', [], false],
  ])('%s', (_label, parts, safe) => {
    expect(dotSafe(parts.map((part) => pieceShape(Buffer.from(part, 'utf8'))))).toBe(safe);
  });
});

describe('personaliseMessage and dot-stuffing', () => {
  const template = prepareMessage(sampleBriefing(), MESSAGE_OPTIONS);
  /** Personal values built to put dots and line ends where a line may start, in the head and in the body's slots. */
  const hostile = fc.string({ unit: fc.constantFrom('.', '..', '\r\n', '\n.', ' ', '-', 'a', 'é', '='), maxLength: 120 });

  it('marks a message dot-safe only when sending its bytes unstuffed is what dotStuff would send, whatever the name', () => {
    let safe = 0;
    fc.assert(
      fc.property(hostile, fc.integer({ min: 1, max: 1_000_000 }), (name, id) => {
        const link = unsubscribeUrl(SITE_URL, createToken(SECRET, 'unsubscribe', { id, linkKey: 'transparency-test-key-1' }));
        let message;
        try {
          message = personaliseMessage(template, { subscriberId: id, address: `reader${id}@example.com`, name, unsubscribeUrl: link }, new Date('2025-07-23T18:00:00Z'));
        } catch {
          // A name refused for its header is not sent at all.
          return;
        }
        const wire = message.dotSafe === true ? message.raw : dotStuff(message.raw);
        expect(wire.equals(dotStuff(message.raw))).toBe(true);
        if (message.dotSafe === true) safe += 1;
      }),
      { numRuns: scale(300, 3000), seed: SEED },
    );
    // The fast path is the usual one: quoted-printable already writes a line-leading dot as =2E.
    expect(safe).toBeGreaterThan(0);
  });

  it('takes the fast path for an ordinary reader', () => {
    const link = unsubscribeUrl(SITE_URL, createToken(SECRET, 'unsubscribe', { id: 3, linkKey: 'transparency-test-key-1' }));
    const message = personaliseMessage(template, { subscriberId: 3, address: 'reader3@example.com', name: 'Reader 3', unsubscribeUrl: link }, new Date());
    expect(message.dotSafe).toBe(true);
    expect(dotStuff(message.raw)).toBe(message.raw);
  });
});
