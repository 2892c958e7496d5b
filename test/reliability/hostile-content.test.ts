import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DomUtils, parseDocument } from 'htmlparser2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, type Workspace } from '../support/cli-workspace.js';
import { ATOM_SCHEMA, conformance, REFERENCE } from '../support/outside-material.js';
import { parseMail, type ParsedMail } from '../support/parse-mail.js';
import { startFaultServer, type FaultServer } from './support/fault-smtp-server.js';
import { listFiles } from './support/output-check.js';
import { bidiLeaks, unsafeFeed, unsafeJsonFeed, unsafeMarkup } from './support/markup-check.js';
import { EDITION, SECRET } from './support/publication.js';

/**
 * Hostile text in every field a writer or a subscriber controls, pushed through the real commands
 * (subscribers import, build, preview, send): nothing of it may come out as markup, a header or an
 * invalid document. Each payload carries an `XSS-…` marker, so a finding names where it came from.
 */

const RLO = '\u202e';
/** One-line fields that leave a bidi override open: whatever the page puts after them must not turn. */
const TITLE = `<script>alert('XSS-title')</script> "><img src=x onerror=alert('XSS-title2')> ]]> & ${RLO}live talks`;
const SOURCE = `<b onmouseover=alert('XSS-source')>Desk</b> ]]> \u2067isolated`;
const HOSTILE_RECORD = [
  '---',
  `title: ${JSON.stringify(TITLE)}`,
  'published: 2025-07-23T20:59:00+03:00',
  `source: ${JSON.stringify(SOURCE)}`,
  `kicker: ${JSON.stringify('<i>XSS-kicker</i> ]]>')}`,
  `summary: ${JSON.stringify(`${RLO}<script>XSS-summary</script> ]]> =?utf-8?q?=0D=0ABcc:_evil@example.org?= %0d%0aBcc: evil@example.org\u2028X-Injected: 1 talks`)}`,
  `url: ${JSON.stringify('https://example.org/story?a=1&b="><script>XSS-url</script>')}`,
  'image:',
  `  url: ${JSON.stringify("https://example.org/x.png?\"onerror=alert('XSS-image')")}`,
  `  alt: ${JSON.stringify("\"><svg onload=alert('XSS-alt')>")}`,
  `  caption: ${JSON.stringify("<iframe src=javascript:alert('XSS-caption')></iframe> ]]>")}`,
  `  credit: ${JSON.stringify("<a href=javascript:alert('XSS-credit')>me</a>")}`,
  'videos:',
  `  - title: ${JSON.stringify('<script>XSS-video</script>')}`,
  `    url: ${JSON.stringify('https://example.org/v?<script>XSS-video-url</script>')}`,
  '---',
  // The lede: the edition's subject and preheader are made from it.
  `The talks went on ${RLO}evil =?utf-8?q?=0D=0ABcc:_evil@example.org?= %0d%0aBcc: evil@example.org\u2028X-Injected: 1 \u0085Y: 2 <script>alert('XSS-body')</script> <img src=x onerror="alert('XSS-body2')"> ]]> <![CDATA[ x ]]> end.`,
  '',
  "[click](javascript:alert('XSS-link')) [data](data:text/html;base64,PHNjcmlwdD5YU1M8L3NjcmlwdD4=) <a href=\"javascript:alert('XSS-a')\" onclick=\"XSS-onclick\">raw</a> ![i](data:image/svg+xml,<svg onload=alert('XSS-svg')>) [vb](vbscript:XSS-vb)",
  '',
  `Bidi ${RLO}evil and \u2066isolate, controls NUL\u0000 BEL\u0007 ESC\u001b VT\u000b DEL\u007f C1\u0085 end.`,
  '',
  "## <script>XSS-heading</script> ]]> talks",
  '',
  "<style>@import 'XSS-style';</style><math><mi xlink:href=\"javascript:XSS-math\">m</mi></math> <form action=\"javascript:XSS-form\"><button formaction=\"javascript:XSS-button\">b</button></form> <div style=\"background:url(javascript:XSS-css)\">d</div>",
  '',
].join('\n');

