/**
 * Printing results as `az` does: `json` (default), `jsonc` (coloured), `yaml`, `yamlc`
 * (coloured), `table` (aligned columns of the scalar fields, with a header), `tsv`
 * (tab-separated values, no header, for scripts) or `none` (nothing: only the exit
 * status tells).
 */
import { yaml } from './yaml.js';

/** The values `--output` takes. */
export const OUTPUT_FORMATS = ['json', 'jsonc', 'yaml', 'yamlc', 'table', 'tsv', 'none'] as const;
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
  if (result === undefined || format === 'none') return '';
  if (format === 'json') return `${JSON.stringify(result, null, 2)}\n`;
  if (format === 'jsonc') return `${colourJson(JSON.stringify(result, null, 2))}\n`;
  if (format === 'yaml' || format === 'yamlc') {
    // Through JSON first, so SDK objects print as their toJSON() and undefined fields vanish.
    const text = yaml().stringify(JSON.parse(JSON.stringify(result)) as unknown, { lineWidth: 0 });
    return format === 'yaml' ? text : colourYaml(text);
  }
  if (isScalar(result)) return `${cell(result)}\n`;
  const rows = rowsOf(result);
  return format === 'table' ? table(rows) : tsv(rows);
}

const CYAN = '\u001b[36m';
const GREEN = '\u001b[32m';
const YELLOW = '\u001b[33m';
const RESET = '\u001b[0m';

/** JSON with keys, strings and other values coloured as az's jsonc colours them. */
function colourJson(text: string): string {
  return text.replace(/("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g, (whole, str: string | undefined, colon: string | undefined, literal: string | undefined, num: string | undefined) => {
    if (str !== undefined) return colon !== undefined ? `${CYAN}${str}${RESET}${colon}` : `${GREEN}${str}${RESET}`;
    return `${YELLOW}${literal ?? num ?? whole}${RESET}`;
  });
}

/** YAML with its keys coloured. */
function colourYaml(text: string): string {
  return text.replace(/^(\s*(?:- )?)([^\s:#][^:\n]*?):(?=\s|$)/gm, (_, lead: string, key: string) => `${lead}${CYAN}${key}${RESET}:`);
}
