import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personaliseMessage, prepareMessage, type MessageOptions, type MessageRecipient } from '../../src/delivery/message.js';
import { buildConfirmationMessage } from '../../src/server/confirmation-email.js';
import type { Briefing } from '../../src/email/briefing.js';
import { BriefingError } from '../../src/errors.js';
import { createWorkspace, type Workspace } from '../support/cli-workspace.js';
import { parseMail, type ParsedMail } from '../support/parse-mail.js';
import { startFaultServer, type FaultServer } from './support/fault-smtp-server.js';
import { EDITION, SECRET } from './support/publication.js';
import { startServe } from './support/serve.js';

/**
 * Every value that reaches a header of an outgoing message, given every way of writing a line break
 * (raw CR/LF, encoded-words, percent-encoding, Unicode separators, NEL, other controls): the value
 * is refused with a BriefingError, or the message, read back by Python's email parser, has exactly
 * the header fields of a harmless message, each once, and no line of the head starts a field of its own.
 */

const VECTORS: ReadonlyArray<[string, string]> = [
  ['CR LF', 'x\r\nBcc: evil@example.org'],
  ['LF', 'x\nBcc: evil@example.org'],
  ['CR', 'x\rBcc: evil@example.org'],
  ['CR LF CR LF (a body)', 'x\r\n\r\n<html>injected body</html>'],
  ['CR LF + space (a folded line)', 'x\r\n Bcc: evil@example.org'],
  ['a Q encoded-word with CR LF', '=?utf-8?q?x=0D=0ABcc:_evil@example.org?='],
  ['a B encoded-word with CR LF', `=?utf-8?b?${Buffer.from('x\r\nBcc: evil@example.org').toString('base64')}?=`],
  ['percent-encoded CR LF', 'x%0d%0aBcc: evil@example.org'],
  ['U+2028 line separator', 'x\u2028Bcc: evil@example.org'],
  ['U+2029 paragraph separator', 'x\u2029Bcc: evil@example.org'],
  ['U+0085 next line', 'x\u0085Bcc: evil@example.org'],
  ['vertical tab and form feed', 'x\u000b\u000cBcc: evil@example.org'],
  ['NUL', 'x\u0000Bcc: evil@example.org'],
  ['a bidi override', 'x\u202eBcc: evil@example.org'],
  ['a 2,000-character word', `x${'y'.repeat(2000)}`],
];

const BRIEFING: Briefing = {
  editionId: EDITION,
  subject: 'Briefing, 24 July 2025',
  preheader: 'Talks in Istanbul',
  html: '<!doctype html><html><body><p>Hello</p></body></html>',
  text: 'Hello\n',
  webUrl: `https://briefing.example.org/editions/${EDITION}/`,
  replacements: [],
};
const OPTIONS: MessageOptions = {
  sender: { name: 'Briefing desk', address: 'briefing@briefing.example.org', replyTo: 'desk@briefing.example.org', unsubscribeAddress: 'unsubscribe@briefing.example.org' },
  listId: 'daily.briefing.example.org',
  listName: 'Briefing',
  timeZone: 'Europe/Kyiv',
};
const RECIPIENT: MessageRecipient = { subscriberId: 7, address: 'reader7@example.com', name: 'Reader Seven', unsubscribeUrl: 'https://briefing.example.org/unsubscribe?token=7.abc', preferencesUrl: 'https://briefing.example.org/preferences?token=7.def' };
const DATE = new Date('2025-07-24T07:00:00Z');

/** Each place a value enters a message, and how a hostile value is put there. */
const FIELDS: ReadonlyArray<[string, (value: string) => Buffer | Promise<Buffer>]> = [
  ['the subject', (value) => message({ briefing: { ...BRIEFING, subject: value } })],
  ['the [TEST] prefix', (value) => message({ options: { ...OPTIONS, subjectPrefix: value } })],
  ['the sender name', (value) => message({ options: { ...OPTIONS, sender: { ...OPTIONS.sender, name: value } } })],
  ['the sender address', (value) => message({ options: { ...OPTIONS, sender: { ...OPTIONS.sender, address: `a${value}@example.org` } } })],
  ['the reply-to address', (value) => message({ options: { ...OPTIONS, sender: { ...OPTIONS.sender, replyTo: `a${value}@example.org` } } })],
  ['the unsubscribe mailbox', (value) => message({ options: { ...OPTIONS, sender: { ...OPTIONS.sender, unsubscribeAddress: `a${value}@example.org` } } })],
  ['the list id', (value) => message({ options: { ...OPTIONS, listId: `daily${value}.example.org` } })],
  ['the list name', (value) => message({ options: { ...OPTIONS, listName: value } })],
  ['the edition id', (value) => message({ briefing: { ...BRIEFING, editionId: value } })],
  ['the subscriber name', (value) => message({ recipient: { ...RECIPIENT, name: value } })],
  ['the subscriber address', (value) => message({ recipient: { ...RECIPIENT, address: `a${value}@example.com` } })],
  ['the quoted local part of the address', (value) => message({ recipient: { ...RECIPIENT, address: `"a${value.replace(/["\\]/g, '')}"@example.com` } })],
  ['the unsubscribe link', (value) => message({ recipient: { ...RECIPIENT, unsubscribeUrl: `https://briefing.example.org/unsubscribe?token=${value}` } })],
  ['the confirmation subject', (value) => confirmation({ subject: value })],
  ['the confirmation name', (value) => confirmation({ name: value })],
  ['the confirmation address', (value) => confirmation({ address: `a${value}@example.com` })],
];