/** A paragraph of a megabyte and 10,000 tags with event handlers. */
function hugeRecord(): string {
  const words = ['talks', 'ceasefire', '<b>bold</b>', '&amp;', ']]>', `${RLO}evil`, 'Istanbul', 'the', 'of', '<script>XSS-huge</script>'];
  const paragraph = Array.from({ length: 150_000 }, (_, index) => words[(index * 7919) % words.length]).join(' ');
  const tags = Array.from({ length: 10_000 }, (_, index) => `<span class="XSS-span" onclick="XSS-tag-${index}">t</span>`).join('');
  return `---\ntitle: A story of a megabyte about the talks\npublished: 2025-07-23T20:50:00+03:00\nsource: Test desk\n---\n${paragraph}\n\n${tags}\n\nEnd.\n`;
}

/** Names that must arrive as they are, as text; and names the import must refuse. */
const ACCEPTED_NAMES = [
  "<script>alert('XSS-name')</script>",
  "\"><img src=x onerror=alert('XSS-name2')>",
  'Zoë ]]> & <b>bold</b>',
  '=?utf-8?q?Evil=0D=0ABcc:_evil@example.org?=',
  '%0d%0aBcc: evil@example.org',
  'Mallory <mallory@evil.example>, Bcc: x@evil.example',
  'Back\\slash "quoted" name',
  "=cmd|' /C calc'!A0",
];
const REFUSED_NAMES = ['Line\r\nBcc: evil@example.org', 'Nul\u0000byte', `${RLO}evil`, 'Line\u2028separator', 'Tab\there'];

const csvCell = (value: string): string => `"${value.replace(/"/g, '""')}"`;

let workspace: Workspace;
let server: FaultServer;
let output: string;
const runs: Record<string, { code: number | null; stdout: string; stderr: string }> = {};
let mails: ParsedMail[] = [];

beforeAll(async () => {
  workspace = await createWorkspace({
    configure: (config) => {
      // The lede's summary goes into the subject and preheader, so article text reaches a header.
      config.edition = { ...(config.edition as object), subject: '{{title}}: {{summary}}', preheader: '{{summary}}', maxHtmlBytes: 8_000_000 };
    },
  });
  writeFileSync(path.join(workspace.root, 'content', '2025-07-23-hostile.md'), HOSTILE_RECORD);
  writeFileSync(path.join(workspace.root, 'content', '2025-07-23-huge.md'), hugeRecord());
  const rows = [...ACCEPTED_NAMES, ...REFUSED_NAMES].map((name, index) => `reader${index + 1}@example.com,${csvCell(name)}`);
  writeFileSync(path.join(workspace.root, 'list.csv'), `address,name\n${rows.join('\n')}\n`);
  server = await startFaultServer({ seed: 1, temporaryRate: 0, resetRate: 0, stallRate: 0, unknownUsers: new Set(), oversized: new Set() }, { keepRaw: true });
  const env = { BRIEFING_SECRET: SECRET, BRIEFING_SMTP_URL: server.url };
  runs.import = await workspace.run(['subscribers', 'import', 'list.csv'], env);
  // A file with a bad line imports nothing; the list without the refused names imports.
  writeFileSync(path.join(workspace.root, 'accepted.csv'), `address,name\n${rows.slice(0, ACCEPTED_NAMES.length).join('\n')}\n`);
  runs.importAccepted = await workspace.run(['subscribers', 'import', 'accepted.csv'], env);
  runs.build = await workspace.run(['build'], env);
  runs.preview = await workspace.run(['preview', '--date', EDITION], env);
  runs.send = await workspace.run(['send', '--date', EDITION, '--json'], env);
  output = path.join(workspace.root, 'output');
  mails = parseMail(server.raws);
}, 120_000);

