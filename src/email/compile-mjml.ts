import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MJMLParseError } from 'mjml-core';
import { BriefingError, isBriefingError, type Problem, type Stage } from '../errors.js';
import type { TemplateSource } from './briefing-templates.js';

/** Tags a partial may start with, and the wrapper that makes it a whole document for validation. */
const WRAPPERS: ReadonlyArray<{ tags: RegExp; open: string; close: string }> = [
  { tags: /^(mjml)$/, open: '', close: '' },
  { tags: /^(mj-head|mj-body)$/, open: '<mjml>', close: '</mjml>' },
  { tags: /^(mj-section|mj-wrapper|mj-hero|mj-raw)$/, open: '<mjml><mj-body>', close: '</mj-body></mjml>' },
  { tags: /^(mj-column|mj-group)$/, open: '<mjml><mj-body><mj-section>', close: '</mj-section></mj-body></mjml>' },
  { tags: /./, open: '<mjml><mj-body><mj-section><mj-column>', close: '</mj-column></mj-section></mj-body></mjml>' },
];

type Compile = (mjml: string, options: object) => Promise<{ html: string }>;

/** What the renderer process sends back: the HTML of each document, or the BriefingError's parts (or another error's message). */
export type MjmlReply = { html: string[] } | { error: { stage: Stage; code: string; message: string; problems: readonly Problem[] } | { message: string } };

/**
 * The renderer script of the compiled program (dist/). Tests that run the TypeScript sources have
 * no compiled script and compile in their own process; the compiled program always uses the child
 * process, so a broken one fails loudly (the CLI tests run dist/).
 */
const RENDERER = import.meta.url.endsWith('.ts') ? undefined : fileURLToPath(new URL('./mjml-process.js', import.meta.url));

/** A renderer made ready ahead of its one compile (see startMjmlRenderer). */
export interface MjmlRenderer {
  /** Compiles the documents, as compileMjml does; a renderer compiles once. */
  compile(documents: readonly string[], sources: readonly TemplateSource[]): Promise<string[]>;
  /** Stops a renderer that was not used (nothing to render after all); harmless after compile. */
  close(): void;
}

/**
 * Starts the renderer process now, so that it loads MJML (most of a render's time) on another core
 * while the caller still loads and plans the content; its one compile then costs only the compile.
 * A caller that ends up with nothing to render closes it.
 */
