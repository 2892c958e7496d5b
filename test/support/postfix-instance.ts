/**
 * A private Postfix instance for tests that need mail a real MTA writes (DSNs above all).
 *
 * It runs as root from Debian's `postfix` package with its own config_directory, queue_directory
 * and data_directory in a temp folder, listening only on 127.0.0.1:<free port>; the system's
 * Postfix (if any) is not touched. Mail to `<anyone>@localDomain` is accepted at SMTP time
 * (`local_recipient_maps =` empty) and then bounced asynchronously by the `local` agent with an
 * RFC 3464 DSN to the envelope sender, as a real MX does for an unknown user. Mail to
 * `<anyone>@bounceDomain` (a virtual mailbox domain with a static map) lands in one Maildir,
 * `maildir`, owned by uid/gid 65534 (the virtual agent will not deliver as root).
 *
 *   const postfix = await startPostfix();
 *   try { send to 127.0.0.1:postfix.smtpPort; const [dsn] = await postfix.waitForMail(1); }
 *   finally { await postfix.stop(); }
 *
 * `postfixMissing()` says why the instance cannot run here (not root, postfix not installed);
 * under CI=true it throws instead, so CI fails rather than skipping.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForGreeting } from '../../src/bench/postfix-tools.js';

const POSTFIX = '/usr/sbin/postfix';
const POSTCONF = '/usr/sbin/postconf';
/** nobody/nogroup on Debian: the owner of delivered mail (Postfix refuses to deliver as root). */
const MAIL_ID = 65534;

export interface PostfixInstance {
  /** Postfix's smtpd on 127.0.0.1. */
  smtpPort: number;
  /** Unknown users of this domain bounce with a DSN (it is `mydestination`). */
  localDomain: string;
  /** Mail to any address of this domain lands in `maildir`. */
  bounceDomain: string;
  /** The Maildir (with new/, cur/, tmp/) receiving mail for `bounceDomain`. */
  maildir: string;
  /** Waits (polling, bounded) until `count` messages are in `maildir/new`; returns them oldest first. */
  waitForMail(count?: number, timeoutMs?: number): Promise<Buffer[]>;
  /** The instance's log (Postfix's maillog_file), for failure messages. */
  log(): Promise<string>;
  /** Stops the instance (`postfix -c DIR stop`) and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

export interface PostfixOptions {
  localDomain?: string;
  bounceDomain?: string;
}

/** Why a private Postfix cannot run here, or undefined when it can; under CI=true a reason is an error. */
export function postfixMissing(): string | undefined {
  const reason =
    process.getuid?.() !== 0
      ? 'a private Postfix instance needs root'
      : !existsSync(POSTFIX) || !existsSync(POSTCONF)
        ? `Postfix is not installed (${POSTFIX}; apt-get install postfix)`
        : !existsSync(path.join(execFileSync(POSTCONF, ['-h', 'daemon_directory'], { encoding: 'utf8' }).trim(), 'master'))
          ? 'Postfix daemons are missing (postconf daemon_directory has no master)'
          : undefined;
  if (reason !== undefined && process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  return reason;
}

function run(file: string, args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });
}

function mainCf(dir: string, options: Required<PostfixOptions>): string {
  return [
    'compatibility_level = 3.6',
    `queue_directory = ${dir}/spool`,
    // Created by `postfix start` (owned by the mail_owner) when missing.
    `data_directory = ${dir}/data`,
    // The package's postfix-files, which `postfix check` reads.
    'meta_directory = /etc/postfix',
    `maillog_file_prefixes = ${dir}`,
    `maillog_file = ${dir}/maillog`,
    `myhostname = mx.${options.localDomain}`,
    `mydomain = ${options.localDomain}`,
    `myorigin = ${options.localDomain}`,
    `mydestination = ${options.localDomain}`,
    // Accept unknown users at RCPT, bounce them later: the asynchronous DSN a real MX sends.
    'local_recipient_maps =',
    'alias_maps =',
    'alias_database =',
    'inet_interfaces = loopback-only',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'relayhost =',
    'smtpd_peername_lookup = no',
    'smtputf8_enable = no',
    'biff = no',
    `virtual_mailbox_domains = ${options.bounceDomain}`,
    `virtual_mailbox_base = ${dir}/mail`,
    // The trailing slash makes it a Maildir; every address of the domain shares it.
    'virtual_mailbox_maps = static:maildir/',
    `virtual_uid_maps = static:${MAIL_ID}`,
    `virtual_gid_maps = static:${MAIL_ID}`,
    'virtual_minimum_uid = 1',
    '',
  ].join('\n');
}

