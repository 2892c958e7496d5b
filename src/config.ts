import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { IANAZone } from 'luxon';
import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { BriefingError } from './errors.js';
import { parseYamlSource, type YamlSource, zodProblems } from './yaml-source.js';

const topicSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
  title: z.string().min(1),
  /** A shorter title for the briefing's subject line (default: the title). */
  short: z.string().min(1).optional(),
  /** Words or phrases (case-insensitive, whole words) that put a section or article in this topic. */
  match: z.array(z.string().min(1)).default([]),
  /** How many matches a section needs before it belongs to the topic. */
  minMatches: z.number().int().positive().default(1),
});

const zoneSchema = z.string().refine((zone) => IANAZone.isValidZone(zone), 'is not an IANA time zone');

const durationMinutes = z.number().int().nonnegative();

/** A mail folder as names joined by `/`: no delimiter (`.`), escape (`~`, `&`) or control character in a name. */
const folderPath = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 _-]{0,99}(?:\/[A-Za-z0-9][A-Za-z0-9 _-]{0,99}){0,7}$/, 'must be folder names of letters, digits, spaces, _ and -, joined by /');

/** Returned-mail settings when the configuration leaves them out (or has no `returns` at all). */
export const RETURNS_DEFAULTS = {
  softBounces: 3,
  softBounceWindowDays: 30,
  maxMessageBytes: 5_000_000,
  handledFolder: 'Briefing/Handled',
  unknownFolder: 'Briefing/Unknown',
} as const;

/** Text that goes into mail headers (the subject, From, the list's name): one line, refused here rather than at the first send. */
const headerText = z
  .string()
  .min(1)
  .refine((text) => !/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/.test(text), 'must be one line, without line breaks or control characters');

