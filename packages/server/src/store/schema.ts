/**
 * The database's tables as Kysely sees them. Times are epoch milliseconds; booleans are
 * 0/1 integers, so SQLite and PostgreSQL share one code path.
 */
import type { ColumnType } from 'kysely';
export interface TenantsTable {
  id: string;
  domain: string;
  display_name: string;
  created_at: number;
}

export interface SubscriptionsTable {
  id: string;
  tenant_id: string;
  display_name: string;
  created_at: number;
  /** `Enabled`, or `Disabled` (cancelled: read-only); a default, so bootstrap need not name it. */
  state: ColumnType<SubscriptionState, SubscriptionState | undefined, SubscriptionState>;
}

/** Azure's subscription states that Tessera uses. */
export type SubscriptionState = 'Enabled' | 'Disabled';

/** The names subscriptions were created or adopted under (Microsoft.Subscription/aliases). */
export interface SubscriptionAliasesTable {
  tenant_id: string;
  /** As given. */
  name: string;
  /** Lower-cased: unique per tenant. */
  name_key: string;
  subscription_id: string;
  /** `Production` or `DevTest`. */
  workload: string;
  billing_scope: string | null;
  created_at: number;
  created_by: string | null;
}

export interface UsersTable {
  id: string;
  tenant_id: string;
  /** Lower-cased; unique within a tenant. */
  username: string;
  display_name: string;
  email: string | null;
  enabled: number;
  password_hash: string | null;
  password_changed_at: number | null;
  created_at: number;
  updated_at: number;
  /** `local`, or `ldap:NAME` for an entry of that directory. */
  source: string;
  /** The directory's id for the entry (entryUUID, objectGUID); null for local ones. */
  external_id: string | null;
  directory_dn: string | null;
  /** When it was last read from the directory. */
  synced_at: number | null;
}

export interface GroupsTable {
  id: string;
  tenant_id: string;
  display_name: string;
  /** Lower-cased display name; unique within a tenant. */
  name_key: string;
  description: string;
  created_at: number;
  /** `local`, or `ldap:NAME` for an entry of that directory. */
  source: string;
  /** The directory's id for the entry (entryUUID, objectGUID); null for local ones. */
  external_id: string | null;
  directory_dn: string | null;
  /** When it was last read from the directory. */
  synced_at: number | null;
}

/** A directory set through the API (those of the environment and config file are not stored). */
export interface DirectoriesTable {
  name: string;
  /** Its DirectorySettings as JSON, without the password. */
  settings: string;
  /** The service account's password, sealed with the master key. */
  bind_password_sealed: string | null;
  updated_at: number;
  updated_by: string | null;
}

export interface GroupMembersTable {
  group_id: string;
  member_id: string;
  added_at: number;
}

export interface SigningKeysTable {
  kid: string;
  tenant_id: string;
  alg: string;
  public_jwk: string;
  /** The private JWK, sealed with the master key (see crypto/masterKey.ts). */
  private_jwk_sealed: string;
  created_at: number;
  /** When it stopped signing; null while it is the tenant's current key. */
  retired_at: number | null;
  /** When it leaves the JWKS: every token it signed has expired by then. */
  expires_at: number | null;
}

export interface RefreshTokensTable {
  /** SHA-256 of the token, hex: the lookup key. The token itself is never stored. */
  token_hash: string;
  chain_id: string;
  tenant_id: string;
  user_id: string;
  client_id: string;
  scope: string;
  created_at: number;
  /** Sliding expiry: 14 days after issue, never past chain_expires_at. */
  expires_at: number;
  /** 90 days after the chain's first sign-in. */
  chain_expires_at: number;
  /** Set when exchanged for a new token; presenting it again revokes the chain. */
  rotated_at: number | null;
  revoked_at: number | null;
}

export interface RefreshChainsTable {
  chain_id: string;
  user_id: string;
  created_at: number;
  /** 90 days after the sign-in that began the chain. */
  expires_at: number;
  /** Set when the session is revoked: no token of the chain works after that. */
  revoked_at: number | null;
  /** The browser session whose sign-in began the chain (signing out ends it too). */
  session_id: string | null;
  /** 1 when the chain began with an authenticated client: only that client's credential refreshes it. */
  confidential: number;
  /** How the sign-in was made: AuthMethods space-separated (`pwd`, `pwd mfa otp`). */
  amr: string;
}

export interface SigninThrottleTable {
  /** `account:<name>` or `address:<ip>`. */
  key: string;
  failures: number;
  last_failure_at: number;
  locked_until: number | null;
}