function message(parts: { briefing?: Briefing; options?: MessageOptions; recipient?: MessageRecipient }): Buffer {
  return personaliseMessage(prepareMessage(parts.briefing ?? BRIEFING, parts.options ?? OPTIONS), parts.recipient ?? RECIPIENT, DATE).raw;
}

async function confirmation(parts: { subject?: string; name?: string; address?: string }): Promise<Buffer> {
  const built = await buildConfirmationMessage({
    sender: OPTIONS.sender,
    listId: OPTIONS.listId,
    timeZone: OPTIONS.timeZone,
    subject: parts.subject ?? 'Confirm your subscription',
    text: 'Confirm: https://briefing.example.org/confirm?token=1.x\n',
    recipient: { subscriberId: 1, address: parts.address ?? 'reader1@example.com', name: parts.name ?? null },
    date: DATE,
  });
  return built.raw;
}

/** The header field names at the start of the head's lines, in order (continuation lines skipped). */
function rawFieldNames(raw: Buffer): string[] {
  const head = raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('utf8');
  return head.split('\r\n').filter((line) => !/^[ \t]/.test(line)).map((line) => (/^([!-9;-~]+):/.exec(line)?.[1] ?? `(not a field: ${JSON.stringify(line.slice(0, 30))})`).toLowerCase());
}

const names = (mail: ParsedMail): string[] => Object.entries(mail.headers).flatMap(([name, values]) => values.map(() => name)).sort();

describe('no value can add a header to an outgoing message', () => {
  const outcomes: Array<{ field: string; vector: string; refused?: string; raw?: Buffer; baseline: Buffer }> = [];
  let parsed: ParsedMail[] = [];
  let baselines: Map<string, ParsedMail>;

  beforeAll(async () => {
    const clean = new Map<string, Buffer>();
    for (const [field, build] of FIELDS) clean.set(field, await build(field === 'the edition id' ? EDITION : field.includes('address') || field.includes('mailbox') || field.includes('list id') ? '' : 'Plain'));
    for (const [field, build] of FIELDS) {
      for (const [vector, value] of VECTORS) {
        try {
          outcomes.push({ field, vector, raw: await build(value), baseline: clean.get(field) as Buffer });
        } catch (error) {
          // Only the documented refusal: a BriefingError that names the field, never the value.
          if (!(error instanceof BriefingError)) throw new Error(`${field} with ${vector} threw ${String(error)}`, { cause: error });
          outcomes.push({ field, vector, refused: error.message, baseline: clean.get(field) as Buffer });
        }
      }
    }
    const kept = outcomes.filter((outcome) => outcome.raw !== undefined);
    parsed = parseMail(kept.map((outcome) => outcome.raw as Buffer));
    const cleanParsed = parseMail([...clean.values()]);
    baselines = new Map([...clean.keys()].map((field, index) => [field, cleanParsed[index] as ParsedMail]));
  });

  it.each(FIELDS.map(([field]) => field))('%s: refused, or the message keeps exactly its header fields', (field) => {
    const kept = outcomes.filter((outcome) => outcome.raw !== undefined);
    const baseline = baselines.get(field) as ParsedMail;
    expect(baseline.defects).toEqual([]);
    for (const outcome of outcomes.filter((candidate) => candidate.field === field)) {
      const label = `${field} with ${outcome.vector}`;
      if (outcome.refused !== undefined) {
        expect(outcome.refused, label).toMatch(/^(delivery|email): /);
        expect(outcome.refused, label).not.toContain('evil@example.org');
        continue;
      }
      const mail = parsed[kept.indexOf(outcome)] as ParsedMail;
      expect(names(mail), label).toEqual(names(baseline));
      expect(rawFieldNames(outcome.raw as Buffer), label).toEqual(rawFieldNames(outcome.baseline));
      for (const [name, values] of Object.entries(mail.headers)) {
        for (const value of values) expect(value, `${label}: ${name}`).not.toMatch(/[\r\n]/);
      }
      expect(mail.maxLineLength, label).toBeLessThanOrEqual(998);
      expect(mail.parts.map((part) => part.type), label).toEqual(baseline.parts.map((part) => part.type));
    }
  });

  it('refuses every raw line break and control character, and encodes the look-alikes as text', () => {
    const refusedVectors = new Set(outcomes.filter((outcome) => outcome.refused !== undefined).map((outcome) => outcome.vector));
    for (const vector of ['CR LF', 'LF', 'CR', 'CR LF CR LF (a body)', 'U+2028 line separator', 'U+0085 next line', 'NUL']) expect(refusedVectors.has(vector), vector).toBe(true);
    // A subject that looks like an encoded word arrives as those very characters, not decoded.
    const subject = outcomes.find((outcome) => outcome.field === 'the subject' && outcome.vector === 'a Q encoded-word with CR LF');
    const mail = parsed[outcomes.filter((outcome) => outcome.raw !== undefined).indexOf(subject as (typeof outcomes)[number])];
    expect(mail?.headers.subject).toEqual(['=?utf-8?q?x=0D=0ABcc:_evil@example.org?=']);
  });
});

