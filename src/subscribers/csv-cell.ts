/**
 * CSV cells as subscriber files carry them (RFC 4180 quoting). A cell a spreadsheet would run as a
 * formula (`=`, `+`, `-`, `@` first) is written with a leading `'`, which the import removes again.
 */

const FORMULA_START = /^[=+\-@]/;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One cell for writing: formula-safe, quoted when needed. */
export function formatCsvCell(value: string | null): string {
  if (value === null || value === '') return '';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One line of cells, without the line break. */
export function formatCsvRow(values: readonly (string | null)[]): string {
  return values.map(formatCsvCell).join(',');
}

/** Undoes the formula guard of `formatCsvCell` on a parsed cell. */
export function readCsvCell(value: string): string {
  return value.startsWith("'") && FORMULA_START.test(value.slice(1)) ? value.slice(1) : value;
}
