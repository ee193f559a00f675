/**
 * Start-up and shutdown: read config, open the store, bootstrap, build the app, listen;
 * on stop, finish in-flight requests, then close the store.
 */
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import type { ServerConfig } from './config.js';
import { openStore } from './store/db.js';
import { createServices, startServices, stopServices, type Services } from './services.js';
import { bootstrap, type BootstrapResult } from './bootstrap.js';
import { buildApp } from './http/app.js';
import { ensureSelfSigned } from './http/tls.js';
import { createLogger } from './log.js';
import { addResourceAlias } from './tokens/audiences.js';
import type { Clock } from './clock.js';

export interface RunningServer {
  /** The public base URL (scheme, host, port and any path prefix). */
  url: string;
  bootstrap: BootstrapResult;
  /** With --tls-self-signed: the CA file clients should trust. */
  caFile: string | undefined;
  services: Services;
  app: FastifyInstance;
  logger: Logger;
  /** Stops accepting, lets in-flight requests finish, closes the store. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Where JSON logs go; stdout when absent. */
  logDestination?: DestinationStream;
  clock?: Clock;
}

/** Loggers of the servers running in this process: where an unhandled rejection is reported. */
const runningLoggers = new Set<Logger>();
let rejectionGuardInstalled = false;

/**
 * Node ends the process on a promise rejection nobody handled, which would take every
 * service down for one bug in one code path. With this listener (installed once per
 * process) it is logged instead, as an error to fix, and the server keeps serving. Only
 * the error's type, message and stack are logged, cut short: never its other fields,
 * which might carry request data. Returns the function that stops reporting to `logger`.
 */
function reportUnhandledRejections(logger: Logger): () => void {
  runningLoggers.add(logger);
  if (!rejectionGuardInstalled) {
    rejectionGuardInstalled = true;
    process.on('unhandledRejection', (reason: unknown) => {
      const rejection =
        reason instanceof Error
          ? { type: reason.name, message: reason.message.slice(0, 1000), stack: reason.stack?.slice(0, 4000) }
          : { type: typeof reason, message: String(reason).slice(0, 1000) };
      const message = 'an unhandled promise rejection (a bug); the server keeps running';
      if (runningLoggers.size === 0) process.stderr.write(`${message}: ${rejection.message}\n`);
      for (const each of runningLoggers) each.error({ rejection }, message);
    });
  }
  return () => runningLoggers.delete(logger);
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts a server from `config`. */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = createLogger(config.logLevel, options.logDestination);
  let https: { cert: string; key: string } | undefined;
  let caFile: string | undefined;
  if (config.tlsSelfSigned) {
    const files = ensureSelfSigned(config.dataDir, config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host);
    https = { cert: fs.readFileSync(files.certFile, 'utf8'), key: fs.readFileSync(files.keyFile, 'utf8') };
    caFile = files.caFile;
  } else if (config.tlsCertFile && config.tlsKeyFile) {
    https = { cert: fs.readFileSync(config.tlsCertFile, 'utf8'), key: fs.readFileSync(config.tlsKeyFile, 'utf8') };
  }

  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const stopReporting = reportUnhandledRejections(logger);
  let services: Services | undefined;
  try {
    services = createServices(
      config,
      store,
      options.clock,
      (err) => logger.error({ err }, 'an audit record could not be written'),
      (err, what) => logger.error({ err }, `web services: ${what} failed`),
    );
    // The public URL must be known before routes are mounted (its path is their prefix);
    // with port 0 it is set again once the port is chosen.
    services.publicUrl.set(config.publicUrl ?? `${https ? 'https' : 'http'}://${hostForUrl(config.host)}:${config.port}`);
    const result = await bootstrap(services);
    await startServices(services);
    const app = await buildApp(services, { logger, https });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    if (!config.publicUrl && address && typeof address === 'object') {
      services.publicUrl.set(`${https ? 'https' : 'http'}://${hostForUrl(config.host)}:${address.port}`);
    }
    const running = services;
    addResourceAlias(running.publicUrl.base, 'management');
    const sandbox = running.scoring.sandbox;
    if (sandbox.degraded) logger.warn({ sandbox: sandbox.status }, sandbox.describe());
    else logger.info({ sandbox: sandbox.status }, sandbox.describe());
    logger.info({ url: running.publicUrl.base, store: store.kind, tenantId: result.tenantId }, 'tessera listening');
    let closing: Promise<void> | undefined;
    return {
      url: running.publicUrl.base,
      bootstrap: result,
      caFile,
      services: running,
      app,
      logger,
      close() {
        closing ??= (async () => {
          app.draining = true;
          await app.close();
          // Fastify stops accepting at once; requests already inside finish before the store closes.
          for (let waited = 0; app.inFlight() > 0 && waited < 30_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
          await stopServices(running);
          await store.close();
          stopReporting();
        })();
        return closing;
      },
    };
  } catch (err) {
    stopReporting();
    if (services) await stopServices(services);
    await store.close();
    throw err;
  }
}
