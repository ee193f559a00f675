/** The `tessera` command line: every command, the global `--output` and `--query` options, usage-error handling. */
import { Command, Option } from 'commander';
import { OUTPUT_FORMATS } from './output.js';
import { parseQuery } from './query.js';
import { levelOf, setLogLevel } from './log.js';
import { startHttpDebug } from './httpDebug.js';
import { registerServe } from './commands/serve.js';
import { registerLogin } from './commands/login.js';
import { registerAccount } from './commands/account.js';
import { registerAdUser } from './commands/adUser.js';
import { registerAdUserMfa } from './commands/adUserMfa.js';
import { registerAdGroup } from './commands/adGroup.js';
import { registerAdLockout } from './commands/adLockout.js';
import { registerDirectory } from './commands/directory.js';
import { registerAdSp } from './commands/adSp.js';
import { registerAdApp } from './commands/adApp.js';
import { registerKeys } from './commands/keys.js';
import { registerAudit } from './commands/audit.js';
import { registerAdminQuota } from './commands/adminQuota.js';
import { registerGroup } from './commands/group.js';
import { registerMlWorkspace } from './commands/mlWorkspace.js';
import { registerRole } from './commands/role.js';
import { registerIdentity } from './commands/identity.js';
import { registerNode } from './commands/node.js';
import { registerCa } from './commands/ca.js';


/** Builds the program; parse errors throw a CommanderError instead of exiting. */
export function buildProgram(): Command {
  const program = new Command('tessera')
    .description('Tessera: a self-hosted machine-learning workspace server, and its command line')
    // No program-wide --version option: commander would take it anywhere on the line, and
    // `ml model … --version N` names a model version. main.ts answers `tessera --version`.
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ outputError: (text, write) => write(`ERROR: ${text.replace(/^error: /, '')}`) })
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('json'))
    .addOption(new Option('--query <jmespath>', "JMESPath applied to the JSON output (e.g. --query accessToken -o tsv, --query \"[?properties.state=='Healthy'].name\", --query '{name:name, uri:scoringUri}')").argParser(parseQuery))
    .option('--verbose', 'say more: where the server, subscription and workspace came from, and how long the command took')
    .option('--debug', 'say everything --verbose does, plus every HTTP request and answer (never a credential or a body)')
    .option('--only-show-errors', 'show errors only: no warnings')
    .hook('preAction', (_program, action) => {
      const level = levelOf(action.optsWithGlobals<{ debug?: boolean; verbose?: boolean; onlyShowErrors?: boolean }>());
      setLogLevel(level);
      if (level === 'debug') startHttpDebug();
    });

  registerServe(program);
  registerLogin(program);
  registerAccount(program);
  const ad = program.command('ad').description('the directory: users, groups, service principals, sign-in lockouts');
  registerAdUser(ad);
  registerAdGroup(ad);
  registerAdSp(ad);
  registerAdApp(ad);
  registerAdLockout(ad);
  registerAdUserMfa(ad);
  registerDirectory(program);
  registerKeys(program);
  registerAudit(program);
  registerAdminQuota(program);
  registerGroup(program);
  registerMlWorkspace(program);
  registerRole(program);
  registerIdentity(program);
  registerNode(program);
  registerCa(program);
  return program;
}
