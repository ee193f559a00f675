/** Machine Learning Server's service description and swagger document, from an engine record. */
import type { WebServiceRow } from '../workspace/webServices.js';
import type { ScriptContract } from '../scoring/runtimes/types.js';
import type { ServiceEntry } from '../scoring/serviceDirectory.js';
import { swaggerOf } from '../scoring/swagger.js';
import { MODEL_FILE_TAG, OPERATION_TAG, publishedName, tagsOf } from './publishing.js';

type MlServerContract = Extract<ScriptContract, { kind: 'mlserver' }>;

/** What a description needs beside the record. */
export interface DescriptionContext {
  publicUrl: string;
  /** The publisher's user name (or application id). */
  publishedBy: string;
  /** `write` when the caller may update and delete it (RBAC and the creator rule). */
  permission: 'read' | 'write';
}

/** The service's consume URL: `{public URL}/api/{name}/{version}`. */
export function consumeUrl(publicUrl: string, name: string, version: string): string {
  return `${publicUrl}/api/${name}/${version}`;
}

/** A service description as `GET /services…` lists it. */
export function serviceDescription(row: WebServiceRow, ctx: DescriptionContext): Record<string, unknown> {
  const contract = JSON.parse(row.contract) as MlServerContract;
  const tags = tagsOf(row);
  const name = publishedName(row);
  const version = row.mlserver_version ?? '';
  const url = consumeUrl(ctx.publicUrl, name, version);
  return {
    name,
    version,
    versionPublishedBy: ctx.publishedBy,
    creationTime: new Date(row.created_at).toISOString(),
    snapshotId: null,
    runtimeType: row.runtime === 'python' ? 'Python' : 'JavaScript',
    initCode: contract.initCode ?? '',
    code: row.entry_script ?? '',
    description: row.description,
    operationId: tags[OPERATION_TAG] ?? 'consume',
    inputParameterDefinitions: contract.inputs,
    outputParameterDefinitions: contract.outputs,
    outputFileNames: [],
    modelFileName: tags[MODEL_FILE_TAG] ?? null,
    myPermissionOnService: ctx.permission,
    state: row.state,
    url,
    swagger: `${url}/swagger.json`,
  };
}

/** The OpenAPI document of a version: one operation, `POST /api/{name}/{version}`, named by its operationId. */
export function serviceSwagger(entry: ServiceEntry, row: WebServiceRow, publicUrl: string): Record<string, unknown> {
  const name = publishedName(row);
  const version = row.mlserver_version ?? '';
  const base = swaggerOf(entry, publicUrl) as { components: { schemas: Record<string, unknown> } } & Record<string, unknown>;
  const schemas = {
    ...base.components.schemas,
    WebServiceResult: {
      type: 'object',
      properties: {
        success: { type: 'boolean' },
        errorMessage: { type: 'string' },
        consoleOutput: { type: 'string' },
        changedFiles: { type: 'array', items: { type: 'string' } },
        outputParameters: { $ref: '#/components/schemas/ServiceOutput' },
        outputFiles: { type: 'object' },
      },
    },
  };
  return {
    ...base,
    info: { title: name, description: row.description, version },
    servers: [{ url: publicUrl }],
    components: { ...base.components, schemas },
    paths: {
      [`/api/${name}/${version}`]: {
        post: {
          operationId: tagsOf(row)[OPERATION_TAG] ?? 'consume',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ServiceInput' } } } },
          responses: {
            '200': { description: 'The outputs, or success false with the error of the code', content: { 'application/json': { schema: { $ref: '#/components/schemas/WebServiceResult' } } } },
            default: { description: 'An error', content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } } },
          },
        },
      },
    },
  };
}
