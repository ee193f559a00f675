/** `tessera ad group …`: create, list, show, delete, and `member add|remove|list`. */
import type { Command } from 'commander';
import { signedIn } from '../signedIn.js';
import { printing } from './action.js';

interface MemberOptions {
  group: string;
  memberId: string;
}

/** Adds `group` to the `ad` command. */
export function registerAdGroup(ad: Command): void {
  const group = ad.command('group').description('groups');

  group
    .command('create')
    .description('create a group')
    .requiredOption('--display-name <name>', 'group name')
    .option('--description <text>', 'description')
    .action(printing(async (o: { displayName: string; description?: string }) => (await signedIn()).directory.createGroup(o), 'group'));

  group
    .command('list')
    .description('list groups')
    .action(printing(async () => (await signedIn()).directory.listGroups(), 'group'));

  group
    .command('show')
    .description('show a group')
    .requiredOption('--group <group>', 'object id or display name')
    .action(printing(async (o: { group: string }) => (await signedIn()).directory.getGroup(o.group), 'group'));

  group
    .command('delete')
    .description('delete a group')
    .requiredOption('--group <group>', 'object id or display name')
    .action(printing(async (o: { group: string }) => (await signedIn()).directory.deleteGroup(o.group)));

  const member = group.command('member').description("a group's members");

  member
    .command('add')
    .description('add a member')
    .requiredOption('--group <group>', 'object id or display name')
    .requiredOption('--member-id <oid>', "the member's object id")
    .action(printing(async (o: MemberOptions) => (await signedIn()).directory.addMember(o.group, o.memberId)));

  member
    .command('remove')
    .description('remove a member')
    .requiredOption('--group <group>', 'object id or display name')
    .requiredOption('--member-id <oid>', "the member's object id")
    .action(printing(async (o: MemberOptions) => (await signedIn()).directory.removeMember(o.group, o.memberId)));

  member
    .command('list')
    .description('list members')
    .requiredOption('--group <group>', 'object id or display name')
    .action(printing(async (o: { group: string }) => (await signedIn()).directory.listMembers(o.group)));
}
