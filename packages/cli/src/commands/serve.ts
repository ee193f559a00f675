/**
 * `tessera serve`: runs the server in this process. Prints the first start's generated
 * administrator password (once) and, with --tls-self-signed, how to trust the CA; stops
 * on SIGTERM or SIGINT after the requests in flight have finished.
 */
import { Option, type Command } from 'commander';
import type { RunningServer, ServeOptions } from '@tessera/server';
import { UsageError } from '../usageError.js';

function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

function announce(server: RunningServer): void {
  const b = server.bootstrap;
  if (b.created) {
    say('First start: created the tenant and its administrator.');
    say(`  admin username:   ${b.adminUsername}`);
    if (b.generatedAdminPassword !== undefined) say(`  admin password:   ${b.generatedAdminPassword}   (shown only this once; change it with tessera ad user set-password)`);
    say(`  tenant id:        ${b.tenantId}`);
    say(`  tenant domain:    ${b.tenantDomain}`);
    say(`  subscription id:  ${b.subscriptionId}`);
  }
  if (server.caFile !== undefined) {
    say(`TLS: self-signed certificate; its CA is ${server.caFile}. For clients on this machine:`);
    say(`  export NODE_EXTRA_CA_CERTS=${server.caFile}`);
  }
  say(server.services.scoring.sandbox.describe());
  say(`Tessera is listening at ${server.url}`);
}

/** Closes the server on the first SIGTERM/SIGINT, then exits 0; a second signal exits at once. */
function stopOnSignals(server: RunningServer): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      say(`${signal} again: exiting without waiting.`);
      process.exit(1);
    }
    stopping = true;
    say(`${signal}: finishing the requests in flight, then stopping.`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        say(`ERROR: the server did not stop cleanly: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Adds `serve` to `program`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the Tessera server (each option can also be set as a TESSERA_* environment variable)')
    .option('--port <port>', 'TCP port (TESSERA_PORT; default 5080)')
    .option('--host <host>', 'address to listen on (TESSERA_HOST; default 127.0.0.1)')
    .option('--data <dir>', 'data directory (TESSERA_DATA; default ./.tessera)')
    .option('--database <url>', 'postgres:// URL instead of the embedded SQLite store (TESSERA_DATABASE)')
    .option('--public-url <url>', 'the URL clients use, if not the listening address (TESSERA_PUBLIC_URL)')
    .option('--tls-cert <file>', 'PEM certificate chain for HTTPS (TESSERA_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key for HTTPS (TESSERA_TLS_KEY)')
    .option('--tls-self-signed', 'serve HTTPS with a generated CA and certificate (TESSERA_TLS_SELF_SIGNED)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (TESSERA_LOG_LEVEL; default info)')
    .option('--trust-proxy <proxies>', 'behind a load balancer: true, a hop count, or proxy addresses/CIDRs whose X-Forwarded-For to believe (TESSERA_TRUST_PROXY)')
    .addOption(new Option('--sandbox <mode>', 'isolate entry scripts with bubblewrap: required, auto (when the kernel allows) or off (TESSERA_SANDBOX; default auto)').choices(['required', 'auto', 'off']))
    .addOption(new Option('--sandbox-network <network>', "sandboxed scripts' network: none, loopback (their own) or all (the host's) (TESSERA_SANDBOX_NETWORK; default none)").choices(['none', 'loopback', 'all']))
    .option('--isolate-onnx', "run ONNX models in sandboxed worker processes, not the server's (TESSERA_ISOLATE_ONNX)")
    .addOption(new Option('--local-node <on|off>', "run jobs of computes without registered nodes in this process (TESSERA_LOCAL_NODE; default on)").choices(['on', 'off']))
    .option('--config <file>', 'a JSON config file: directories (several LDAP/AD servers), localAccounts (TESSERA_CONFIG_FILE)')
    .option('--ldap-url <urls>', 'an LDAP/AD directory users sign in with: ldaps://host:636, or ldap://host:389 with --ldap-start-tls; several space-separated fail over (TESSERA_LDAP_URL)')
    .option('--ldap-bind-dn <dn>', "the directory's search account (TESSERA_LDAP_BIND_DN; its password: TESSERA_LDAP_BIND_PASSWORD or TESSERA_LDAP_BIND_PASSWORD_FILE)")
    .option('--ldap-search-base <dn>', 'where users are searched (TESSERA_LDAP_SEARCH_BASE)')
    .option('--ldap-search-filter <filter>', 'the user filter, {0} the typed name (TESSERA_LDAP_SEARCH_FILTER; default (uid={0}))')
    .option('--ldap-ca-file <file>', "the CA of the directory's certificate (TESSERA_LDAP_CA_FILE)")
    .option('--ldap-start-tls', 'upgrade ldap:// with StartTLS (TESSERA_LDAP_STARTTLS)')
    .option('--ldap-insecure', 'allow ldap:// without TLS: passwords in clear (TESSERA_LDAP_INSECURE)')
    .addOption(new Option('--local-accounts <which>', 'with a directory: all local accounts keep signing in, or only the built-in admin (TESSERA_LOCAL_ACCOUNTS; default all)').choices(['all', 'admin']))
    .action(async (options: ServeOptions) => {
      // Loaded here, so the other commands start without the server's dependencies.
      const { ConfigError, resolveConfig, startServer } = await import('@tessera/server');
      let config;
      try {
        config = resolveConfig(options, process.env);
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message);
        throw err;
      }
      let server: RunningServer;
      try {
        server = await startServer(config);
      } catch (err) {
        // A setting found wrong only at start (a weak TESSERA_ADMIN_PASSWORD) is a usage error too.
        if (err instanceof ConfigError) throw new UsageError(err.message);
        throw new Error(`the server could not start: ${err instanceof Error ? err.message : String(err)}`);
      }
      announce(server);
      stopOnSignals(server);
    });
}
