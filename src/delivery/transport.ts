/** One message ready for the wire: envelope plus the complete RFC 5322 bytes. */
export interface OutgoingMessage {
  messageId: string;
  envelope: { from: string; to: string };
  raw: Buffer;
  /**
   * `raw` is known to need no SMTP dot-stuffing (CRLF line ends only, no line starting with a dot,
   * ending in CRLF: see dotSafe), so the client sends it without scanning it again.
   */
  dotSafe?: boolean;
  /** The subscriber it goes to (absent for a test copy); names the file of the .eml transport. */
  subscriberId?: number;
}

/** What the server said when it accepted a message. */
export interface SendReceipt {
  reply: string;
  /** Where the message was written, for a transport that writes files instead of mailing. */
  file?: string;
}

/**
 * Why a message was not accepted; `temporary` decides between retry and failure. `bounce`: the
 * server refused the recipient address for good (the subscriber is marked bounced). `fatal`: the
 * transport cannot work at all (server unreachable, login refused, TLS missing, disk unwritable):
 * the send stops and the message stays queued instead of failing.
 */
export class TransportError extends Error {
  readonly temporary: boolean;
  readonly responseCode: number | null;
  readonly bounce: boolean;
  readonly fatal: boolean;
  /**
   * The server certainly did not take the message: it answered with a refusal, or was never reached.
   * False where it may have (the connection broke, or no reply came, after the data was sent).
   */
  readonly notTaken: boolean;
  constructor(
    message: string,
    options: { temporary: boolean; responseCode?: number | null; bounce?: boolean; fatal?: boolean; notTaken?: boolean; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransportError';
    this.temporary = options.temporary;
    this.responseCode = options.responseCode ?? null;
    this.bounce = options.bounce ?? false;
    this.fatal = options.fatal ?? false;
    this.notTaken = options.notTaken ?? false;
  }
}

/** What the sender needs from a mail transport (SMTP pool, or .eml files). */
export interface Transport {
  /** Human-readable target, secrets removed, e.g. `smtp://mail.example.org:587`. */
  readonly description: string;
  /** A rate the transport asks for (from the SMTP URL's rateLimit/rateDelta); the sender keeps under it. */
  readonly messagesPerSecond?: number;
  /**
   * Messages it takes at once; the sender hands over no more (default `delivery.concurrency`, one
   * per connection). Briefing's SMTP pool takes two per connection: the second one's commands go
   * pipelined behind the first one's data.
   */
  readonly messagesInFlight?: number;
  /**
   * Resolves when the server accepted the message; rejects with TransportError otherwise. The
   * transport is done with `message.raw` once the promise settles (the sender reuses the buffer).
   */
  send(message: OutgoingMessage): Promise<SendReceipt>;
  /**
   * Starts opening what the first messages will need (a pool's connections) while the caller still
   * prepares them, so the first message does not wait for connect, greeting and EHLO. Never fails:
   * a connection that cannot be opened now is tried again, and its error told, at the first send.
   */
  connectAhead?(): void;
  close(): Promise<void>;
}
