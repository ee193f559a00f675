/** --debug's redaction: what an HTTP line may show of a request's query and headers. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { redactedHeaders, redactedPath } from '../src/httpDebug.js';

describe('--debug redaction', () => {
  test('query values named like credentials are hidden; the rest is shown, encoded', () => {
    assert.equal(redactedPath('/subscriptions?api-version=2022-12-01'), '/subscriptions?api-version=2022-12-01');
    assert.equal(
      redactedPath('/x?key=tssk_1&client_secret=s&access_token=t&code=c&password=p&pwd=q&sig=z&credential=w&code_verifier=v&$filter=name eq \'a\''),
      "/x?key=***&client_secret=***&access_token=***&code=***&password=***&pwd=***&sig=***&credential=***&code_verifier=***&%24filter=name%20eq%20'a'",
    );
    assert.equal(redactedPath('/no-query'), '/no-query');
  });

  test('header values that are or may be credentials are hidden', () => {
    const lines = redactedHeaders([
      'authorization', 'Bearer eyJhbGciOi.secret',
      'X-IDENTITY-HEADER', 'node-secret',
      'cookie', 'tessera_session=abc',
      'x-ms-client-secret', 's',
      'content-type', 'application/json',
      'user-agent', 'tessera-sdk/0.1.0',
    ]);
    assert.deepEqual(lines, ['authorization: ***', 'X-IDENTITY-HEADER: ***', 'cookie: ***', 'x-ms-client-secret: ***', 'content-type: application/json', 'user-agent: tessera-sdk/0.1.0']);
    assert.deepEqual(redactedHeaders([Buffer.from('set-cookie'), Buffer.from('a=b'), Buffer.from('x-ms-request-id'), Buffer.from('42')]), ['set-cookie: ***', 'x-ms-request-id: 42']);
  });
});
