import type { FastifyContextConfig } from 'fastify';

/**
 * What a request contributes to its audit record, filled in as it is handled (the
 * permission checked, who signed in, why it failed) and written once it is answered.
 */
export interface AuditInfo {
  tenantId?: string;
  /** The action checked (`Microsoft.Authorization/roleAssignments/write`) or sign-in kind. */
  operation?: string;
  /** The scope or resource acted on. */
  target?: string;
  actorId?: string;
  actorName?: string;
  /** The error code the request ended with. */
  reason?: string;
  /** The request's id, for records a part writes itself (conditional access's report-only results). */
  requestId?: string;
  /** Nothing new happened worth a record (a reused app token). */
  skip?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    audit: AuditInfo;
  }
}

/**
 * A route's `config` from {@link RouteAuditConfig}. Fastify types route config as its own
 * (empty) interface; this is the one place that bridges the two.
 */
export function routeConfig(config: RouteAuditConfig): FastifyContextConfig {
  return config as FastifyContextConfig;
}

/** What a route may declare in its `config`: how it answers errors, and whether it is a sign-in endpoint. */
export interface RouteAuditConfig {
  /** How the route answers errors: Azure's management shape (default), RFC 6749's, or an HTML error page (sign-in pages). */
  errorStyle?: 'management' | 'oauth' | 'page';
  /** `signIn` for sign-in endpoints; authenticated routes are audited as management requests. */
  audit?: 'signIn';
}