describe('header injection through the real entry points', () => {
  let workspace: Workspace;
  let server: FaultServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    workspace = await createWorkspace({ subscribers: 2 });
    server = await startFaultServer({ seed: 1, temporaryRate: 0, resetRate: 0, stallRate: 0, unknownUsers: new Set(), oversized: new Set() }, { keepRaw: true });
    env = { BRIEFING_SECRET: SECRET, BRIEFING_SMTP_URL: server.url };
  });
  afterAll(async () => {
    await server.close();
    workspace.remove();
  });

  it.each([
    ['send --to', ['send', '--date', EDITION, '--to', 'reader@example.org\r\nBcc: evil@example.org'], /^cli: --to: address contains a control character/m],
    ['subscribers add (address)', ['subscribers', 'add', 'reader@example.org\nBcc: evil@example.org'], /contains a control character/],
    ['subscribers add (name)', ['subscribers', 'add', 'reader9@example.org', '--name', 'Nine\r\nBcc: evil@example.org'], /contains a control character/],
  ])('%s with a line break is refused before anything is sent or stored', async (_label, args, message) => {
    const run = await workspace.run(args, env);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/unexpected error/);
    expect(server.raws).toHaveLength(0);
    const list = await workspace.run(['subscribers', 'list', '--json'], env);
    expect(list.stdout).not.toContain('evil@example.org');
  });

  it.each([
    ['sender.name', (config: Record<string, unknown>) => ((config.sender as Record<string, string>).name = 'Desk\r\nBcc: evil@example.org'), /^config: briefing\.config\.json:\d+: sender\.name: must be one line, without line breaks or control characters$/m],
    ['title (the List-Id name)', (config: Record<string, unknown>) => (config.title = 'Briefing\u2028Bcc: evil@example.org'), /^config: briefing\.config\.json:\d+: title: must be one line, without line breaks or control characters$/m],
    ['listId', (config: Record<string, unknown>) => (config.listId = 'daily.example.org>\r\nBcc: evil@example.org'), /^config: briefing\.config\.json:\d+: listId: must be a domain-like identifier$/m],
    ['sender.address', (config: Record<string, unknown>) => ((config.sender as Record<string, string>).address = 'desk@example.org\r\nBcc: evil@example.org'), /^config: briefing\.config\.json:\d+: sender\.address: /m],
  ])('a config whose %s carries a line break stops the send with an error naming it', async (_label, change, message) => {
    const other = await createWorkspace({ subscribers: 1, configure: change });
    try {
      const run = await other.run(['send', '--date', EDITION], env);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/unexpected error/);
      expect(server.raws).toHaveLength(0);
    } finally {
      other.remove();
    }
  });

  it('the subscribe form refuses a name with a line break, and its confirmation carries no name, with the usual header fields only', async () => {
    const served = await startServe(workspace.configFile, env);
    try {
      const url = served.url;
      const subscribe = (address: string, name: string): Promise<Response> =>
        fetch(`${url}subscribe`, { method: 'POST', body: new URLSearchParams({ address, name }), headers: { 'x-forwarded-for': address } });
      for (const name of ['Eve\r\nBcc: evil@example.org', 'Eve\u2028Bcc: evil@example.org', 'Eve\u0085Bcc: evil@example.org']) {
        expect((await subscribe('eve@example.org', name)).status).toBe(400);
      }
      const lookAlike = '=?utf-8?q?Eve=0D=0ABcc:_evil@example.org?= %0d%0aBcc: evil@example.org';
      expect((await subscribe('eve@example.org', lookAlike)).status).toBe(200);
      for (let wait = 0; wait < 200 && server.raws.length === 0; wait += 1) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(server.raws).toHaveLength(1);
      const [mail] = parseMail(server.raws);
      expect(mail?.defects).toEqual([]);
      expect(Object.keys(mail?.headers ?? {}).sort()).toEqual(['auto-submitted', 'content-transfer-encoding', 'content-type', 'date', 'from', 'message-id', 'mime-version', 'subject', 'to']);
      expect(mail?.addresses.to).toHaveLength(1);
      expect(mail?.addresses.to?.[0]?.address).toBe('eve@example.org');
      // The name waits for the confirmation (a look-alike in a briefing's To is encoded as text: see above).
      expect(mail?.addresses.to?.[0]?.name).toBe('');
      expect(server.raws[0]?.toString('latin1')).not.toMatch(/Bcc|=\?utf-8\?q\?Eve/i);
    } finally {
      await served.stop();
    }
  });
});