const fileConfigSchema = z.strictObject({
  title: headerText,
  description: z.string().min(1),
  /** Absolute base URL of the published site; feeds and emails link to it. */
  siteUrl: z.url({ protocol: /^https?$/ }).transform((url) => (url.endsWith('/') ? url : `${url}/`)),
  /** BCP 47 language tag, e.g. `en` or `en-CA`. */
  language: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 language tag'),
  /** Writing direction of the pages and the email; by default the language's (see languageDirection). */
  direction: z.enum(['ltr', 'rtl']).optional(),
  timeZone: zoneSchema,
  author: z.strictObject({ name: headerText, email: z.email().optional(), url: z.url().optional() }),
  sender: z.strictObject({
    name: headerText,
    address: z.email(),
    replyTo: z.email().optional(),
    /** Mailbox that receives `mailto:` unsubscribe requests. */
    unsubscribeAddress: z.email().optional(),
  }),
  /** The postal/footer line every briefing carries. */
  postalAddress: z.string().min(1),
  /** `List-Id` identifier, e.g. `briefing.example.org`. */
  listId: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a domain-like identifier'),
  schedule: z
    .strictObject({
      cron: z.string().min(1).refine((cron) => validateCron(cron), 'is not a cron expression node-cron accepts (5 or 6 fields, seconds first)'),
      catchUpMinutes: durationMinutes.default(360),
    })
    .default({ cron: '0 0 21 * * *', catchUpMinutes: 360 }),
  edition: z
    .strictObject({
      /** Hours before the first edition's date that it covers. */
      firstLookBackHours: z.number().int().positive().default(48),
      /** Sections with no topic go to a general section (true) or are left out (false). */
      generalSection: z.boolean().default(true),
      /**
       * Who of the readers of chosen topics gets the general section: `everyone` (as long as one of
       * their topics has news), or only readers of `every-topic`.
       */
      generalSectionReaders: z.enum(['everyone', 'every-topic']).default('everyone'),
      generalTitle: z.string().min(1).default('Also in the news'),
      /** Send an edition even when nothing is new. */
      sendWhenEmpty: z.boolean().default(false),
      subject: z.string().min(1).default('{{title}}, {{date}}: {{topics}}'),
      preheader: z.string().min(1).default('{{summary}}'),
      maxHtmlBytes: z.number().int().positive().default(102_000),
      /** `digest`: per story its first paragraphs and a link to the full story; `full`: every paragraph. */
      body: z.enum(['digest', 'full']).default('digest'),
    })
    .default({
      firstLookBackHours: 48,
      generalSection: true,
      generalSectionReaders: 'everyone',
      generalTitle: 'Also in the news',
      sendWhenEmpty: false,
      subject: '{{title}}, {{date}}: {{topics}}',
      preheader: '{{summary}}',
      maxHtmlBytes: 102_000,
      body: 'digest',
    }),
  feed: z
    .strictObject({
      /** Articles in the subscription feeds; older ones go to archive feeds. */
      items: z.number().int().positive().default(20),
      archivePageSize: z.number().int().positive().default(20),
    })
    .default({ items: 20, archivePageSize: 20 }),
  delivery: z
    .strictObject({
      concurrency: z.number().int().positive().max(64).default(8),
      messagesPerSecond: z.number().nonnegative().default(0),
      maxAttempts: z.number().int().positive().default(5),
      retryBaseMs: z.number().int().nonnegative().default(2000),
      retryMaxMs: z.number().int().positive().default(300_000),
      leaseSeconds: z.number().int().positive().default(120),
      batchSize: z.number().int().positive().default(200),
      /** Outcomes gathered for one outbox transaction; a kill can repeat up to concurrency + recordBatch messages. */
      recordBatch: z.number().int().positive().max(1000).default(16),
      timeoutMs: z.number().int().positive().default(60_000),
    })
    .default({
      concurrency: 8,
      messagesPerSecond: 0,
      maxAttempts: 5,
      retryBaseMs: 2000,
      retryMaxMs: 300_000,
      leaseSeconds: 120,
      batchSize: 200,
      recordBatch: 16,
      timeoutMs: 60_000,
    }),
  /**
   * Returned mail (bounces, complaints, mailto unsubscribes), read by `briefing inbox`. With a
   * domain, each message's envelope sender is `bounce+TOKEN@domain` and its List-Unsubscribe mailto
   * `unsubscribe+TOKEN@domain`, so what comes back names the delivery; mail for that domain must
   * reach the mailbox `briefing inbox` reads.
   */
  returns: z
    .strictObject({
      domain: z.string().regex(/^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/, 'must be a lower-case domain name'),
      /** Soft bounces (of distinct editions) within the window that make an address bounced. */
      softBounces: z.number().int().positive().max(100).default(RETURNS_DEFAULTS.softBounces),
      softBounceWindowDays: z.number().int().positive().max(365).default(RETURNS_DEFAULTS.softBounceWindowDays),
      /** Returned messages larger than this are left unread in the mailbox, as unknown. */
      maxMessageBytes: z.number().int().positive().max(50_000_000).default(RETURNS_DEFAULTS.maxMessageBytes),
      /**
       * Where handled and unknown mail is moved, as names joined by `/` (IMAP folders with the server's
       * delimiter; Maildir++ `.Briefing.Handled`). Nothing is deleted.
       */
      handledFolder: folderPath.default(RETURNS_DEFAULTS.handledFolder),
      unknownFolder: folderPath.default(RETURNS_DEFAULTS.unknownFolder),
    })
    .optional(),
  content: z
    .strictObject({
      /** Records larger than this are refused unread: a 50 MB body took 15 s and 1.4 GB to build. */
      maxRecordBytes: z.number().int().positive().default(2_000_000),
    })
    .default({ maxRecordBytes: 2_000_000 }),
  topics: z.array(topicSchema).min(1),
  /** CSV of subscribers added to an empty store on first run (the sample list `npm start` sends to). */
  sampleSubscribers: z.string().optional(),
  paths: z
    .strictObject({
      content: z.string().default('content'),
      templates: z.string().default('templates'),
      output: z.string().default('output'),
      data: z.string().default('data'),
    })
    .default({ content: 'content', templates: 'templates', output: 'output', data: 'data' }),
});

