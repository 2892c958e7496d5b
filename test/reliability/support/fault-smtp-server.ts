/**
 * An SMTP server that misbehaves on purpose (the `smtp-server` package, in process, on 127.0.0.1):
 * at each stage of a transaction it may reset the connection, stall past the client's timeout or
 * answer 421/451/452; it refuses chosen recipients with 550 (unknown user) and chosen messages with
 * 552 (too big for the mailbox). Faults are fixed by the seed and the recipient's attempt number, so
 * a run repeats whatever order the connections interleave in. It keeps its own count of what it
 * accepted, by Message-ID, and of the acceptances a reset cut off before the client heard them.
 *
 * Unlike test/support/smtp-test-server.ts it also resets at the DATA command itself (before the 354)
 * and stalls after the final dot, and it refuses 552 per recipient at the end of the data.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { messageIdOf } from '../../support/smtp-test-server.js';
import { hashedChance } from './seeded.js';

/** Where a fault strikes: the greeting, each command, after the final dot, after acceptance. */
export type FaultStage = 'greeting' | 'mail' | 'rcpt' | 'data' | 'dot' | 'accepted';

/** What goes wrong, how often, and for whom. */
export interface FaultPlan {
  seed: number;
  /** Per stage, chance of a 421, 451 or 452 reply (greeting: 421 only). */
  temporaryRate: number;
  /** Per stage, chance of a connection reset. */
  resetRate: number;
  /** Per stage, chance of no reply at all (the client must time out). */
  stallRate: number;
  /** Refused at RCPT with 550 5.1.1, every time. */
  unknownUsers: ReadonlySet<string>;
  /** Refused at the end of data with 552 5.3.4, every time. */
  oversized: ReadonlySet<string>;
  /** Stages that may fault; all by default. */
  stages?: readonly FaultStage[];
}

/** The running server and its own record of what it accepted, refused and broke. */
export interface FaultServer {
  url: string;
  /** How many times the server accepted each Message-ID. */
  readonly accepted: Map<string, number>;
  /** Acceptances cut off by a reset before the 250 went out, by Message-ID. */
  readonly raced: Map<string, number>;
  /** The permanent refusal each refused recipient got, as sent (`550 5.1.1 …`). */
  readonly refusals: Map<string, string>;
  /** Faults injected, by kind (`reset:mail`, `stall:dot`, `451:rcpt`, `550`, `552` …). */
  readonly faults: Map<string, number>;
  /** Accepted messages' raw bytes, when kept. */
  readonly raws: Buffer[];
  readonly connections: number;
  close(): Promise<void>;
}

const UNKNOWN_USER = '5.1.1 Recipient address rejected: User unknown in local recipient table';
const TOO_BIG = '5.3.4 Message too big for this mailbox';
const TEMPORARY: Record<number, string> = {
  421: '4.3.2 Service shutting down, closing transmission channel',
  451: '4.3.0 Local error in processing, try again later',
  452: '4.3.1 Insufficient system storage, try again later',
};

function reply(code: number, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(text), { responseCode: code });
}