afterAll(async () => {
  await server?.close();
  workspace?.remove();
});

const read = (file: string): string => readFileSync(path.join(output, file), 'utf8');

describe('hostile content from records and subscribers, end to end', () => {
  it('imports the hostile names as they are and refuses (importing nothing of the file) those with control, line-separator or bidi characters, naming file, line and field', () => {
    expect(runs.import?.code).toBe(1);
    const stderr = runs.import?.stderr ?? '';
    // Line 1 is the header; the quoted CR LF makes its row two lines long.
    const first = ACCEPTED_NAMES.length + 2;
    const lines = [first, first + 2, first + 3, first + 4, first + 5];
    for (const line of lines) expect(stderr).toMatch(new RegExp(`list\\.csv:${line}: name: contains a control character`));
    expect(stderr.match(/name: contains a control character/g)).toHaveLength(REFUSED_NAMES.length);
    expect(runs.import?.stdout).toMatch(/imported 0,/);
    expect(runs.importAccepted?.code).toBe(0);
    expect(runs.importAccepted?.stdout).toMatch(new RegExp(`imported ${ACCEPTED_NAMES.length},`));
  });

  it('builds, previews and sends without a crash', () => {
    for (const name of ['build', 'preview', 'send']) expect(runs[name]?.code, `${name}: ${runs[name]?.stderr}`).toBe(0);
    expect(JSON.parse(runs.send?.stdout ?? '{}')).toMatchObject({ complete: true, counts: { sent: ACCEPTED_NAMES.length, failed: 0 } });
  });

  it('puts no markup of the content in any page: article pages, home page, the web version', () => {
    const pages = listFiles(output).filter((file) => file.endsWith('.html'));
    expect(pages).toEqual(expect.arrayContaining(['index.html', 'articles/2025-07-23-hostile.html', 'articles/2025-07-23-huge.html', `editions/${EDITION}/index.html`]));
    for (const page of pages) expect(unsafeMarkup(read(page), { page: true }), page).toEqual([]);
    // Nor a control character (NUL, ESC, DEL, C1 …): HTML forbids them, XML 1.0 forbids or discourages them.
    for (const file of listFiles(output).filter((name) => /\.(html|xml|json|txt|eml)$/.test(name))) {
      const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.exec(read(file));
      expect(control === null, `${file}: U+${control?.[0].codePointAt(0)?.toString(16)}`).toBe(true);
    }
    // The hostile title is still there, as the words it was.
    const heading = DomUtils.textContent(DomUtils.findOne((element) => element.name === 'h1', parseDocument(read('articles/2025-07-23-hostile.html')).children) ?? []);
    expect(heading).toContain("<script>alert('XSS-title')</script>");
  });

  it('keeps every feed valid and free of injected markup: Atom by RFC 4287 (jing), RSS and Atom by feedparser (bozo 0), JSON Feed', () => {
    const feeds = listFiles(output).filter((file) => /\.(xml|json)$/.test(file) && !file.startsWith('.'));
    expect(feeds).toEqual(expect.arrayContaining(['feed.xml', 'atom.xml', 'feed.json']));
    for (const feed of feeds) {
      const text = read(feed);
      expect(feed.endsWith('.json') ? unsafeJsonFeed(text) : unsafeFeed(text), feed).toEqual([]);
    }
    const atoms = feeds.filter((file) => /atom(-\d+)?\.xml$/.test(file));
    const jing = spawnSync('jing', ['-c', ATOM_SCHEMA, ...atoms], { cwd: output, encoding: 'utf8' });
    expect(jing.status, jing.stdout + jing.stderr).toBe(0);
    const script = 'import feedparser,sys,json\nprint(json.dumps([[f, int(d.bozo), str(d.get("bozo_exception","")), len(d.entries)] for f in sys.argv[1:] for d in [feedparser.parse(f)]]))';
    const parsed = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, ...feeds.filter((file) => file.endsWith('.xml'))], { cwd: output, encoding: 'utf8', maxBuffer: 1 << 28 })) as Array<[string, number, string, number]>;
    for (const [file, bozo, why, entries] of parsed) {
      expect(bozo, `${file}: ${why}`).toBe(0);
      // The editions feeds list the editions `run` published: none in this publication, so they may be empty.
      if (!file.startsWith('editions/')) expect(entries, file).toBeGreaterThan(0);
    }
  });

  conformance("keeps every Atom feed valid by RFC 4287's own schema", [REFERENCE.atomSchema], () => {
    const atoms = listFiles(output).filter((file) => /atom(-\d+)?\.xml$/.test(file));
    expect(atoms.length).toBeGreaterThan(0);
    const jing = spawnSync('jing', ['-c', REFERENCE.atomSchema, ...atoms], { cwd: output, encoding: 'utf8' });
    expect(jing.status, jing.stdout + jing.stderr).toBe(0);
  });

  it('sends each subscriber one well-formed message whose headers are exactly the expected ones, the name intact as text', () => {
    expect(mails).toHaveLength(ACCEPTED_NAMES.length);
    const expectedHeaders = ['content-type', 'date', 'from', 'list-id', 'list-unsubscribe', 'list-unsubscribe-post', 'message-id', 'mime-version', 'subject', 'to'];
    const names = new Set<string>();
    for (const mail of mails) {
      expect(mail.defects, mail.file).toEqual([]);
      expect(Object.keys(mail.headers).sort()).toEqual(expectedHeaders);
      for (const [name, values] of Object.entries(mail.headers)) {
        expect(values, name).toHaveLength(1);
        expect(values[0], name).not.toMatch(/[\r\n\u0000\u2028\u2029\u202a-\u202e]/);
      }
      expect(mail.bareLineFeeds).toBe(0);
      expect(mail.maxLineLength).toBeLessThanOrEqual(998);
      const [to] = mail.addresses.to ?? [];
      expect(mail.addresses.to).toHaveLength(1);
      names.add(to?.name ?? '');
      expect(mail.headers.subject?.[0]).toMatch(/^Briefing: /);
      const html = mail.parts.find((part) => part.type === 'text/html')?.content ?? '';
      expect(unsafeMarkup(html, { page: true }), mail.file).toEqual([]);
      const text = mail.parts.find((part) => part.type === 'text/plain')?.content ?? '';
      const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.exec(text);
      expect(control === null, `U+${control?.[0].codePointAt(0)?.toString(16)} in the text part: ${JSON.stringify(text.slice(Math.max(0, (control?.index ?? 0) - 40), (control?.index ?? 0) + 20))}`).toBe(true);
    }
    expect([...names].sort()).toEqual([...ACCEPTED_NAMES].sort());
  });

  it('carries the hostile summary into the subject as one line of text: no line break, no bidi override, no decoded newline', () => {
    const subject = mails[0]?.headers.subject?.[0] ?? '';
    expect(subject).toContain('The talks went on evil =?utf-8?q?=0D=0ABcc:_evil@example.org?= %0d%0aBcc: evil@example.org X-Injected: 1 Y: 2 <script>');
    expect(subject).not.toContain(RLO);
  });

  it('never lets a bidi override from one field run on into the text after it', () => {
    const pages = [...listFiles(output).filter((file) => file.endsWith('.html')).map((file) => [file, read(file)]), ...mails.map((mail) => [mail.file, mail.parts.find((part) => part.type === 'text/html')?.content ?? ''])];
    // The check can fail: the title as is, followed by the site name.
    expect(bidiLeaks(`<title>${TITLE.replace(/</g, '&lt;')} · Briefing</title>`, [TITLE])).toHaveLength(1);
    for (const [page, html] of pages) expect(bidiLeaks(html ?? '', [TITLE, SOURCE]), page).toEqual([]);
  });
});
