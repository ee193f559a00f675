/**
 * `--query`: the part of JMESPath that scripts use most, as az takes it. A path of field
 * names and indexes — `accessToken`, `properties.roleName`, `[0].appId`, `value[-1]` —
 * and `[]` to project the rest of the path over a list: `[].name`, `[].properties.scope`.
 * As in JMESPath, a field of something that is not an object (a list, say) is null.
 */
import { InvalidArgumentError } from 'commander';

/** One step of a compiled query. */
export type QueryStep = { field: string } | { index: number } | { project: true };

/** A compiled `--query`, as {@link parseQuery} returns it. */
export interface Query {
  text: string;
  steps: QueryStep[];
}

const STEP = /^(?:\.?([A-Za-z_][A-Za-z0-9_$@-]*)|\.?"((?:[^"\\]|\\.)*)"|\[(-?\d+)\]|\[\])/;

/** Compiles a query; a syntax error is a usage error naming what it could not read. */
export function parseQuery(text: string): Query {
  const steps: QueryStep[] = [];
  let rest = text.trim();
  if (rest === '') throw new InvalidArgumentError('It must be a field name or a path such as properties.roleName or [0].appId.');
  let first = true;
  while (rest !== '') {
    const match = STEP.exec(rest);
    // A leading dot is only allowed between steps.
    if (!match || (first && rest.startsWith('.'))) {
      throw new InvalidArgumentError(`Cannot read the query at '${rest.slice(0, 40)}': use field names joined by '.', [n] indexes and [] projections.`);
    }
    if (match[1] !== undefined) steps.push({ field: match[1] });
    else if (match[2] !== undefined) steps.push({ field: match[2].replace(/\\(.)/g, '$1') });
    else if (match[3] !== undefined) steps.push({ index: Number(match[3]) });
    else steps.push({ project: true });
    rest = rest.slice(match[0].length);
    first = false;
  }
  return { text, steps };
}

function evaluate(value: unknown, steps: QueryStep[]): unknown {
  let current = value;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (current === null || current === undefined) return null;
    if ('field' in step) {
      current = typeof current === 'object' && !Array.isArray(current) && Object.hasOwn(current, step.field) ? (current as Record<string, unknown>)[step.field] : null;
    } else if ('index' in step) {
      if (!Array.isArray(current)) return null;
      current = current.at(step.index) ?? null;
    } else {
      if (!Array.isArray(current)) return null;
      const rest = steps.slice(i + 1);
      // A projection drops the items whose result is null, as JMESPath does.
      return current.map((item) => evaluate(item, rest)).filter((item) => item !== null && item !== undefined);
    }
  }
  return current ?? null;
}

/**
 * The part of `result` that `query` selects.
 * @example applyQuery({ accessToken: 'eyJ…', tenant: 't' }, parseQuery('accessToken')) // 'eyJ…'
 */
export function applyQuery(result: unknown, query: Query): unknown {
  return evaluate(result, query.steps);
}
