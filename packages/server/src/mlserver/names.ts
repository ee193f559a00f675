/**
 * Machine Learning Server's service names and versions, and the web-service engine's
 * name for them. The engine names services as the management API does (3 to 32 of
 * `[a-z0-9-]`, unique on the server), so an ML Server name maps to an *engine name*:
 *
 * - a name that already is a valid engine name once lower-cased and holds no `--`
 *   (`add`, `Iris-Model`) maps to itself lower-cased (`add`, `iris-model`);
 * - any other name (`my_model`, `v1.iris`, `x`, a long one) maps to a slug of it, `--`,
 *   and the first 10 hex digits of the SHA-256 of its lower-cased form
 *   (`my_model` → `my-model--3f0c…`).
 *
 * The two forms never meet (only derived names hold `--`); two derived names that met
 * would need a 40-bit hash collision, and the publishing API refuses one anyway (it keeps
 * each service's name as published and compares). Names match without regard to case, as
 * ML Server's did; versions are compared exactly. Every version of a name is one engine
 * record `{engine name}/{version}` with the RBAC scope `W/onlineEndpoints/{engine name}`.
 */
import crypto from 'node:crypto';
import { TesseraError } from '../errors.js';
import { shown } from '../workspace/names.js';

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ENGINE_NAME = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;

/** Throws 400 unless `name` is an ML Server service name: 1 to 64 letters, digits, `_`, `-`, `.`, not starting with `-` or `.`. */
export function checkMlServerName(name: string): string {
  if (!NAME.test(name)) {
    throw new TesseraError('InvalidParameter', `The service name ${shown(name)} is invalid: use 1 to 64 letters, digits, '_', '-' or '.', starting with a letter, digit or '_'.`);
  }
  return name;
}

/** Throws 400 unless `version` is an ML Server version such as `1.0.2`: 1 to 64 letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export function checkMlServerVersion(version: string): string {
  if (!VERSION.test(version)) {
    throw new TesseraError('InvalidParameter', `The service version ${shown(version)} is invalid: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. 1.0.2).`);
  }
  return version;
}

/**
 * The engine's name for an ML Server service name (see the module comment).
 * @example engineNameOf('Add') === 'add'; engineNameOf('my_model').startsWith('my-model--')
 */
export function engineNameOf(name: string): string {
  const key = checkMlServerName(name).toLowerCase();
  if (ENGINE_NAME.test(key) && !key.includes('--')) return key;
  const hash = crypto.createHash('sha256').update(key).digest('hex').slice(0, 10);
  let slug = key.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(slug)) slug = `s${slug}`;
  slug = slug.slice(0, 20).replace(/-+$/, '');
  return `${slug}--${hash}`;
}
