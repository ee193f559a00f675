/**
 * Where a user or group comes from: Tessera itself (`local`), or a directory
 * (`ldap:NAME`), which then owns its name, password and group memberships.
 */
import { TesseraError } from '../errors.js';

export const LOCAL_SOURCE = 'local';

export function directorySource(directoryName: string): string {
  return `ldap:${directoryName}`;
}

export function isDirectorySource(source: string): boolean {
  return source !== LOCAL_SOURCE;
}

/** The refusal for changing here what the directory owns. */
export function directoryManaged(what: string, source: string): TesseraError {
  return new TesseraError('DirectoryManaged', `This ${what} comes from the directory '${source.replace(/^ldap:/, '')}': change it there (Tessera refreshes it at the next sign-in or sync).`);
}
