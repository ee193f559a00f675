/** A web service's OpenAPI 3 document, from what the in-memory view knows of it. */
import type { ServiceEntry } from './serviceDirectory.js';

const JSON_TYPES: Record<string, string> = { numeric: 'number', integer: 'integer', logical: 'boolean', character: 'string', vector: 'array', matrix: 'array', 'data.frame': 'object' };

/** The OpenAPI document of `entry`, scored at `scoreUrl`. */
export function swaggerOf(entry: ServiceEntry, serviceUrl: string): Record<string, unknown> {
  const contract = entry.contract;
  const parameters = (defs: { name: string; type: string }[]) => ({
    type: 'object',
    properties: Object.fromEntries(defs.map((d) => [d.name, { type: JSON_TYPES[d.type.toLowerCase()] ?? 'string', description: d.type }])),
    required: defs.map((d) => d.name),
  });
  const input = contract.kind === 'mlserver' ? parameters(contract.inputs) : entry.runtime === 'onnx' ? { type: 'object', properties: { inputs: { type: 'object' } }, required: ['inputs'] } : {};
  const output = contract.kind === 'mlserver' ? parameters(contract.outputs) : entry.runtime === 'onnx' ? { type: 'object', properties: { outputs: { type: 'object' } } } : {};
  const secured = entry.authMode !== 'none';
  return {
    openapi: '3.0.3',
    info: { title: entry.name, description: entry.description, version: entry.mlserverVersion ?? String(entry.configVersion) },
    servers: [{ url: serviceUrl }],
    ...(secured ? { security: [{ Bearer: [] }] } : {}),
    components: {
      ...(secured ? { securitySchemes: { Bearer: { type: 'http', scheme: 'bearer', description: entry.authMode === 'key' ? 'A service key' : entry.authMode === 'token' ? 'A service token' : 'An access token whose principal may score the service' } } } : {}),
      schemas: { ServiceInput: input, ServiceOutput: output, ErrorResponse: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } },
    },
    paths: {
      '/score': {
        post: {
          operationId: 'score',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ServiceInput' } } } },
          responses: {
            '200': { description: 'The answer', content: { 'application/json': { schema: { $ref: '#/components/schemas/ServiceOutput' } } } },
            default: { description: 'An error', content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } } },
          },
        },
      },
    },
  };
}