/** Scripts written right to left (ISO 15924), Arabic's Nastaliq form (`ur-Aran`) and the historic ones among them. */
const RIGHT_TO_LEFT_SCRIPTS = new Set([
  'Adlm', 'Arab', 'Aran', 'Armi', 'Avst', 'Chrs', 'Elym', 'Hatr', 'Hebr', 'Khar', 'Lydi', 'Mand', 'Mani', 'Mend', 'Narb', 'Nbat', 'Nkoo',
  'Ougr', 'Palm', 'Phli', 'Phlp', 'Phnx', 'Prti', 'Rohg', 'Samr', 'Sarb', 'Sogd', 'Sogo', 'Syrc', 'Thaa', 'Yezi',
]);

/**
 * The writing direction of a BCP 47 language: that of its script, named in the tag (`az-Arab`) or
 * the one the language is most likely written in (`ar`, `fa`, `he`, `ur`, `yi` right to left; `ku`
 * left to right).
 */
export function languageDirection(language: string): 'ltr' | 'rtl' {
  let script: string | undefined;
  try {
    script = new Intl.Locale(language).maximize().script;
  } catch {
    // A tag ICU cannot read (the config's pattern lets a few through): left to right, as before.
  }
  return script !== undefined && RIGHT_TO_LEFT_SCRIPTS.has(script) ? 'rtl' : 'ltr';
}

export type Topic = z.infer<typeof topicSchema>;
export type FileConfig = z.infer<typeof fileConfigSchema>;

/** Who sends BRIEFING_SMTP_URL's mail: Briefing's own pipelined client, or nodemailer (its SMTP pool, sendmail, or Amazon SES). */
type MailTransportKind = 'smtp' | 'nodemailer';

/** Secrets and machine facts: only from the environment. */
export interface EnvironmentConfig {
  smtpUrl: string | undefined;
  /** BRIEFING_IMAP_URL: the mailbox `briefing inbox` reads returned mail from (imap:// or imaps://, credentials in the URL). */
  imapUrl: string | undefined;
  /** BRIEFING_TRANSPORT: Briefing's pipelined SMTP client (default) or nodemailer's transports for BRIEFING_SMTP_URL. */
  transport: MailTransportKind;
  /** BRIEFING_SMTP_OAUTH2_TOKEN: an OAuth2 access token nodemailer logs in with (XOAUTH2, the URL's user) instead of a password. */
  smtpOAuth2Token: string | undefined;
  databaseUrl: string | undefined;
  secret: string;
  /** False when BRIEFING_SECRET was not set and a development key is used. */
  secretFromEnvironment: boolean;
  /** BRIEFING_SECRET_PREVIOUS: the secret before a rotation, accepted (never used to sign) while old links age out. */
  previousSecret: string | undefined;
  dkim: { domain: string; selector: string; privateKey: string } | undefined;
  /** Addresses of reverse proxies whose X-Forwarded-For names the real client (rate limits, logs). */
  trustedProxies: readonly string[];
}

/** Everything a run needs to know, with folders made absolute. */
export interface Config extends Omit<FileConfig, 'paths' | 'sampleSubscribers' | 'direction'> {
  direction: 'ltr' | 'rtl';
  configFile: string;
  paths: { content: string; templates: string; output: string; data: string };
  sampleSubscribers: string | undefined;
  env: EnvironmentConfig;
}

/** Used only when BRIEFING_SECRET is absent and nothing leaves the machine (.eml files), so a fresh clone works. */
const DEVELOPMENT_SECRET = 'briefing-development-secret-not-for-production';

