// Starts node-oidc-provider for the client-credentials comparison, in its own process (as
// server.mjs does for Tessera), and prints {"url", "clientId", "clientSecret", "resource",
// "version"} on stdout when ready. It is set up to do the same work per grant as Tessera:
// authenticate a client by secret, mint one JWT access token for one resource, signed
// ES256, over plain HTTP on 127.0.0.1, state in the default in-memory adapter.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import Provider, { errors } from 'oidc-provider';

const RESOURCE = 'https://bench.tessera.invalid/api';
const clientId = 'bench';
const clientSecret = crypto.randomBytes(32).toString('base64url');
const version = JSON.parse(fs.readFileSync(createRequire(import.meta.url).resolve('oidc-provider/package.json'), 'utf8')).version;

// One EC P-256 signing key, as Tessera uses by default.
const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' };

// Listen first so the issuer can name the chosen free port.
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(url, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      // The same client authentication the Tessera side uses (secret in the form body).
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      // The default (RS256) needs a key we do not configure; this client never gets id tokens.
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  // Tessera's access-token lifetime (the cost does not depend on it; setting it also
  // silences the provider's notice about relying on its default).
  ttl: { ClientCredentials: 3599 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      getResourceServerInfo: (_ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        return { scope: 'api', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
});
server.on('request', provider.callback());

process.stdout.write(JSON.stringify({ url, tokenEndpoint: `${url}/token`, clientId, clientSecret, resource: RESOURCE, version }) + '\n');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
