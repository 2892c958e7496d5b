#!/usr/bin/env node
/**
 * The composition root: the only code that touches argv, the environment, signals and
 * process.exit. Commands live in ./commands/<name>.ts and are loaded only when run, so
 * `briefing --help` stays fast and heavy modules (MJML, SQLite) load lazily.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { CliContext, CommandRunner } from './context.js';
import type { MjmlRendererAhead } from '../email/compile-mjml.js';
import { BriefingError, isBriefingError } from '../errors.js';

const DEFAULT_CONFIG = 'briefing.config.json';
/** Commands that stop taking new work on SIGTERM/SIGINT and finish what is in flight (so does `build --watch`); others just die. */
const GRACEFUL_COMMANDS = new Set(['send', 'run', 'schedule', 'serve', 'inbox']);
/** Commands whose links leave the machine (serve always, the others over SMTP): they need BRIEFING_SECRET. */
const SIGNING_COMMANDS = new Set(['send', 'run', 'schedule', 'serve', 'inbox']);

interface GlobalOptions {
  config: string;
}

function buildProgram(run: (name: string, options: Record<string, unknown>, args: string[]) => Promise<void>): Command {
  const program = new Command('briefing')
    .description('Turns article records into feeds and an email briefing, and delivers it to subscribers.')
    .showHelpAfterError('(run with --help for usage)')
    .version(packageVersion(), '--version', 'print the version of Briefing')
    .exitOverride();

  program
    .command('init [dir]')
    .description('start a publication in DIR (default: here): a config, the templates and one example article')
    .exitOverride()
    .action((dir: string | undefined) => run('init', { config: DEFAULT_CONFIG }, [dir ?? '.']));

  const withConfig = (command: Command): Command =>
    command.option('--config <file>', 'publication config (folders are relative to it)', DEFAULT_CONFIG).exitOverride();
  const date = new Option('--date <date>', 'edition date (YYYY-MM-DD) or slot id in the publication time zone');

  withConfig(program.command('build'))
    .description('load content and write the feeds and archive pages into output/')
    .addOption(date)
    .option('--watch', 'stay running and build again whenever a record, a template or the config changes (Ctrl-C stops)')
    .option('--json', 'print the result as JSON (one line per build with --watch)')
    .action((options, command: Command) => run('build', options, command.args));

  withConfig(program.command('preview'))
    .description("render an edition's briefing to output/editions/D/ (html, txt, eml) without sending")
    .addOption(date)
    .option('--json', 'print the result as JSON')
    .action((options, command: Command) => run('preview', options, command.args));

  withConfig(program.command('send'))
    .description('send an edition to every active subscriber (or one test copy with --to)')
    .addOption(date)
    .option('--to <address>', 'send one test copy, subject prefixed [TEST], without touching the outbox')
    .option('--dry-run', 'report what would be sent and write nothing')
    .option('--resume', 'only continue an edition already enqueued')
    .option('--replan', 'forget a skipped or unsent edition D and plan it again (refused once any of it is sent)')
    .option('--force', 'send an edition whose slot is still to come')
    .option('--json', 'print the summary as JSON')
    .action((options, command: Command) => run('send', options, command.args));

  withConfig(program.command('run'))
    .description('what the schedule does once: build, plan the due edition, send it')
    .option('--json', 'print the summary as JSON')
    .action((options, command: Command) => run('run', options, command.args));

  withConfig(program.command('schedule'))
    .description('long-running: run on the configured cron in the configured time zone')
    .action((options, command: Command) => run('schedule', options, command.args));

  withConfig(program.command('serve'))
    .description('HTTP: feeds, archive, web versions, subscribe, confirm, one-click unsubscribe, preferences')
    .option('--port <port>', 'port to listen on', '8080')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .action((options, command: Command) => run('serve', options, command.args));

  const subscribers = program.command('subscribers').description('manage the subscriber list');
  withConfig(subscribers.command('add <address>'))
    .description('add (or update) one active subscriber')
    .option('--name <name>', 'display name')
    .addOption(new Option('--status <status>', 'initial status').choices(['active', 'pending']).default('active'))
    .option('--topics <ids>', 'only these topics, comma-separated configured ids (default: every topic)')
    .action((address: string, options, command: Command) => run('subscribers-add', options, [address, ...command.args.slice(1)]));
  withConfig(subscribers.command('remove <address>'))
    .description('delete a subscriber and their deliveries (an unsubscribed or bounced address needs --forget)')
    .option('--forget', 'erase an unsubscribed or bounced address too (GDPR erasure: a later import may add it again)')
    .action((address: string, options) => run('subscribers-remove', options, [address]));
  withConfig(subscribers.command('unsubscribe <address>'))
    .description('mark a subscriber unsubscribed: they get nothing more and no import adds them again')
    .action((address: string, options) => run('subscribers-unsubscribe', options, [address]));
  withConfig(subscribers.command('list'))
    .description('list subscribers')
    .addOption(new Option('--status <status>', 'only this status').choices(['pending', 'active', 'unsubscribed', 'bounced']))
    .option('--json', 'one JSON object per line')
    .action((options) => run('subscribers-list', options, []));
  withConfig(subscribers.command('import <file>'))
    .description('import a CSV file (header row with address and name columns)')
    .addOption(new Option('--status <status>', 'status of new addresses').choices(['active', 'pending']).default('active'))
    .option('--json', 'print the result as JSON')
    .action((file: string, options) => run('subscribers-import', options, [file]));
  withConfig(subscribers.command('export'))
    .description('write the list as CSV to stdout')
    .addOption(new Option('--status <status>', 'only this status').choices(['pending', 'active', 'unsubscribed', 'bounced']))
    .action((options) => run('subscribers-export', options, []));

  withConfig(program.command('import <files...>'))
    .description('turn raw article text into content records')
    .option('--published <iso>', 'publication time for texts without a Published: line')
    .option('--source <name>', 'attribution written as the records\' source (e.g. "CBC News"); required')
    .option('--out <dir>', 'where to write the records (default: the content folder)')
    .option('--json', 'print the result as JSON')
    .action((files: string[], options) => run('import', options, files));

  withConfig(program.command('inbox'))
    .description('read returned mail (bounce reports, complaints, mailto unsubscribes) and apply it to the list')
    .option('--maildir <dir>', 'read a Maildir (what the mail server delivers the return domain to)')
    .option('--stdin', 'read one message from standard input (a Postfix pipe transport or .forward); exits 75 when the store is busy')
    .option('--watch', 'with BRIEFING_IMAP_URL: keep reading as mail arrives (IMAP IDLE) until stopped')
    .option('--json', 'print the summary as JSON')
    .action((options) => run('inbox', options, []));

  withConfig(program.command('status'))
    .description("an edition's delivery counts and failures, the next slots and the last editions")
    .addOption(date)
    .option('--json', 'print the result as JSON')
    .action((options) => run('status', options, []));

  return program;
}

