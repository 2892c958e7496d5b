/**
 * What every Transport promises the sender, as one suite each implementation runs (like the Store
 * contract): messages arrive byte for byte, each once; the message buffer is free for reuse once
 * `send` settles; the description hides secrets; a transport that cannot work fails fatally.
 */
import { describe, expect, it } from 'vitest';
import { TransportError, type OutgoingMessage, type Transport } from '../../src/delivery/transport.js';

/** One implementation under test: a working transport and what arrived through it, or a broken one. */
export interface TransportFixture {
  transport: Transport;
  /** The raw bytes that arrived, one entry per message received. */
  arrived(): Promise<Buffer[]>;
  /** A secret the configuration carried, which the description must not show. */
  secret: string;
  close(): Promise<void>;
}

export interface TransportUnderTest {
  open(): Promise<TransportFixture>;
  /** A transport pointed at something that cannot work (no server, no folder). */
  openBroken(): Promise<{ transport: Transport; close(): Promise<void> }>;
}

function message(n: number, raw?: Buffer): OutgoingMessage {
  const messageId = `<contract.${n}.0123456789abcdef@daily.briefing.example.org>`;
  return {
    messageId,
    subscriberId: n,
    envelope: { from: 'briefing@briefing.example.org', to: `reader${n}@example.com` },
    raw: raw ?? Buffer.from(`To: <reader${n}@example.com>\r\nMessage-ID: ${messageId}\r\nSubject: contract ${n}\r\n\r\n.starts with a dot\r\nHello ${n}.\r\n`),
  };
}

export function describeTransportContract(name: string, implementation: TransportUnderTest): void {
  describe(`Transport contract: ${name}`, () => {
    it('delivers each message once, byte for byte, and describes itself without secrets', async () => {
      const fixture = await implementation.open();
      try {
        const messages = Array.from({ length: 40 }, (_, index) => message(index + 1));
        const receipts = await Promise.all(messages.map((outgoing) => fixture.transport.send(outgoing)));
        expect(receipts.every((receipt) => receipt.reply.length > 0)).toBe(true);
        const arrived = (await fixture.arrived()).map((raw) => raw.toString('latin1')).sort();
        expect(arrived).toEqual(messages.map((outgoing) => outgoing.raw.toString('latin1')).sort());
        expect(fixture.transport.description).not.toContain(fixture.secret);
      } finally {
        await fixture.close();
      }
    });

    it('is done with the message bytes once send settles, so the sender may reuse the buffer', async () => {
      const fixture = await implementation.open();
      try {
        const scratch = Buffer.alloc(4096);
        const expected: string[] = [];
        for (let n = 1; n <= 5; n += 1) {
          const bytes = message(n).raw;
          bytes.copy(scratch);
          expected.push(bytes.toString('latin1'));
          await fixture.transport.send(message(n, scratch.subarray(0, bytes.length)));
          scratch.fill(0x58);
        }
        expect((await fixture.arrived()).map((raw) => raw.toString('latin1')).sort()).toEqual(expected.sort());
      } finally {
        await fixture.close();
      }
    });

    it('fails fatally when it cannot work at all, so the sender stops instead of failing every delivery', async () => {
      const broken = await implementation.openBroken();
      try {
        const error = await broken.transport.send(message(1)).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(TransportError);
        expect(error).toMatchObject({ fatal: true });
      } finally {
        await broken.close();
      }
    });
  });
}
