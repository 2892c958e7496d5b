/** Stages that raise known errors; the prefix of every message. */
export type Stage =
  | 'config'
  | 'content'
  | 'import'
  | 'edition'
  | 'feed'
  | 'email'
  | 'output'
  | 'store'
  | 'subscribers'
  | 'delivery'
  | 'schedule'
  | 'server'
  | 'returns'
  | 'cli';

/** One problem at a place in a file; several make up a BriefingError. */
export interface Problem {
  file?: string;
  line?: number;
  field?: string;
  message: string;
}

/** Formats a problem as `file:line: field: message`, leaving out the parts it does not have. */
export function formatProblem(problem: Problem): string {
  const where = [problem.file, problem.line].filter((part) => part !== undefined).join(':');
  const parts = [where, problem.field, problem.message].filter((part) => part !== undefined && part !== '');
  return parts.join(': ');
}

/**
 * A known failure: the CLI prints its message (no stack) and exits with `exitCode`.
 * Anything that is not a BriefingError is a bug and is printed with its stack.
 */
export class BriefingError extends Error {
  readonly stage: Stage;
  readonly code: string;
  readonly problems: readonly Problem[];
  readonly exitCode: number;

  constructor(
    stage: Stage,
    code: string,
    message: string,
    options: { cause?: unknown; problems?: readonly Problem[]; exitCode?: number } = {},
  ) {
    super(`${stage}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BriefingError';
    this.stage = stage;
    this.code = code;
    this.problems = options.problems ?? [];
    this.exitCode = options.exitCode ?? 1;
  }

  /** Builds one error that lists every problem, one per line, each as `file:line: field: message`. */
  static fromProblems(stage: Stage, code: string, problems: readonly Problem[], summary?: string): BriefingError {
    const lines = problems.map((problem) => `${stage}: ${formatProblem(problem)}`);
    const head = summary ?? `${problems.length} problem${problems.length === 1 ? '' : 's'} found`;
    const error = new BriefingError(stage, code, [head, ...lines].join('\n'), { problems });
    return error;
  }
}

/** True for errors the CLI reports without a stack. */
export function isBriefingError(error: unknown): error is BriefingError {
  return error instanceof BriefingError;
}

/**
 * The next step when a folder the config names is missing (ENOENT), appended to a read error: a new
 * operator's content or templates folder is usually just not there yet. Other codes get nothing.
 */
export function missingFolderHint(error: unknown, field: 'paths.content' | 'paths.templates'): string {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return '';
  return field === 'paths.content'
    ? ': create the folder, or point paths.content in the config at the records'
    : ': point paths.templates in the config at a folder of Briefing templates (`npx briefing init DIR` writes a set)';
}