export function startMjmlRenderer(): MjmlRenderer {
  if (RENDERER === undefined) return { compile: compileAll, close: () => undefined };
  const child = fork(RENDERER, [], { stdio: ['ignore', 2, 'inherit', 'ipc'], execArgv: [], serialization: 'advanced' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Its failure to start is told by compile; unused, it must not be an unhandled error.
  child.on('error', () => undefined);
  let used = false;
  return {
    async compile(documents, sources) {
      if (used) throw new Error('an MJML renderer compiles once');
      used = true;
      const reply = await new Promise<MjmlReply>((resolve, reject) => {
        child.once('message', (message) => resolve(message as MjmlReply));
        child.once('error', reject);
        child.once('exit', (code, signal) => reject(new Error(`the MJML renderer stopped (${signal ?? `exit code ${code}`}) before it replied`)));
        child.send({ documents, sources });
      }).finally(() => {
        if (child.connected) child.disconnect();
      });
      // Reaped before the send goes on, so no renderer outlives the edition it rendered.
      await exited;
      return fromReply(reply);
    },
    close() {
      if (!used && child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}

/**
 * The renderer of a command's one render, which may be started before the command knows it will
 * render: a send usually does, and loading MJML is the longest step before its first message, so the
 * composition root starts it as the command begins. `take` gives it (started now if it was not, or
 * was taken already); `release` stops one started ahead and never taken (nothing to render after all).
 */
export interface MjmlRendererAhead {
  take(): MjmlRenderer;
  release(): void;
}

export function mjmlRendererAhead(startNow: boolean): MjmlRendererAhead {
  let ahead = startNow ? startMjmlRenderer() : undefined;
  return {
    take() {
      const renderer = ahead ?? startMjmlRenderer();
      ahead = undefined;
      return renderer;
    },
    release() {
      ahead?.close();
      ahead = undefined;
    },
  };
}

/**
 * Compiles filled MJML documents (the email and its web version) to HTML with validation level
 * strict (see compileMjmlHere). In the compiled program this runs in one child process that exits
 * afterwards: MJML's modules and what its compiler allocates (some 40 MB, partly kept by the
 * allocator after it is freed) would otherwise stay in the process that sends for its whole run, and
 * one child for all documents pays MJML's start-up once. Its output goes to stderr, never into
 * `--json` output. `renderer`: one started ahead (startMjmlRenderer), else one is started now.
 */
export async function compileMjml(documents: readonly string[], sources: readonly TemplateSource[], renderer?: MjmlRenderer): Promise<string[]> {
  return (renderer ?? startMjmlRenderer()).compile(documents, sources);
}

/** The HTML of a renderer's reply, or its error thrown again in this process. */
function fromReply(reply: MjmlReply): string[] {
  if ('html' in reply) return reply.html;
  const { error } = reply;
  if ('stage' in error) {
    // The message carries its stage prefix already.
    throw new BriefingError(error.stage, error.code, error.message.slice(error.stage.length + 2), { problems: error.problems });
  }
  throw new Error(error.message);
}

/** Each document compiled in turn (MJML's compiler is synchronous work: nothing to gain in parallel). */
async function compileAll(documents: readonly string[], sources: readonly TemplateSource[]): Promise<string[]> {
  const html: string[] = [];
  for (const filled of documents) html.push(await compileMjmlHere(filled, sources));
  return html;
}

/** The reply of compileAll, in the form the renderer process can send. */
export async function compileToReply(documents: readonly string[], sources: readonly TemplateSource[]): Promise<MjmlReply> {
  try {
    return { html: await compileAll(documents, sources) };
  } catch (error) {
    if (isBriefingError(error)) return { error: { stage: error.stage, code: error.code, message: error.message, problems: error.problems } };
    return { error: { message: error instanceof Error ? (error.stack ?? error.message) : String(error) } };
  }
}

/**
 * Compiles filled MJML to HTML with validation level strict, in this thread. MJML is imported on
 * first use so commands that do not render stay fast to start. When validation fails, each problem
 * names the template file and line: the templates are validated as written (mustaches are plain
 * text to MJML), and any error seen only after filling is traced to the template line that produced it.
 */
async function compileMjmlHere(filled: string, sources: readonly TemplateSource[]): Promise<string> {
  const compile = ((await import('mjml')) as unknown as { default: Compile }).default;
  const options = { validationLevel: 'strict', fonts: {}, keepComments: false, ignoreIncludes: true };
  try {
    return (await compile(filled, options)).html;
  } catch (error) {
    const errors = (error as { errors?: MJMLParseError[] }).errors;
    const main = sources[0]?.file ?? 'briefing.mjml';
    if (!Array.isArray(errors)) {
      throw new BriefingError('email', 'invalid-template', `${main}: MJML could not compile it: ${(error as Error).message}`, { cause: error });
    }
    const raw = (await Promise.all(sources.map((source) => validateRaw(compile, options, source)))).flat();
    const filledLines = filled.split('\n');
    const traced = errors
      .filter((found) => !raw.some((problem) => problem.field === found.tagName))
      .map((found) => traceToTemplate(found, filledLines, sources, main));
    throw BriefingError.fromProblems('email', 'invalid-template', [...raw, ...traced], `${main} does not compile with MJML (validation level strict)`);
  }
}

/** Validates one template file as written; its problems carry the file's own line numbers. */
async function validateRaw(compile: Compile, options: object, source: TemplateSource): Promise<Problem[]> {
  const firstTag = /<(mj[a-z-]*)/.exec(source.text)?.[1] ?? 'mj-text';
  const wrapper = WRAPPERS.find((candidate) => candidate.tags.test(firstTag)) ?? WRAPPERS[WRAPPERS.length - 1];
  // The opening wrapper sits on the template's first line, so line numbers stay the file's.
  const document = `${wrapper?.open ?? ''}${source.text}${wrapper?.close ?? ''}`;
  try {
    await compile(document, options);
    return [];
  } catch (error) {
    const errors = (error as { errors?: MJMLParseError[] }).errors ?? [];
    return errors.map((found) => ({ file: source.file, line: found.line, field: found.tagName, message: found.message }));
  }
}

/**
 * Finds the template line that produced a line of the filled MJML: a line holding the same tag
 * whose fixed text (around its mustaches) matches. Falls back to the line of the filled MJML.
 */
function traceToTemplate(found: MJMLParseError, filledLines: readonly string[], sources: readonly TemplateSource[], main: string): Problem {
  const produced = filledLines[found.line - 1]?.trim() ?? '';
  for (const source of sources) {
    const lines = source.text.split('\n');
    for (const [index, line] of lines.entries()) {
      if (!line.includes(`<${found.tagName}`)) {
        continue;
      }
      const pattern = line
        .trim()
        .split(/\{\{\{?[\s\S]*?\}\}\}?/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[\\s\\S]*?');
      if (new RegExp(`^${pattern}$`).test(produced)) {
        return { file: source.file, line: index + 1, field: found.tagName, message: `${found.message} (filled MJML line ${found.line})` };
      }
    }
  }
  return { file: `${main} (filled)`, line: found.line, field: found.tagName, message: `${found.message}: ${produced.slice(0, 120)}` };
}