/** Reads the environment variables Briefing knows; the only reader of process.env. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): EnvironmentConfig {
  const dkimKey = env.BRIEFING_DKIM_KEY ?? (env.BRIEFING_DKIM_KEY_FILE ? readFileSync(env.BRIEFING_DKIM_KEY_FILE, 'utf8') : undefined);
  const dkim =
    env.BRIEFING_DKIM_DOMAIN && env.BRIEFING_DKIM_SELECTOR && dkimKey
      ? { domain: env.BRIEFING_DKIM_DOMAIN, selector: env.BRIEFING_DKIM_SELECTOR, privateKey: dkimKey }
      : undefined;
  const secret = env.BRIEFING_SECRET;
  const previousSecret = env.BRIEFING_SECRET_PREVIOUS || undefined;
  for (const [name, value] of [['BRIEFING_SECRET', secret], ['BRIEFING_SECRET_PREVIOUS', previousSecret]] as const) {
    if (value !== undefined && value.length < 16) throw new BriefingError('config', 'weak-secret', `${name} must be at least 16 characters long`);
  }
  const trustedProxies = (env.BRIEFING_TRUSTED_PROXIES ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const notAddress = trustedProxies.find((entry) => isIP(entry) === 0);
  if (notAddress !== undefined) {
    throw new BriefingError('config', 'invalid-trusted-proxy', `BRIEFING_TRUSTED_PROXIES: "${notAddress}" is not an IP address (a comma-separated list of proxy addresses is expected)`);
  }
  const transport = env.BRIEFING_TRANSPORT || 'smtp';
  if (transport !== 'smtp' && transport !== 'nodemailer') {
    throw new BriefingError('config', 'invalid-transport', `BRIEFING_TRANSPORT must be smtp or nodemailer, not "${transport.slice(0, 40)}"`);
  }
  if (transport === 'nodemailer' && !env.BRIEFING_SMTP_URL) {
    throw new BriefingError('config', 'invalid-transport', 'BRIEFING_TRANSPORT=nodemailer needs BRIEFING_SMTP_URL (smtp://…, smtps://…, sendmail: or ses:)');
  }
  const smtpOAuth2Token = env.BRIEFING_SMTP_OAUTH2_TOKEN || undefined;
  // Only nodemailer's SMTP pool speaks XOAUTH2; a token nothing would use must not pass silently.
  if (smtpOAuth2Token !== undefined && (transport !== 'nodemailer' || env.BRIEFING_SMTP_URL?.startsWith('sendmail:') || env.BRIEFING_SMTP_URL?.startsWith('ses:'))) {
    throw new BriefingError('config', 'invalid-oauth2', 'BRIEFING_SMTP_OAUTH2_TOKEN needs BRIEFING_TRANSPORT=nodemailer and an smtp:// or smtps:// BRIEFING_SMTP_URL');
  }
  return {
    smtpUrl: env.BRIEFING_SMTP_URL || undefined,
    imapUrl: env.BRIEFING_IMAP_URL || undefined,
    transport,
    smtpOAuth2Token,
    databaseUrl: env.BRIEFING_DATABASE_URL || undefined,
    secret: secret ?? DEVELOPMENT_SECRET,
    secretFromEnvironment: secret !== undefined,
    previousSecret,
    dkim,
    trustedProxies,
  };
}

const NOT_A_CONFIGURATION = 'a JSON object of settings ("title", "siteUrl", …) was expected here: is --config naming the right file?';

/**
 * The line to name when the text is some other file given to --config (Markdown, a CSV list, front
 * matter): not one object, or an object with none of the settings. Undefined for a configuration,
 * however broken; its own problems then say what is wrong.
 */
function notAConfiguration(text: string, source: YamlSource): number | undefined {
  const firstLine = (): number => {
    const lines = text.split('\n');
    const index = lines.findIndex((line) => line.trim() !== '');
    return index < 0 ? 1 : index + 1;
  };
  if (source.syntaxProblems.length > 0) {
    // Front matter's `---` lines make a second YAML document; a configuration is one.
    return source.syntaxProblems.some((problem) => problem.message.includes('multiple documents')) ? firstLine() : undefined;
  }
  const value = source.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return firstLine();
  const keys = Object.keys(value).filter((key) => key !== '$comment');
  const settings = Object.keys(fileConfigSchema.shape);
  // An empty object is a configuration still to write: its missing settings are the useful answer.
  return keys.length === 0 || keys.some((key) => settings.includes(key)) ? undefined : firstLine();
}