/** The version in the package.json beside dist/, which `--version` prints. */
function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** Builds the real parts for a command; the only place that reads the process environment. */
async function createContext(globalOptions: GlobalOptions, stopSignal: AbortSignal, mjml: MjmlRendererAhead): Promise<CliContext> {
  const { loadConfig } = await import('../config.js');
  const { createLogger } = await import('./logger.js');
  const interactive = Boolean(process.stdout.isTTY);
  // Made when a command first logs: a build that has nothing to say does not load pino.
  let made: ReturnType<typeof createLogger> | undefined;
  const logger = (): ReturnType<typeof createLogger> => (made ??= createLogger(Boolean(process.stderr.isTTY)));
  let loaded: ReturnType<typeof loadConfig> | undefined;
  const config = (): ReturnType<typeof loadConfig> => (loaded ??= loadConfig(globalOptions.config, process.env));
  const { createDkimSigner } = await import('../delivery/dkim.js');
  // One signer for the whole command, made when first needed: the key is read and checked once.
  let signer: { value: ReturnType<typeof createDkimSigner> | undefined } | undefined;
  const dkim = (): ReturnType<typeof createDkimSigner> | undefined => {
    if (signer === undefined) {
      const settings = config().env.dkim;
      signer = { value: settings === undefined ? undefined : createDkimSigner(settings) };
    }
    return signer.value;
  };
  return {
    config,
    clock: { now: () => new Date() },
    get logger() {
      return logger();
    },
    interactive,
    print: (line) => process.stdout.write(`${line}\n`),
    printError: (line) => process.stderr.write(`${line}\n`),
    stdin: () => process.stdin,
    openStore: async (options) => {
      const { openStore } = await import('../store/open-store.js');
      return openStore(config(), options);
    },
    createTransport: async (editionId) => {
      const { createTransport } = await import('../delivery/create-transport.js');
      return createTransport(config(), editionId, logger());
    },
    dkim,
    mjml,
    stopSignal,
  };
}

async function loadCommand(name: string): Promise<CommandRunner<Record<string, unknown>> | undefined> {
  try {
    const module = (await import(`./commands/${name}.js`)) as { default: CommandRunner<Record<string, unknown>> };
    return module.default;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(error).includes(`commands/${name}.js`)) {
      return undefined;
    }
    throw error;
  }
}

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  const program = buildProgram(async (name, options, args) => {
    // Set before the command's modules load: V8 grows its young generation from the first busy moments.
    if (name === 'send') (await import('../run/send-heap.js')).keepSendHeapSmall();
    // A send to the subscribers usually renders its edition, and loading MJML is the longest step
    // before its first message: the renderer starts before the command's own modules load.
    const { mjmlRendererAhead } = await import('../email/compile-mjml.js');
    const mjml = mjmlRendererAhead(name === 'send' && options.dryRun !== true && options.to === undefined);
    try {
      await runCommand(name, options, args, mjml);
    } finally {
      mjml.release();
    }
  });
  const runCommand = async (name: string, options: Record<string, unknown>, args: string[], mjml: MjmlRendererAhead): Promise<void> => {
    const runner = await loadCommand(name);
    if (!runner) {
      process.stderr.write(`briefing: the ${name.replace('-', ' ')} command is not built yet\n`);
      exitCode = 2;
      return;
    }
    if (GRACEFUL_COMMANDS.has(name) || (name === 'build' && options.watch === true)) {
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    }
    const context = await createContext(options as unknown as GlobalOptions, stop.signal, mjml);
    if (SIGNING_COMMANDS.has(name) && options.dryRun !== true) {
      const { requireSecret } = await import('../config.js');
      const { env } = context.config();
      requireSecret(env, name, name === 'serve' || name === 'inbox' || env.smtpUrl !== undefined);
    }
    exitCode = (await runner(context, options, args)) ?? 0;
  };
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors with 2.
      return error.exitCode === 0 ? 0 : 2;
    }
    throw error;
  }
  return exitCode;
}

// A reader that goes away (`briefing subscribers export | head`) must not crash the command with an
// unhandled EPIPE: the rest of the output is dropped and the command finishes its work.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (isBriefingError(error)) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = (error as BriefingError).exitCode;
    } else {
      process.stderr.write(`briefing: unexpected error (a bug):\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 70;
    }
  },
).finally(() => {
  // The command is done: a socket a library forgot to close must not keep the process alive.
  setTimeout(() => process.exit(), 2000).unref();
});
