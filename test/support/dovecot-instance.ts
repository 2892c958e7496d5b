/**
 * A private Dovecot (Debian's `dovecot-imapd`) for tests: its own configuration, sockets, state,
 * log and mail under a temporary folder, one IMAP listener on 127.0.0.1 and a free port, no TLS
 * (loopback only), test users in a passwd file, each with its own Maildir. `stop()` always ends it.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { freePort, waitForGreeting } from '../../src/bench/postfix-tools.js';

const DOVECOT = '/usr/sbin/dovecot';
/** Users in the passwd file; a test file takes one per test. */
const USERS = 100;

/** Why a private Dovecot cannot run here, or undefined when it can; under CI=true a reason is an error. */
export function dovecotMissing(): string | undefined {
  const reason = existsSync(DOVECOT) ? undefined : `Dovecot is not installed (${DOVECOT}; apt-get install dovecot-imapd)`;
  if (reason !== undefined && process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  return reason;
}

/** A user of the test Dovecot, with a mailbox of its own: tests that share a server do not share mail. */
export interface DovecotUser {
  user: string;
  /** Holds the characters a URL must percent-encode, so the tests prove the decoding. */
  password: string;
  /** `imap://user:password@127.0.0.1:port/` with user and password percent-encoded; append a mailbox. */
  url: string;
}

/** A running Dovecot. */
export interface DovecotInstance {
  port: number;
  /** Milliseconds from spawn to the first IMAP greeting. */
  startMs: number;
  /** The next unused user (made at start: Dovecot's passwd-file reload sees whole-second changes only). */
  newUser(): DovecotUser;
  stop(): Promise<void>;
}

export interface DovecotOptions {
  /** Leave IDLE out of the advertised capabilities, as some servers do, to exercise polling. */
  withoutIdle?: boolean;
}

/** Capabilities Dovecot 2.3 offers after login, minus IDLE (imap_capability replaces the list). */
const CAPABILITIES_WITHOUT_IDLE =
  'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE';

function configuration(dir: string, port: number, owner: { uid: number; gid: number; name: string }, options: DovecotOptions): string {
  // As root, Dovecot's own users run the login and internal processes and mail belongs to nobody
  // (Dovecot refuses root as a mail user); as anyone else, everything runs as that user.
  const root = process.getuid?.() === 0;
  return [
    'protocols = imap',
    'listen = 127.0.0.1',
    `base_dir = ${dir}/run`,
    `state_dir = ${dir}/state`,
    `log_path = ${dir}/dovecot.log`,
    'ssl = no',
    // Plain-text LOGIN is fine here: the listener is on loopback only.
    'disable_plaintext_auth = no',
    'auth_mechanisms = plain login',
    // A refused login is answered at once, not after the default two seconds.
    'auth_failure_delay = 0',
    `default_login_user = ${root ? 'dovenull' : owner.name}`,
    `default_internal_user = ${root ? 'dovecot' : owner.name}`,
    `default_internal_group = ${root ? 'dovecot' : owner.name}`,
    `mail_location = maildir:${dir}/mail/%u/Maildir`,
    ...(options.withoutIdle === true ? [`imap_capability = ${CAPABILITIES_WITHOUT_IDLE}`] : []),
    'passdb {',
    '  driver = passwd-file',
    `  args = scheme=PLAIN ${dir}/passwd`,
    '}',
    'userdb {',
    '  driver = static',
    `  args = uid=${owner.uid} gid=${owner.gid} home=${dir}/mail/%u`,
    '}',
    'service imap-login {',
    '  chroot =',
    '  inet_listener imap {',
    '    address = 127.0.0.1',
    `    port = ${port}`,
    '  }',
    '  inet_listener imaps {',
    '    port = 0',
    '  }',
    '}',
    'service anvil {',
    '  chroot =',
    '}',
    '',
  ].join('\n');
}

function tail(log: string): string {
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n') : '(no log)';
}

/** Starts a private Dovecot in the foreground (`-F`), as a child of this process. */
export async function startDovecot(options: DovecotOptions = {}): Promise<DovecotInstance> {
  // Short path: Dovecot's unix sockets live under base_dir, and socket paths are limited to 108 bytes.
  const dir = mkdtempSync(path.join(tmpdir(), 'dovecot-'));
  // Dovecot's auth process runs as its own user and must reach the passwd file.
  chmodSync(dir, 0o711);
  const root = process.getuid?.() === 0;
  const me = userInfo();
  const owner = root ? { uid: 65534, gid: 65534, name: 'nobody' } : { uid: me.uid, gid: me.gid, name: me.username };
  for (const sub of ['run', 'state', 'mail']) mkdirSync(path.join(dir, sub));
  if (root) chownSync(path.join(dir, 'mail'), owner.uid, owner.gid);
  const password = 'p?ss#w@rd/%x';
  const users = Array.from({ length: USERS }, (_, index) => `reader${index + 1}`);
  writeFileSync(path.join(dir, 'passwd'), users.map((user) => `${user}:{PLAIN}${password}\n`).join(''), { mode: 0o644 });
  const port = await freePort();
  const config = path.join(dir, 'dovecot.conf');
  writeFileSync(config, configuration(dir, port, owner, options));
  const started = performance.now();
  const child = spawn(DOVECOT, ['-F', '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const gone = (): string | undefined => (child.exitCode === null ? undefined : `dovecot exited with ${child.exitCode} before listening`);
    await waitForGreeting(port, 15_000, gone, { starts: '* OK', goodbye: 'z LOGOUT' });
  } catch (error) {
    const log = tail(path.join(dir, 'dovecot.log'));
    await stop();
    throw new Error(`${(error as Error).message}\n${log}\n${stderr}`, { cause: error });
  }
  let given = 0;
  return {
    port,
    startMs: Math.round(performance.now() - started),
    newUser() {
      const user = users[given];
      if (user === undefined) throw new Error(`the test Dovecot has ${USERS} users, all given out`);
      given += 1;
      return { user, password, url: `imap://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/` };
    },
    stop,
  };
}