/** The services this instance uses; none chrooted (the temp folder is not a chroot jail). */
function masterCf(port: number): string {
  const services = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'local unix - n n - - local',
    'virtual unix - n n - - virtual',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  ];
  return `${services.join('\n')}\n`;
}

/** Starts a private Postfix (see the file comment). Always stop it: `finally { await postfix.stop(); }`. */
export async function startPostfix(options: PostfixOptions = {}): Promise<PostfixInstance> {
  const missing = postfixMissing();
  if (missing !== undefined) throw new Error(missing);
  const settings = { localDomain: options.localDomain ?? 'briefing.test', bounceDomain: options.bounceDomain ?? 'bounces.test' };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'briefing-postfix-'));
  if (/\s/.test(dir)) throw new Error(`the temp folder ${dir} has white space, which main.cf cannot hold`);
  const configDir = path.join(dir, 'etc');
  const maildir = path.join(dir, 'mail', 'maildir');
  const log = async (): Promise<string> => readFile(path.join(dir, 'maillog'), 'utf8').catch(() => '(no maillog)');

  let stopped = false;
  const stopSync = (): void => {
    // The test process is exiting without stop(): leave no Postfix running.
    try {
      execFileSync(POSTFIX, ['-c', configDir, 'stop'], { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // Not running: nothing to stop.
    }
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stopSync);
    // `postfix stop` waits for the master to exit; a stop that finds nothing running fails harmlessly.
    if (existsSync(path.join(dir, 'spool', 'pid', 'master.pid'))) await run(POSTFIX, ['-c', configDir, 'stop']);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // The virtual agent (uid 65534) must reach its Maildir through the temp folder.
    await chmod(dir, 0o755);
    await mkdir(configDir);
    await mkdir(path.join(dir, 'spool'));
    for (const sub of ['', 'new', 'cur', 'tmp']) {
      await mkdir(path.join(maildir, sub), { recursive: true });
    }
    for (const owned of [path.join(dir, 'mail'), maildir, ...['new', 'cur', 'tmp'].map((sub) => path.join(maildir, sub))]) {
      await chown(owned, MAIL_ID, MAIL_ID);
    }
    const smtpPort = await freePort();
    await writeFile(path.join(configDir, 'main.cf'), mainCf(dir, settings));
    await writeFile(path.join(configDir, 'master.cf'), masterCf(smtpPort));
    process.on('exit', stopSync);
    const started = await run(POSTFIX, ['-c', configDir, 'start']);
    if (started.code !== 0) throw new Error(`postfix -c ${configDir} start exited with ${started.code}: ${started.output}\n${await log()}`);
    await waitForGreeting(smtpPort, 15_000);

    const waitForMail = async (count = 1, timeoutMs = 30_000): Promise<Buffer[]> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const names = (await readdir(path.join(maildir, 'new'))).sort();
        if (names.length >= count) return Promise.all(names.map((name) => readFile(path.join(maildir, 'new', name))));
        if (Date.now() > deadline) throw new Error(`${names.length} of ${count} messages in ${maildir}/new after ${timeoutMs} ms; Postfix log:\n${await log()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    return { smtpPort, ...settings, maildir, waitForMail, log, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