/** Starts the server on 127.0.0.1 and a free port. */
export async function startFaultServer(plan: FaultPlan, options: { keepRaw?: boolean } = {}): Promise<FaultServer> {
  const accepted = new Map<string, number>();
  const raced = new Map<string, number>();
  const refusals = new Map<string, string>();
  const faults = new Map<string, number>();
  const raws: Buffer[] = [];
  const attempts = new Map<string, number>();
  /** Per session: its connection number and how many transactions it began. */
  const sessions = new Map<string, { connection: number; transactions: number }>();
  let connections = 0;
  const stages = new Set(plan.stages ?? ['greeting', 'mail', 'rcpt', 'data', 'dot', 'accepted']);
  const count = (kind: string): void => void faults.set(kind, (faults.get(kind) ?? 0) + 1);

  let server: SMTPServer;
  const reset = (session: SMTPServerSession): void => {
    for (const connection of server.connections as Set<{ id: string; _socket?: { destroy(): void } }>) {
      if (connection.id === session.id) connection._socket?.destroy();
    }
  };

  /** The fault of a stage for a key (recipient and attempt, or connection and transaction), if any. */
  const decide = (stage: FaultStage, key: string, allowed: { stall: boolean; temporary: boolean }): 'reset' | 'stall' | number | undefined => {
    if (!stages.has(stage)) return undefined;
    const roll = hashedChance(plan.seed, stage, key);
    if (roll < plan.resetRate) return 'reset';
    if (allowed.stall && roll < plan.resetRate + plan.stallRate) return 'stall';
    if (allowed.temporary && roll < plan.resetRate + plan.stallRate + plan.temporaryRate) {
      if (stage === 'greeting') return 421;
      return [421, 451, 452][Math.floor(hashedChance(plan.seed, 'code', stage, key) * 3)];
    }
    return undefined;
  };

  /** Applies the stage's fault; true when the command must not go on. */
  const misbehave = (stage: FaultStage, key: string, session: SMTPServerSession, callback: (error?: Error) => void): boolean => {
    const fault = decide(stage, key, { stall: true, temporary: true });
    if (fault === undefined) return false;
    if (fault === 'reset') {
      count(`reset:${stage}`);
      reset(session);
    } else if (fault === 'stall') {
      count(`stall:${stage}`);
    } else {
      count(`${fault}:${stage}`);
      callback(reply(fault, TEMPORARY[fault] ?? 'try again later'));
    }
    return true;
  };

  const recipientKey = (session: SMTPServerSession): string => {
    const to = session.envelope.rcptTo[0]?.address ?? '';
    return `${to}#${attempts.get(to) ?? 0}`;
  };

  server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    hideSTARTTLS: true,
    authOptional: true,
    disabledCommands: ['AUTH'],
    closeTimeout: 100,
    onConnect(session, callback) {
      connections += 1;
      sessions.set(session.id, { connection: connections, transactions: 0 });
      if (!misbehave('greeting', `connection#${connections}`, session, callback)) callback();
    },
    onMailFrom(_address, session, callback) {
      const state = sessions.get(session.id) ?? { connection: 0, transactions: 0 };
      state.transactions += 1;
      if (!misbehave('mail', `connection#${state.connection}#${state.transactions}`, session, callback)) callback();
    },
    onRcptTo(address, session, callback) {
      attempts.set(address.address, (attempts.get(address.address) ?? 0) + 1);
      if (plan.unknownUsers.has(address.address)) {
        count('550');
        refusals.set(address.address, `550 ${UNKNOWN_USER}`);
        callback(reply(550, UNKNOWN_USER));
        return;
      }
      if (!misbehave('rcpt', `${address.address}#${attempts.get(address.address)}`, session, callback)) callback();
    },
    onData(stream, session, callback) {
      const key = recipientKey(session);
      // A reset here cuts the DATA command off before its 354 goes out.
      if (decide('data', key, { stall: false, temporary: false }) === 'reset') {
        count('reset:data');
        reset(session);
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const to = session.envelope.rcptTo[0]?.address ?? '';
        if (plan.oversized.has(to)) {
          count('552');
          refusals.set(to, `552 ${TOO_BIG}`);
          callback(reply(552, TOO_BIG));
          return;
        }
        if (misbehave('dot', key, session, callback)) return;
        const raw = Buffer.concat(chunks);
        const messageId = messageIdOf(raw);
        accepted.set(messageId, (accepted.get(messageId) ?? 0) + 1);
        if (options.keepRaw) raws.push(raw);
        if (decide('accepted', key, { stall: false, temporary: false }) === 'reset') {
          // Taken, but the client never hears it: the one race that may cause a second copy.
          count('reset:accepted');
          raced.set(messageId, (raced.get(messageId) ?? 0) + 1);
          reset(session);
          return;
        }
        callback(null, `2.0.0 Ok: queued as ${accepted.size}`);
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    accepted,
    raced,
    refusals,
    faults,
    raws,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
