/**
 * `--query`: JMESPath (the language az uses; @jmespath-community/jmespath, whose parser is
 * strict where the older `jmespath` package accepts `a..b` and fails when it runs), applied to exactly
 * the JSON that `-o json` prints — so `--query scoringUri -o tsv` sees the same fields the
 * JSON shows, whatever SDK object a command returned. Filters (`[?state=='Healthy']`),
 * multiselects (`{name:name, uri:scoringUri}`), projections and functions all work. The
 * query is compiled when the option is read: a syntax error is a usage error (exit 2).
 */
import { InvalidArgumentError } from 'commander';
import { compile, search } from '@jmespath-community/jmespath';
import { UsageError } from './usageError.js';

/** A compiled `--query`, as {@link parseQuery} returns it. */
export interface Query {
  text: string;
}

/** Compiles a query; a syntax error is a usage error naming where it is. */
export function parseQuery(text: string): Query {
  if (text.trim() === '') throw new InvalidArgumentError('It must be a JMESPath expression, such as accessToken, [].name or [?state==`Healthy`].name.');
  try {
    compile(text);
  } catch (err) {
    throw new InvalidArgumentError(`It is not a valid JMESPath expression: ${(err as Error).message.slice(0, 200)}`);
  }
  return { text };
}

/**
 * The JSON that `-o json` prints, as plain data: SDK objects by their toJSON(), objects
 * without a prototype (so `constructor` or `__proto__` in a query is an absent field).
 */
export function asPrintedJson(result: unknown): unknown {
  if (result === undefined) return null;
  return JSON.parse(JSON.stringify(result), (_key, value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    return Object.assign(Object.create(null) as Record<string, unknown>, value);
  });
}

/**
 * The part of `result` that `query` selects.
 * @example applyQuery({ accessToken: 'eyJ…', tenant: 't' }, parseQuery('accessToken')) // 'eyJ…'
 */
export function applyQuery(result: unknown, query: Query): unknown {
  try {
    const selected = search(asPrintedJson(result) as Parameters<typeof search>[0], query.text) as unknown;
    // Back to ordinary objects for printing.
    return selected === null || typeof selected !== 'object' ? selected : (JSON.parse(JSON.stringify(selected)) as unknown);
  } catch (err) {
    // A runtime error (a function given the wrong type): still the query's fault.
    throw new UsageError(`--query cannot be applied to this result: ${(err as Error).message.slice(0, 200)}`);
  }
}
