/**
 * @tessera/server: the Tessera server as a library. The `tessera serve` command uses it;
 * tests and benchmarks start servers with it in-process.
 */
export { startServer, type RunningServer, type StartOptions } from './server.js';
export { resolveConfig, ConfigError, DEFAULT_ARGON2, DEFAULT_THROTTLE, type ServerConfig, type ServeOptions } from './config.js';
export { ERROR_CATALOGUE, TesseraError, type ErrorCode } from './errors.js';
export { RESOURCE_URIS, type AudienceId } from './tokens/audiences.js';
export { TESSERA_CLI_CLIENT_ID, ML_SERVER_CLIENT_ID } from './oauth/clients.js';
export type { Clock } from './clock.js';
export { startRemoteNode, type RemoteNodeOptions, type RunningNode } from './compute/node/remoteNode.js';
export { DEFAULT_SANDBOX, SANDBOX_MODES, type SandboxPolicy } from './sandbox/policy.js';
export { parseEnvironments } from './config.js';
