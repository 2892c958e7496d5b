/** One message ready for the wire: envelope plus the complete RFC 5322 bytes. */
export interface OutgoingMessage {
  messageId: string;
  envelope: { from: string; to: string };
  raw: Buffer;
}

/** What the server said when it accepted a message. */
export interface SendReceipt {
  reply: string;
}

/** Why a message was not accepted; `temporary` decides between retry and failure. */
export class TransportError extends Error {
  readonly temporary: boolean;
  readonly responseCode: number | null;
  constructor(message: string, options: { temporary: boolean; responseCode?: number | null; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransportError';
    this.temporary = options.temporary;
    this.responseCode = options.responseCode ?? null;
  }
}

/** What the sender needs from a mail transport (SMTP pool, or .eml files). */
export interface Transport {
  /** Human-readable target, secrets removed, e.g. `smtp://mail.example.org:587`. */
  readonly description: string;
  /** Resolves when the server accepted the message; rejects with TransportError otherwise. */
  send(message: OutgoingMessage): Promise<SendReceipt>;
  close(): Promise<void>;
}