export interface RoleAssignmentsTable {
  id: string;
  tenant_id: string;
  principal_id: string;
  principal_type: string;
  role_definition_id: string;
  /** Lower-cased resource ID, `/` for everything. */
  scope: string;
  created_at: number;
  created_by: string | null;
}

export interface ServicePrincipalsTable {
  /** The object id (oid in its tokens). */
  id: string;
  tenant_id: string;
  /** The application (client) id it signs in with. */
  app_id: string;
  display_name: string;
  name_key: string;
  enabled: number;
  created_at: number;
  created_by: string | null;
  /** `Application`, or `ManagedIdentity` for a managed identity (no credentials of its own). */
  sp_type: ColumnType<string, string | undefined, string>;
  /** The resource ID of the identity or compute that owns a managed identity. */
  managed_by: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface SpCredentialsTable {
  key_id: string;
  sp_id: string;
  /** `secret` or `certificate`. */
  type: string;
  display_name: string;
  /** SHA-256 of the secret, hex: the lookup key (secrets only). */
  secret_hash: string | null;
  /** The secret's first characters, shown so people can tell secrets apart. */
  hint: string | null;
  certificate_pem: string | null;
  /** base64url SHA-1 / SHA-256 of the DER certificate: x5t / x5t#S256 in assertions. */
  thumbprint_sha1: string | null;
  thumbprint_sha256: string | null;
  start_at: number;
  end_at: number;
  created_at: number;
}

export interface ResourceGroupsTable {
  id: string;
  subscription_id: string;
  name: string;
  name_key: string;
  location: string;
  /** JSON object. */
  tags: string;
  created_at: number;
  created_by: string | null;
}

export interface WorkspacesTable {
  id: string;
  resource_group_id: string;
  name: string;
  name_key: string;
  location: string;
  tags: string;
  /** JSON object: the ARM `properties` kept as given (friendlyName, description, …). */
  properties: string;
  created_at: number;
  created_by: string | null;
}

export interface RoleDefinitionsTable {
  id: string;
  tenant_id: string;
  role_name: string;
  name_key: string;
  description: string;
  /** JSON: [{actions, notActions, dataActions, notDataActions}]. */
  permissions: string;
  /** JSON: lower-cased scopes. */
  assignable_scopes: string;
  created_at: number;
  updated_at: number;
}

export interface AuditRecordsTable {
  id: string;
  tenant_id: string;
  at: number;
  /** `Management` or `SignIn`. */
  category: string;
  /** The action (`Microsoft.Authorization/roleAssignments/write`) or sign-in kind (`password`). */
  operation: string;
  /** `Success`, `Denied` or `Failure`. */
  result: string;
  status: number;
  /** The error code, when it failed. */
  reason: string | null;
  actor_id: string | null;
  /** A user name or application id; never a name that matched no account (it may be a mistyped password). */
  actor_name: string | null;
  /** The scope or resource acted on. */
  target: string | null;
  request_id: string;
  client_ip: string | null;
}

/** One model version (a model is the versions sharing a `name_key` in a workspace). */
export interface ModelsTable {
  id: string;
  workspace_id: string;
  name: string;
  name_key: string;
  version: number;
  description: string;
  /** JSON object of strings. */
  tags: string;
  sha256: string;
  size: number;
  /** `file` or `folder`. */
  kind: string;
  created_at: number;
  created_by: string | null;
}

export interface ModelFilesTable {
  version_id: string;
  path: string;
  sha256: string;
  size: number;
}

export interface ModelBlobsTable {
  sha256: string;
  size: number;
  claimed_at: number;
}

/** A blob an upload in progress has written and not yet referenced. */
export interface ModelBlobClaimsTable {
  id: string;
  upload_id: string;
  sha256: string;
  created_at: number;
}

export interface WebServicesTable {
  id: string;
  workspace_id: string;
  tenant_id: string;
  name: string;
  /** Lower-cased name. */
  name_key: string;
  /** Unique server-wide: `name_key`, or `name_key/version` for ML Server services. */
  route_key: string;
  /** `azureml` (the management API) or `mlserver` (ML Server's publishing API). */
  kind: string;
  /** ML Server's version; null for `azureml` services. */
  mlserver_version: string | null;
  description: string;
  /** JSON object. */
  tags: string;
  /** `instance` or `cluster`. */
  target: string;
  /** `key`, `token`, `aad` or `none`. */
  auth_mode: string;
  /** `python`, `javascript` or `onnx`. */
  runtime: string;
  entry_script_name: string | null;
  entry_script: string | null;
  /** JSON: the script contract (`{kind: 'azureml'}`, or mlserver's initCode, inputs, outputs). */
  contract: string;
  /** JSON: the models as resolved, `[{id, name, version}]`. */
  model_refs: string;
  cpu_cores: number;
  memory_gb: number;
  replicas: number;
  scoring_timeout_ms: number;
  max_queue_size: number;
  /** `Transitioning`, `Healthy` or `Failed`. */
  state: string;
  error: string | null;
  /** Bumped on every change (settings, keys, state): what replicas poll to refresh their view. */
  generation: number;
  /** Bumped when what runs changes (script, models, sizes): names the runtime's directory. */
  config_version: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface WebServiceKeysTable {
  service_id: string;
  /** `Primary` or `Secondary`. */
  key_type: string;
  /** SHA-256 of the key, hex: the lookup key. */
  key_hash: string;
  /** The key sealed with the master key, so listKeys can show it. */
  key_sealed: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
}

export interface WebServiceModelsTable {
  service_id: string;
  model_version_id: string;
}

export interface ApplicationsTable {
  /** The application object's id. */
  id: string;
  tenant_id: string;
  /** The client id; its service principal has the same app_id. */
  app_id: string;
  display_name: string;
  /** The display name lower-cased: unique per tenant. */
  name_key: string;
  /** JSON arrays of redirect URIs: public (native, PKCE, no secret) and web (confidential). */
  public_redirect_uris: string;
  web_redirect_uris: string;
  /** Graph's isFallbackPublicClient: device-code and password flows without a secret. */
  is_fallback_public_client: number;
  created_at: number;
  created_by: string | null;
}

export interface AuthorizationCodesTable {
  /** SHA-256 of the code: the lookup key. */
  code_hash: string;
  tenant_id: string;
  client_id: string;
  redirect_uri: string;
  /** PKCE S256 challenge, base64url; null when the (confidential) client sent none. */
  code_challenge: string | null;
  scope: string;
  nonce: string | null;
  user_id: string;
  session_id: string | null;
  /** The refresh chain the code's redemption begins: revoked if the code is used twice. */
  chain_id: string;
  auth_time: number;
  created_at: number;
  expires_at: number;
  redeemed_at: number | null;
  /** How the sign-in was made: AuthMethods space-separated (`pwd`, `pwd mfa otp`). */
  amr: string;
}

export interface DeviceCodesTable {
  device_code_hash: string;
  /** SHA-256 of the normalized user code. */
  user_code_hash: string;
  tenant_id: string;
  client_id: string;
  scope: string;
  /** 1 when asked on the v1 endpoint (resource=). */
  v1: number;
  interval_sec: number;
  /** pending | approved | declined | redeemed */
  status: string;
  user_id: string | null;
  session_id: string | null;
  chain_id: string;
  auth_time: number | null;
  last_poll_at: number | null;
  created_at: number;
  expires_at: number;
  /** How the sign-in was made: AuthMethods space-separated (`pwd`, `pwd mfa otp`). */
  amr: string;
}

export interface BrowserSessionsTable {
  /** Public half of the cookie `id.secret`. */
  id: string;
  /** SHA-256 of the secret half, compared in constant time. */
  secret_hash: string;
  tenant_id: string;
  user_id: string;
  auth_time: number;
  created_at: number;
  last_seen_at: number;
  /** Absolute limit. */
  expires_at: number;
  revoked_at: number | null;
  /** How the sign-in was made: AuthMethods space-separated (`pwd`, `pwd mfa otp`). */
  amr: string;
}

/** An administrator's quota override (see workspace/quotas.ts). */
export interface QuotaOverridesTable {
  /** `default`, `workspace` or `principal`. */
  scope: string;
  /** default: `workspace` or `principal` (the kind it applies to); workspace: its row id; principal: its object id. */
  target: string;
  /** JSON: the limits set, each a number or null (unlimited); absent ones inherit. */
  limits: string;
  updated_at: number;
  updated_by: string | null;
}

export interface Database {
  ca_policies: CaPoliciesTable;
  ca_named_locations: CaNamedLocationsTable;
  tenants: TenantsTable;
  subscriptions: SubscriptionsTable;
  subscription_aliases: SubscriptionAliasesTable;
  users: UsersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  directories: DirectoriesTable;
  signing_keys: SigningKeysTable;
  refresh_tokens: RefreshTokensTable;
  refresh_chains: RefreshChainsTable;
  signin_throttle: SigninThrottleTable;
  role_assignments: RoleAssignmentsTable;
  service_principals: ServicePrincipalsTable;
  sp_credentials: SpCredentialsTable;
  resource_groups: ResourceGroupsTable;
  workspaces: WorkspacesTable;
  role_definitions: RoleDefinitionsTable;
  audit_records: AuditRecordsTable;
  models: ModelsTable;
  model_files: ModelFilesTable;
  model_blobs: ModelBlobsTable;
  model_blob_claims: ModelBlobClaimsTable;
  web_services: WebServicesTable;
  web_service_keys: WebServiceKeysTable;
  web_service_models: WebServiceModelsTable;
  applications: ApplicationsTable;
  authorization_codes: AuthorizationCodesTable;
  device_codes: DeviceCodesTable;
  browser_sessions: BrowserSessionsTable;
  quota_overrides: QuotaOverridesTable;
  user_assigned_identities: UserAssignedIdentitiesTable;
  computes: ComputesTable;
  compute_identities: ComputeIdentitiesTable;
  compute_nodes: ComputeNodesTable;
  runs: RunsTable;
  run_logs: RunLogsTable;
  run_metrics: RunMetricsTable;
  run_artifacts: RunArtifactsTable;
  mfa_totp: MfaTotpTable;
  mfa_recovery_codes: MfaRecoveryCodesTable;
}

export interface UserAssignedIdentitiesTable {
  id: string;
  resource_group_id: string;
  name: string;
  name_key: string;
  location: string;
  /** JSON object. */
  tags: string;
  /** The identity's service principal (its principalId). */
  sp_id: string;
  created_at: number;
  created_by: string | null;
}

export interface ComputesTable {
  id: string;
  workspace_id: string;
  name: string;
  name_key: string;
  /** `ComputeInstance` or `AmlCompute`. */
  compute_type: string;
  location: string;
  description: string;
  /** `None`, `SystemAssigned`, `UserAssigned` or `SystemAssigned,UserAssigned`. */
  identity_type: string;
  system_sp_id: string | null;
  max_concurrent_runs: number;
  created_at: number;
  modified_at: number;
  created_by: string | null;
}

export interface ComputeIdentitiesTable {
  compute_id: string;
  identity_id: string;
}

export interface ComputeNodesTable {
  id: string;
  compute_id: string;
  name: string;
  credential_hash: string;
  created_at: number;
  rotated_at: number;
  last_seen_at: number | null;
  created_by: string | null;
}

export interface RunsTable {
  id: string;
  workspace_id: string;
  /** The run id as submitted. */
  name: string;
  name_key: string;
  experiment: string;
  compute_id: string | null;
  compute_name: string;
  /** Queued, Preparing, Running, Completed, Failed, Canceled. */
  status: string;
  command: string;
  /** JSON: {@link import('../compute/runSettings.js').RunSettings}. */
  settings: string;
  node_id: string | null;
  cancel_requested: ColumnType<number, number | undefined, number>;
  error_code: string | null;
  error_message: string | null;
  exit_code: number | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  created_by: string;
  /** `User` or `Application`. */
  created_by_type: string;
  /** The last log line's sequence number. */
  log_seq: ColumnType<number, number | undefined, number>;
}

export interface RunLogsTable {
  run_id: string;
  seq: number;
  at: number;
  stream: string;
  text: string;
}

export interface RunMetricsTable {
  run_id: string;
  name: string;
  step: number;
  /** JSON: a number, string or boolean. */
  value: string;
  at: number;
}

export interface RunArtifactsTable {
  run_id: string;
  path: string;
  size: number;
  sha256: string;
  created_at: number;
}

/** A user's confirmed TOTP authenticator (one per user). */
export interface MfaTotpTable {
  user_id: string;
  tenant_id: string;
  /** The method's id in the Graph API (`softwareOathMethods/{id}`). */
  method_id: string;
  /** The Base32 secret, sealed with the master key (context: the user id). */
  secret_sealed: string;
  created_at: number;
  /** The last RFC 6238 step a code was accepted in; only later steps are accepted. */
  last_step: number | null;
  last_used_at: number | null;
}

/** A recovery code: HMAC-SHA-256 of the user id and the code, keyed from the master key. */
export interface MfaRecoveryCodesTable {
  code_hash: string;
  user_id: string;
  created_at: number;
  used_at: number | null;
}

/** A conditional-access policy; `body` is its conditions and grant controls (conditionalAccess/policies.ts), JSON. */
export interface CaPoliciesTable {
  id: string;
  tenant_id: string;
  display_name: string;
  state: string;
  body: string;
  created_at: number;
  modified_at: number | null;
  created_by: string | null;
}

/** An ip named location; `ip_ranges` is JSON. */
export interface CaNamedLocationsTable {
  id: string;
  tenant_id: string;
  display_name: string;
  /** Lower-cased display name; unique within a tenant. */
  name_key: string;
  is_trusted: number;
  ip_ranges: string;
  created_at: number;
  modified_at: number | null;
}
