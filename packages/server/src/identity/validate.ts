/**
 * Field rules for directory objects, shared by the routes' schemas and the services.
 */
import { TesseraError } from '../errors.js';

/** Sign-in names: ASCII letters, digits, dot, dash, underscore; 1 to 64; starts with a letter or digit. */
export const USERNAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const usernameRe = new RegExp(USERNAME_PATTERN);

/** Display names: any printable text; no control characters. */
export const DISPLAY_NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f]+$';
const displayNameRe = new RegExp(DISPLAY_NAME_PATTERN, 'u');

export const EMAIL_PATTERN = '^[^\\s@\\u0000-\\u001f]{1,64}@[A-Za-z0-9.-]{1,253}$';
const emailRe = new RegExp(EMAIL_PATTERN);

export function checkUsername(value: string): string {
  if (!usernameRe.test(value)) {
    throw new TesseraError('InvalidParameter', 'The username must be 1 to 64 characters: ASCII letters, digits, dots, dashes or underscores, starting with a letter or digit.');
  }
  return value.toLowerCase();
}

export function checkDisplayName(value: string, field = 'displayName'): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || [...trimmed].length > 256 || !displayNameRe.test(trimmed)) {
    throw new TesseraError('InvalidParameter', `${field} must be 1 to 256 printable characters.`);
  }
  return trimmed.normalize('NFC');
}

export function checkEmail(value: string): string {
  if (value.length > 320 || !emailRe.test(value)) throw new TesseraError('InvalidParameter', 'mail must be an email address such as ada@example.com.');
  return value;
}

/** Control characters: never valid in a name, and PostgreSQL refuses NUL in text. */
export function hasControlChars(value: string): boolean {
  return /[\u0000-\u001f\u007f]/.test(value);
}

/** Object ids are GUIDs. */
export function isGuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
