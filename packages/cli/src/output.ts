/**
 * Printing results as `az` does: `json` (default), `table` (aligned columns of the scalar
 * fields, with a header) or `tsv` (tab-separated values, no header, for scripts).
 */

/** The values `--output` takes. */
export const OUTPUT_FORMATS = ['json', 'table', 'tsv'] as const;
/** One of {@link OUTPUT_FORMATS}. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

type Scalar = string | number | boolean | null | undefined;

function isScalar(value: unknown): value is Scalar {
  return value === null || value === undefined || ['string', 'number', 'boolean'].includes(typeof value);
}

function cell(value: Scalar): string {
  return value === null || value === undefined ? '' : String(value).replace(/[\t\r\n]+/g, ' ');
}

/** What an SDK object prints as: its `toJSON()` (as json output has it), not its private fields. */
function plain(item: unknown): unknown {
  const toJSON = (item as { toJSON?: unknown } | null | undefined)?.toJSON;
  return typeof toJSON === 'function' ? (toJSON as () => unknown).call(item) : item;
}

/** The rows a result prints as: an array's items, or the object itself. */
function rowsOf(result: unknown): Record<string, unknown>[] {
  const items = Array.isArray(result) ? result : [result];
  return items.map(plain).map((item) => (item !== null && typeof item === 'object' ? (item as Record<string, unknown>) : { value: item }));
}

/** Fields that hold a scalar in every row that has them, in first-seen order. */
function columnsOf(rows: Record<string, unknown>[]): string[] {
  const columns: string[] = [];
  const nested = new Set<string>();
  for (const row of rows) {
    for (const [key, value] of Object.entries(row)) {
      if (!isScalar(value)) nested.add(key);
      else if (!columns.includes(key)) columns.push(key);
    }
  }
  return columns.filter((c) => !nested.has(c));
}

/** `userName` → `UserName`, as az titles its table columns. */
function title(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}

function table(rows: Record<string, unknown>[]): string {
  const columns = columnsOf(rows);
  if (rows.length === 0 || columns.length === 0) return '';
  const grid = [columns.map(title), ...rows.map((row) => columns.map((c) => cell(row[c] as Scalar)))];
  const widths = columns.map((_, i) => Math.max(...grid.map((line) => line[i]!.length)));
  const line = (cells: string[]) => cells.map((text, i) => (i === cells.length - 1 ? text : text.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(grid[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...grid.slice(1).map(line)].join('\n') + '\n';
}

function tsv(rows: Record<string, unknown>[]): string {
  const columns = columnsOf(rows);
  return rows.map((row) => columns.map((c) => cell(row[c] as Scalar)).join('\t') + '\n').join('');
}

/**
 * The text to print for a command's result; empty for none (a delete).
 * @example formatOutput([{ id: '1', userName: 'ada' }], 'tsv') // '1\tada\n'
 */
export function formatOutput(result: unknown, format: OutputFormat): string {
  if (result === undefined) return '';
  if (format === 'json') return `${JSON.stringify(result, null, 2)}\n`;
  if (isScalar(result)) return `${cell(result)}\n`;
  const rows = rowsOf(result);
  return format === 'table' ? table(rows) : tsv(rows);
}
