import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { ATOM_SCHEMA } from '../support/outside-material.js';

const run = promisify(execFile);
const here = path.dirname(new URL(import.meta.url).pathname);


/** Feed files as text: the feed renderers give UTF-8 bytes, the tests read what they say. */
export function feedTexts(files: ReadonlyMap<string, Uint8Array>): Map<string, string> {
  return new Map([...files].map(([relative, bytes]) => [relative, Buffer.from(bytes).toString('utf8')]));
}

/** Writes feed files (path relative to output/ → text) into a fresh temporary folder; returns it. */
export function writeToTemporaryFolder(files: ReadonlyMap<string, string>): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'briefing-feeds-'));
  for (const [relative, text] of files) {
    mkdirSync(path.dirname(path.join(folder, relative)), { recursive: true });
    writeFileSync(path.join(folder, relative), text);
  }
  return folder;
}

interface Detail {
  value: string | null;
  type: string | null;
}

interface HtmlView {
  tags: string[];
  text: string;
}

interface ElementView {
  text: string;
  children: string[];
  type: string | null;
}

/** What feedparser (the reader's view) and a strict XML parser saw in one feed file. */
export interface FeedView {
  file: string;
  reader: {
    bozo: number;
    bozoException: string | null;
    version: string;
    feed: {
      title: string;
      language: string | null;
      updated: string | null;
      updatedParsed: number[] | null;
      links: Array<{ rel: string; href: string; type: string | null }>;
    };
    entries: Array<{
      id: string;
      title: Detail;
      titleHtml: HtmlView | null;
      link: string;
      published: string | null;
      publishedParsed: number[] | null;
      updated: string | null;
      updatedParsed: number[] | null;
      summary: Detail;
      summaryHtml: HtmlView;
      content: Detail;
      contentHtml: HtmlView;
      author: string | null;
      tags: string[];
    }>;
  };
  xml: {
    error?: string;
    root: string;
    lang: string | null;
    archive: boolean;
    problems: string[];
    entries: Array<{ title: ElementView | null; summary: ElementView | null }>;
  };
}

/** Parses feed files with Debian's python3-feedparser and xml.etree (one Python process for all). */
export async function readFeeds(files: string[]): Promise<FeedView[]> {
  const { stdout } = await run('/usr/bin/python3', [path.join(here, 'dump-feed.py'), ...files], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as FeedView[];
}

/**
 * Validates Atom files with jing against a RELAX NG schema: the repository's schema of RFC 4287 by
 * default, or the RFC's own (`REFERENCE.atomSchema`) in the conformance pass; exit code 0 means valid.
 */
export async function validateAtom(files: string[], schema: string = ATOM_SCHEMA): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('jing', ['-c', schema, ...files]);
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/** Validates a JSON feed against the JSON Feed 1.1 schema of the jsonfeed-schema package; returns the errors. */
export function jsonFeedErrors(document: unknown): string[] {
  const schema = createRequire(import.meta.url)('jsonfeed-schema/v1.1') as object;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return validate(document) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`);
}
