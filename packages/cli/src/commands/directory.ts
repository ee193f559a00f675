/**
 * `tessera directory list|show|set|delete|test|sync`: the LDAP / Active Directory
 * directories users sign in with. `test --user NAME` binds as the service account,
 * searches, and shows what the account would get; it never asks for or shows a password.
 * `set` takes the settings as JSON (`--settings @corp.json`) and the service account's
 * password only from a file (`--bind-password-file`), so it never sits in the shell's
 * history or the process list.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { LdapDirectories, type LdapDirectoryInput } from '@tessera/sdk';
import { signedIn } from '../signedIn.js';
import { printing } from './action.js';
import { readJsonArgument } from '../fileArguments.js';
import { UsageError } from '../usageError.js';

async function directories(): Promise<LdapDirectories> {
  return new LdapDirectories((await signedIn()).client);
}

function settingsOf(value: string, passwordFile: string | undefined): LdapDirectoryInput {
  const parsed = readJsonArgument(value, '--settings');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--settings: give a JSON object, e.g. {"urls": ["ldaps://dc1:636"], "searchBase": "dc=corp,dc=example"}.');
  const settings = parsed as LdapDirectoryInput & { bindPassword?: unknown };
  if ('bindPassword' in settings) throw new UsageError('--settings: put the service account password in a file and give --bind-password-file, not in the settings.');
  if (passwordFile === undefined) return settings;
  let password: string;
  try {
    password = fs.readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new UsageError(`--bind-password-file: cannot read the file '${passwordFile}' (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}).`);
  }
  if (password === '') throw new UsageError(`--bind-password-file: the file '${passwordFile}' is empty.`);
  return { ...settings, bindPassword: password };
}

/** Adds `directory` to the program. */
export function registerDirectory(program: Command): void {
  const directory = program.command('directory').description('LDAP / Active Directory directories users sign in with');

  directory
    .command('list')
    .description('list the directories (environment, config file, and those set here), without passwords')
    .action(printing(async () => (await directories()).list()));

  directory
    .command('show')
    .description('show one directory')
    .requiredOption('-n, --name <name>', 'the directory name (ldap:NAME in users\' source)')
    .action(printing(async (o: { name: string }) => (await directories()).show(o.name)));

  directory
    .command('set')
    .description('create or replace a directory held by the server (its password is sealed there)')
    .requiredOption('-n, --name <name>', 'the directory name')
    .requiredOption('--settings <json>', 'the settings as JSON, or @file.json')
    .option('--bind-password-file <file>', "a file holding the service account's password (kept if left out)")
    .action(printing(async (o: { name: string; settings: string; bindPasswordFile?: string }) => (await directories()).set(o.name, settingsOf(o.settings, o.bindPasswordFile))));

  directory
    .command('delete')
    .description('remove a directory held by the server (its users stay, and cannot sign in)')
    .requiredOption('-n, --name <name>', 'the directory name')
    .action(printing(async (o: { name: string }) => (await directories()).delete(o.name)));

  directory
    .command('test')
    .description('search for an account and show what it would get (DN, groups, Tessera user); never a password')
    .requiredOption('--user <name>', 'the name the user would type')
    .option('-n, --name <name>', 'only this directory')
    .action(printing(async (o: { user: string; name?: string }) => (await directories()).test(o.user, o.name)));

  directory
    .command('sync')
    .description("read every directory user again now: names, groups; disable those the directory lost")
    .action(printing(async () => (await directories()).sync()));
}
