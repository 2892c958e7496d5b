import { expect } from 'vitest';
import { TransportError, type OutgoingMessage } from '../../src/delivery/transport.js';

/** Message number `n` to `to`: headers and a body, ready for a transport. */
export function testMessage(n: number, to = `reader${n}@example.com`, body = 'Hello.\r\n'): OutgoingMessage {
  const messageId = `<test.${n}@daily.briefing.example.org>`;
  const raw = Buffer.from(`From: <briefing@example.org>\r\nTo: <${to}>\r\nSubject: test ${n}\r\nMessage-ID: ${messageId}\r\n\r\n${body}`);
  return { messageId, envelope: { from: 'briefing@example.org', to }, raw };
}

/** The TransportError a send rejects with (fails the test if it resolves or rejects with anything else). */
export async function transportFailure(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}
