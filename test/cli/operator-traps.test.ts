/**
 * Traps a new operator fell into (issue 15 §2), each reproduced through the built CLI (dist/, `npx
 * tsc -p .` first) against a throw-away publication with a real SQLite store.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStoreAt } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { createWorkspace, REPOSITORY, type Workspace } from '../support/cli-workspace.js';
import { startSmtpTestServer, type SmtpTestServer } from '../support/smtp-test-server.js';

const SECRET = 'cli-test-secret-0123456789';

let workspace: Workspace | undefined;
let server: SmtpTestServer | undefined;

afterEach(async () => {
  await server?.close();
  workspace?.remove();
  server = undefined;
  workspace = undefined;
});

async function withStore<T>(file: string, read: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStoreAt({ kind: 'sqlite', file });
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

/** An article published on 25 July 2025, after the repository's content: what "the article added later" is. */
function addLateArticle(root: string): void {
  writeFileSync(
    path.join(root, 'content', '2025-07-25-late-story.md'),
    ['---', 'title: A story filed after the edition was first tried', 'published: 2025-07-25T10:00:00+03:00', 'source: Test Wire', '---', 'Talks resumed in Istanbul on Friday, officials said.', ''].join('\n'),
  );
}

describe('send --date in the future', () => {
  it('refuses a slot still to come instead of recording it skipped forever, and plain status is not confused', async () => {
    workspace = await createWorkspace({ subscribers: 2 });
    const refused = await workspace.run(['send', '--date', '2099-01-01']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^delivery: edition 2099-01-01 is due at 2099-01-01 21:00 EET, still to come: .*wait for its slot, or add --force$/m);
    expect(await withStore(workspace.databaseFile, (store) => store.getEdition('2099-01-01'))).toBeUndefined();

    const sent = await workspace.run(['send', '--date', '2025-07-23']);
    expect(sent.code).toBe(0);
    const forced = await workspace.run(['send', '--date', '2099-01-01', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^Recorded edition 2099-01-01 as skipped: nothing new between .+; `briefing send --date 2099-01-01 --replan` plans it again$/m);
    const status = await workspace.run(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^Edition 2025-07-23 \(sent\)/);
  });
});

describe('send --replan', () => {
  it('plans again an edition skipped before its article was added, which plain sends kept calling skipped', async () => {
    workspace = await createWorkspace({ subscribers: 2 });
    expect((await workspace.run(['send', '--date', '2025-07-23'])).code).toBe(0);
    const early = await workspace.run(['send', '--date', '2025-07-25']);
    expect(early.code).toBe(0);
    expect(early.stdout).toMatch(/^Recorded edition 2025-07-25 as skipped: nothing new between 2025-07-23 21:00 EEST and 2025-07-25 21:00 EEST; `briefing send --date 2025-07-25 --replan` plans it again$/m);
    addLateArticle(workspace.root);
    const again = await workspace.run(['send', '--date', '2025-07-25']);
    // The hint once: the recorded note already has it.
    expect(again.stdout).toMatch(/^Edition 2025-07-25 is recorded as skipped: edition 2025-07-25: nothing new between .*, so it is recorded as skipped \(`briefing send --date 2025-07-25 --replan` plans it again; edition\.sendWhenEmpty sends empty editions\)$/m);
    const replanned = await workspace.run(['send', '--date', '2025-07-25', '--replan']);
    expect(replanned.stderr).not.toMatch(/error/i);
    expect(replanned.code).toBe(0);
    expect(replanned.stdout).toMatch(/^Edition 2025-07-25 was skipped; planning it again$/m);
    expect(replanned.stdout).toMatch(/^Sent 2, failed 0/m);
    expect(await withStore(workspace.databaseFile, (store) => store.getEdition('2025-07-25'))).toMatchObject({ status: 'sent', subject: expect.stringContaining('Briefing') });
  });

  it('is refused once any delivery of the edition is sent, and for an edition a later one already covered', async () => {
    workspace = await createWorkspace({ subscribers: 2 });
    expect((await workspace.run(['send', '--date', '2025-07-22'])).code).toBe(0);
    expect((await workspace.run(['send', '--date', '2025-07-23'])).code).toBe(0);
    const sent = await workspace.run(['send', '--date', '2025-07-23', '--replan']);
    expect(sent.code).toBe(1);
    expect(sent.stderr).toMatch(/^delivery: edition 2025-07-23 cannot be planned again: its send has finished \(`briefing status --date 2025-07-23` lists how each delivery ended\)$/m);
    const covered = await workspace.run(['send', '--date', '2025-07-22', '--replan']);
    expect(covered.code).toBe(1);
    expect(covered.stderr).toMatch(/^delivery: edition 2025-07-22 cannot be planned again: edition 2025-07-23, sent after it, already covers its articles$/m);
    const usage = await workspace.run(['send', '--replan']);
    expect(usage.code).toBe(2);
  });
});

describe('run after a send the mail server stopped', () => {
  it('resumes the unfinished edition first and says so, instead of leaving it half sent', async () => {
    workspace = await createWorkspace({ subscribers: 3 });
    // Nothing listens on port 9 of the loopback: the server cannot be reached, the send stops.
    const down = await workspace.run(['send', '--date', '2025-07-23'], { BRIEFING_SMTP_URL: 'smtp://127.0.0.1:9', BRIEFING_SECRET: 'a-secret-for-this-test-0123456789' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/the undelivered messages stay queued: run `briefing send --resume --date 2025-07-23` once it is fixed/);
    expect(await withStore(workspace.databaseFile, (store) => store.getEdition('2025-07-23'))).toMatchObject({ status: 'sending' });
    const run = await workspace.run(['run']);
    expect(run.stderr).not.toMatch(/"level":[5-9]\d|error/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Resuming edition 2025-07-23, which an earlier run left unfinished$/m);
    expect(run.stdout).toMatch(/^Edition 2025-07-23 \(resumed\): /m);
    expect(await withStore(workspace.databaseFile, (store) => store.deliveryCounts('2025-07-23'))).toMatchObject({ sent: 3, queued: 0, sending: 0 });
  });
});

describe('run when the mail server cannot be reached', () => {
  it('has told what it built and which edition it opened before the error', async () => {
    workspace = await createWorkspace({ subscribers: 2 });
    const down = await workspace.run(['run'], { BRIEFING_SMTP_URL: 'smtp://127.0.0.1:9', BRIEFING_SECRET: 'a-secret-for-this-test-0123456789' });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^Built \d+ articles? into output\/: /m);
    expect(down.stdout).toMatch(/^Edition \d{4}-\d{2}-\d{2}: \S/m);
    expect(down.stderr).toMatch(/the undelivered messages stay queued: run `briefing send --resume --date \d{4}-\d{2}-\d{2}` once it is fixed/);
  });
});

describe('send --date of an earlier day than an edition that went out', () => {
  it('is refused, planning nothing, instead of sending the later edition\'s stories a second time', async () => {
    workspace = await createWorkspace({ subscribers: 2 });
    expect((await workspace.run(['send', '--date', '2025-07-24'])).code).toBe(0);
    const earlier = await workspace.run(['send', '--date', '2025-07-23']);
    expect(earlier.code).toBe(1);
    expect(earlier.stderr).toMatch(/^edition: edition 2025-07-23 cannot be planned: edition 2025-07-24, which went out after it, already told its stories; send a date after 2025-07-24$/m);
    expect(await withStore(workspace.databaseFile, (store) => store.getEdition('2025-07-23'))).toBeUndefined();
    // A look at it is still allowed: nothing is planned or sent.
    expect((await workspace.run(['send', '--date', '2025-07-23', '--dry-run'])).code).toBe(0);
  });
});

describe('send --to without --date', () => {
  it('sends the newest edition with content, says which, in one sentence, when today has nothing new', async () => {
    workspace = await createWorkspace({ subscribers: 1 });
    const written = await workspace.run(['send', '--to', 'editor@example.net']);
    expect(written.stderr).toBe('');
    expect(written.code).toBe(0);
    expect(written.stdout).toMatch(
      /^Wrote a test copy of edition 2025-07-23 \(the edition of the newest content; the due edition \d{4}-\d\d-\d\d has nothing new\) for editor@example\.net to output\/outbox\/2025-07-23\/[\w.-]+\.eml \(BRIEFING_SMTP_URL is not set, so nothing was mailed\)\n$/,
    );
    const file = /to (output\/outbox\/\S+\.eml)/.exec(written.stdout)?.[1] ?? '';
    expect(readFileSync(path.join(workspace.root, file), 'utf8')).toMatch(/^Subject: \[TEST\] /m);

    expect((await workspace.run(['send', '--date', '2025-07-23'])).code).toBe(0);
    server = await startSmtpTestServer();
    const mailed = await workspace.run(['send', '--to', 'editor@example.net'], { BRIEFING_SMTP_URL: server.url, BRIEFING_SECRET: SECRET });
    expect(mailed.code).toBe(0);
    expect(mailed.stdout).toMatch(/^Sent a test copy of edition 2025-07-23 \(the newest edition with content; the due edition [\d-]+ has nothing new\) to editor@example\.net via smtp:\/\/127\.0\.0\.1:\d+; the server replied "250 [^"]*"\n$/);
    expect(server.messages).toHaveLength(1);
  });

  it('exits 1 when the edition asked for has nothing to show', async () => {
    workspace = await createWorkspace();
    const result = await workspace.run(['send', '--date', '2025-07-26', '--to', 'editor@example.net']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^no test copy sent: edition 2025-07-26: nothing new/);
  });
});

describe('subscribers unsubscribe and remove', () => {
  const leave: Record<'unsubscribed' | 'bounced', (workspace: Workspace) => Promise<void>> = {
    unsubscribed: async (workspace) => {
      const unsubscribed = await workspace.run(['subscribers', 'unsubscribe', 'reader1@example.com']);
      expect(unsubscribed.code).toBe(0);
      expect(unsubscribed.stdout).toBe('unsubscribed reader1@example.com\n');
    },
    bounced: (workspace) =>
      withStore(workspace.databaseFile, async (store) => {
        const subscriber = await store.findSubscriber('reader1@example.com');
        await store.setSubscriberStatus(subscriber!.id, 'bounced', new Date(), 'hard bounce');
      }),
  };

  it.each(['unsubscribed', 'bounced'] as const)('remove of a %s address is refused, so an import cannot re-add it; --forget erases it', async (status) => {
    workspace = await createWorkspace({ subscribers: 2 });
    await leave[status](workspace);
    const refused = await workspace.run(['subscribers', 'remove', 'reader1@example.com']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^subscribers: reader1@example\\.com is ${status}: its row keeps it from being added again by an import, so it stays .*add --forget to erase it anyway$`, 'm'));
    const csv = path.join(workspace.root, 'list.csv');
    writeFileSync(csv, 'address,name\nreader1@example.com,Back Again\n');
    expect((await workspace.run(['subscribers', 'import', csv])).code).toBe(0);
    expect((await withStore(workspace.databaseFile, (store) => store.findSubscriber('reader1@example.com')))?.status).toBe(status);

    const forgotten = await workspace.run(['subscribers', 'remove', 'reader1@example.com', '--forget']);
    expect(forgotten.code).toBe(0);
    expect(forgotten.stdout).toBe(`erased reader1@example.com (it was ${status}; an import may add it again)\n`);
    const active = await workspace.run(['subscribers', 'remove', 'reader2@example.com']);
    expect(active.stdout).toBe('removed reader2@example.com\n');
    expect(await withStore(workspace.databaseFile, (store) => store.countSubscribers())).toBe(0);
  });
});

describe('version and wording', () => {
  it('--version prints the package version', async () => {
    workspace = await createWorkspace();
    const result = await workspace.run(['--version']);
    const { version } = JSON.parse(readFileSync(path.join(REPOSITORY, 'package.json'), 'utf8')) as { version: string };
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${version}\n`);
  });

  it('build and run say "Built N articles" alike; status and schedule show slots in the zone with its abbreviation', async () => {
    workspace = await createWorkspace();
    const build = await workspace.run(['build']);
    expect(build.stdout).toMatch(/^Built 2 articles into output\/: /);
    const run = await workspace.run(['run']);
    expect(run.stdout).toMatch(/^Built 2 articles into output\/: /m);
    const status = await workspace.run(['status']);
    expect(status.stdout).toMatch(/^next: \d{4}-\d\d-\d\d 21:00 (EET|EEST)  edition /m);
    expect(status.stdout).toMatch(/^ {2}2025-07-23 {2}sent {5}2025-07-23 21:00 EEST$/m);
  });

  it('schedule lists its next slots in the zone with its abbreviation, and its stop summary counts runs skipped for nothing new', async () => {
    workspace = await createWorkspace({ configure: (config) => Object.assign(config, { schedule: { cron: '* * * * * *', catchUpMinutes: 0 } }) });
    // The repository's content goes out first, so every slot the scheduler then runs has nothing new.
    expect((await workspace.run(['send', '--date', '2025-07-23T21:00:00', '--force'])).code).toBe(0);
    const child = workspace.start(['schedule']);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Skipped editions: slots run and found with nothing new, and the one missed before start (catch-up 0).
    const skipped = () => withStore(workspace!.databaseFile, async (store) => (await store.listEditions(50)).filter((edition) => edition.status === 'skipped'));
    const ranEmpty = async () => (await skipped()).filter((edition) => !edition.note?.startsWith('missed')).length;
    for (let waited = 0; (await ranEmpty()) < 2; waited += 50) {
      if (waited > 60_000) throw new Error(`no two skipped runs: ${Buffer.concat(stderr).toString().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const printed = Buffer.concat(stdout).toString();
    const next = [...printed.matchAll(/^ {2}(\d{4}-\d\d-\d\dT(\d\d:\d\d):\d\d) {2}(\d{4}-\d\d-\d\d) (\d\d:\d\d) (\S+)$/gm)];
    expect(next, printed).toHaveLength(3);
    for (const [, id, idTime, date, time, zone] of next) {
      // The slot id is the zone's wall time; the listed time must be the same wall time, not UTC.
      expect(`${date} ${time}`).toBe(`${id?.slice(0, 10)} ${idTime}`);
      expect(zone).toMatch(/^EES?T$/);
    }
    const counts = /^Stopped: (\d+) runs?, (\d+) skipped, 0 failed$/m.exec(printed);
    expect(counts, printed).not.toBeNull();
    const [runs, skippedCount] = [Number(counts?.[1]), Number(counts?.[2])];
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(skippedCount).toBe((await skipped()).length);
    expect(skippedCount).toBeGreaterThanOrEqual(runs);
  });

  it('a one-line CSV import says "1 line"', async () => {
    workspace = await createWorkspace();
    const csv = path.join(workspace.root, 'one.csv');
    writeFileSync(csv, 'address\nsomeone@example.org\n');
    const result = await workspace.run(['subscribers', 'import', csv]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/: 1 line in /);
  });
});