/** The config without its `$comment` fields: JSON has no comments, so an object may carry one (as in JSON Schema). */
function withoutComments(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutComments);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== '$comment').map(([key, field]) => [key, withoutComments(field)]));
}

/**
 * Refuses to go on with the public development key where links leave the machine: `serve` always,
 * and a send, run or schedule whose transport is SMTP (`linksLeaveMachine`). Only `.eml` files may carry them.
 */
export function requireSecret(env: EnvironmentConfig, command: string, linksLeaveMachine: boolean): void {
  if (env.secretFromEnvironment || !linksLeaveMachine) return;
  throw new BriefingError(
    'config',
    'missing-secret',
    `BRIEFING_SECRET is not set: \`briefing ${command}\` would sign links with the public development key; set it to a random value, e.g. BRIEFING_SECRET="$(openssl rand -base64 32)"`,
  );
}

/** Validates a config object; problems name the file, line and field. */
export function parseConfig(text: string, configFile: string, env: EnvironmentConfig): Config {
  const displayName = path.relative(process.cwd(), configFile) || configFile;
  const source = parseYamlSource(text, displayName, 1, 'JSON');
  const notConfig = notAConfiguration(text, source);
  if (notConfig !== undefined) {
    throw BriefingError.fromProblems('config', 'invalid-config', [{ file: displayName, line: notConfig, message: NOT_A_CONFIGURATION }], `${displayName} is not a Briefing configuration`);
  }
  if (source.syntaxProblems.length > 0) {
    throw BriefingError.fromProblems('config', 'invalid-config', source.syntaxProblems, `${displayName} is not valid JSON`);
  }
  const parsed = fileConfigSchema.safeParse(withoutComments(source.value));
  if (!parsed.success) {
    throw BriefingError.fromProblems(
      'config',
      'invalid-config',
      zodProblems(parsed.error, displayName, source, 'is not a setting (check its spelling against the README)'),
      `${displayName} has problems`,
    );
  }
  const base = path.dirname(configFile);
  const { paths, sampleSubscribers, ...rest } = parsed.data;
  const ids = new Set<string>();
  for (const [index, topic] of rest.topics.entries()) {
    if (ids.has(topic.id)) {
      throw BriefingError.fromProblems('config', 'invalid-config', [
        { file: displayName, line: source.lineOf(['topics', index, 'id']), field: `topics.${index}.id`, message: `duplicate topic "${topic.id}"` },
      ]);
    }
    ids.add(topic.id);
  }
  return {
    ...rest,
    direction: rest.direction ?? languageDirection(rest.language),
    configFile,
    paths: {
      content: path.resolve(base, paths.content),
      templates: path.resolve(base, paths.templates),
      output: path.resolve(base, paths.output),
      data: path.resolve(base, paths.data),
    },
    sampleSubscribers: sampleSubscribers === undefined ? undefined : path.resolve(base, sampleSubscribers),
    env,
  };
}

/** Reads and validates `briefing.config.json` (or the file given) plus the environment. */
export function loadConfig(configFile: string, env: NodeJS.ProcessEnv = process.env): Config {
  return readConfigFile(configFile, readEnvironment(env));
}

/** Reads a configuration's file again (it changed), with the environment it was read with. */
export function reloadConfig(config: Config): Config {
  return readConfigFile(path.relative(process.cwd(), config.configFile) || config.configFile, config.env);
}

function readConfigFile(configFile: string, env: EnvironmentConfig): Config {
  const absolute = path.resolve(configFile);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const next = code === 'ENOENT' ? ' (no such file): run `npx briefing init` to start a publication here, or name its config with --config FILE' : '';
    throw new BriefingError('config', 'config-unreadable', `cannot read ${configFile}: ${code ?? String(error)}${next}`, {
      cause: error,
    });
  }
  return parseConfig(text, absolute, env);
}
