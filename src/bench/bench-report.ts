/** One measured figure of the benchmark: a value, the goal it is held to, and whether it met it. */
export interface Figure {
  /** Stable key for the JSON output, e.g. `send.vsSmtpSource`. */
  id: string;
  /** What was measured, in words. */
  name: string;
  /** The figure the goal is about (a ratio, seconds, megabytes…); null when it could not be measured. */
  value: number | null;
  unit: string;
  /** The goal in words, e.g. `≥ 0.5`. */
  goal: string;
  /** True when the goal is met, false when missed, null for figures given for information only. */
  met: boolean | null;
  /** The raw measurements behind the value (rates, times, sizes). */
  detail: Record<string, number | string | boolean>;
  /** Why a figure could not be measured. */
  error?: string;
}

/** A goal a figure is compared with: at least or at most a bound, or a yes/no fact. */
export type Goal = { atLeast: number } | { atMost: number } | { equals: boolean } | { info: true };

/** Builds a figure from its measurement and goal, working out the goal text and whether it is met. */
export function figure(fields: { id: string; name: string; value: number | null; unit: string; goal: Goal; detail?: Figure['detail'] }): Figure {
  const { goal, value } = fields;
  let goalText: string;
  let met: boolean | null;
  if ('atLeast' in goal) {
    goalText = `≥ ${goal.atLeast}`;
    met = value === null ? false : value >= goal.atLeast;
  } else if ('atMost' in goal) {
    goalText = `≤ ${goal.atMost}`;
    met = value === null ? false : value <= goal.atMost;
  } else if ('equals' in goal) {
    goalText = goal.equals ? 'yes' : 'no';
    met = value === null ? false : Boolean(value) === goal.equals;
  } else {
    goalText = '(info)';
    met = null;
  }
  return { id: fields.id, name: fields.name, value, unit: fields.unit, goal: goalText, met, detail: fields.detail ?? {} };
}

/** A figure that could not be measured (a tool missing, a command failing): reported, never thrown. */
export function failedFigure(id: string, name: string, error: unknown): Figure {
  const message = error instanceof Error ? error.message : String(error);
  return { id, name, value: null, unit: '', goal: '', met: false, detail: {}, error: message.split('\n')[0] ?? message };
}

function formatValue(item: Figure): string {
  if (item.value === null) return 'n/a';
  if (item.unit === 'yes/no') return item.value ? 'yes' : 'no';
  const digits = Math.abs(item.value) >= 100 ? 0 : Math.abs(item.value) >= 10 ? 1 : Math.abs(item.value) >= 1 ? 2 : 3;
  // A ratio's sign sticks to its number; other units follow a space.
  const unit = item.unit === '×' || item.unit === '' ? item.unit : ` ${item.unit}`;
  return `${item.value.toFixed(digits)}${unit}`;
}

function formatDetail(detail: Figure['detail']): string {
  return Object.entries(detail)
    .map(([key, value]) => `${key}=${typeof value === 'number' ? (Number.isInteger(value) ? value : value.toFixed(value >= 100 ? 0 : 2)) : value}`)
    .join(' ');
}

/** The figures as an aligned text table: name, value, goal, verdict, and the measurements behind it. */
export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map((item) => [
    item.name,
    formatValue(item),
    item.goal,
    item.met === null ? 'info' : item.met ? 'met' : 'MISSED',
    item.error === undefined ? formatDetail(item.detail) : `error: ${item.error}`,
  ]);
  const header = ['figure', 'value', 'goal', 'result', 'measured'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** The whole run as one JSON document (what `--json` prints). */
export function formatJson(run: { quick: boolean; startedAt: string; durationSeconds: number; machine: Record<string, unknown>; figures: readonly Figure[] }): string {
  return JSON.stringify(run, null, 2);
}
