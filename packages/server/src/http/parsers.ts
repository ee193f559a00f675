/**
 * Body parsers for the two content types the server accepts. Both refuse duplicated
 * fields: two parsers that keep different copies of a repeated field are a classic way
 * to smuggle a value past a check, so there is no copy to pick.
 */
import type { FastifyInstance } from 'fastify';
import { TesseraError } from '../errors.js';
import { registerMultipartParser } from './multipart.js';

const MAX_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Finds the first problem JSON.parse would let through: a key repeated in one object, a
 * prototype-polluting key, or nesting deeper than {@link MAX_DEPTH}. Syntax errors are
 * left to JSON.parse.
 */
export function jsonStructureProblem(text: string): string | undefined {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top && expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return undefined;
        }
        if (FORBIDDEN_KEYS.has(key)) return `the field name '${key}' is not allowed`;
        if (top.has(key)) return `the field '${key.slice(0, 64)}' appears more than once`;
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_DEPTH) return `it is nested more than ${MAX_DEPTH} levels deep`;
      stack.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return undefined;
}

/** Parses a JSON body, refusing duplicates and prototype keys. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new TesseraError('InvalidRequestContent', 'The request body is empty; a JSON document was expected.');
  const problem = jsonStructureProblem(text);
  if (problem) throw new TesseraError('InvalidRequestContent', `The request body is not acceptable JSON: ${problem}.`);
  try {
    return JSON.parse(text);
  } catch {
    throw new TesseraError('InvalidRequestContent', 'The request body is not valid JSON.');
  }
}

/** Parses an `application/x-www-form-urlencoded` body into a map, refusing repeated names. */
export function parseFormBody(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (params.has(name)) {
      throw new TesseraError('InvalidRequestContent', `The parameter '${name.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}' appears more than once.`, { aadCodes: [90015] });
    }
    params.set(name, value);
  }
  return params;
}

/** Replaces Fastify's parsers with ours: JSON and form bodies, and multipart streams for the routes that take them. */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const json = (_req: unknown, body: string | Buffer, done: (err: Error | null, value?: unknown) => void) => {
    try {
      done(null, parseJsonBody(body.toString()));
    } catch (err) {
      done(err as Error, undefined);
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, json);
  app.addContentTypeParser(/^application\/[a-z.+-]*\+json$/, { parseAs: 'string' }, json);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseFormBody(body.toString()));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  registerMultipartParser(app);
}
