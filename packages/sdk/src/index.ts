/**
 * @tessera/sdk: the Tessera client library. Credentials ({@link CliAuthentication},
 * {@link ServicePrincipalAuthentication}, {@link TokenAuthentication},
 * {@link MLServerAuthentication}, or your own {@link AbstractAuthentication}), the
 * {@link DeployClient} of Machine Learning Server, and typed access to the directory,
 * service principals, resource groups and workspaces, role-based access control and
 * administration APIs (signing keys, lockouts, audit, quotas); {@link Workspace} and {@link Model} for the model registry; {@link Webservice} (with
 * {@link InferenceConfig} and a deployment configuration) for web services; {@link Compute},
 * {@link ManagedIdentities}, {@link Experiment} and {@link Run} for jobs, with
 * {@link MsiAuthentication} and {@link AzureMLTokenAuthentication} for the code a run runs.
 */
export { Audience, TESSERA_CLI_CLIENT_ID, type AccessToken } from './audience.js';
export { AbstractAuthentication, RENEW_BEFORE_EXPIRY_MS, renewalTime, type AuthenticationOptions } from './abstractAuthentication.js';
export { CliAuthentication, type Account, type CliAuthenticationOptions } from './cliAuthentication.js';
export { AccountProfile, CLOUD_NAME, SUBSCRIPTION_ENV, SubscriptionNotFoundError, SubscriptionUnavailableError, resourceOf, subscriptionFromEnv, type AccountAccessToken, type AccountUser, type SubscriptionAccount, type SubscriptionSource } from './accountProfile.js';
export { loginWithPassword, logout, type LogoutResult, type PasswordLoginOptions } from './cliLogin.js';
export { BROWSER_SIGN_IN_TIMEOUT_MS, loginWithBrowser, signInWithBrowser, type BrowserLoginOptions, type OpenBrowser, type UserSignIn } from './browserLogin.js';
export { loginWithDeviceCode, type DeviceCodeCallback, type DeviceCodeInfo, type DeviceCodeLoginOptions } from './deviceCodeLogin.js';
export { loginWithServicePrincipal, type ServicePrincipalLoginOptions } from './servicePrincipalLogin.js';
export { InteractiveSignInError, type InteractiveSignInErrorCode } from './signInError.js';
export { browserCommand, openSystemBrowser, type BrowserCommand } from './systemBrowser.js';
export { InteractiveLoginAuthentication, interactiveSessionDir, type InteractiveLoginAuthenticationOptions } from './interactiveLoginAuthentication.js';
export { ActiveDirectoryAuthentication, type ActiveDirectoryAuthenticationOptions, type ActiveDirectoryContext } from './activeDirectoryAuthentication.js';
export { MLServerAuthentication, type MLServerAuthenticationOptions } from './mlServerAuthentication.js';
export { ServicePrincipalAuthentication, SERVICE_PRINCIPAL_ENV, type ServicePrincipalAuthenticationOptions } from './servicePrincipalAuthentication.js';
export { TokenAuthentication, type GetTokenForAudience, type SuppliedToken } from './tokenAuthentication.js';
export { ASSERTION_LIFETIME_SEC, createClientAssertion, loadClientCertificate, type AssertionAlgorithm, type ClientCertificate } from './clientAssertion.js';
export { DeployClient, type DeployClientOptions } from './deployClient.js';
export {
  Service,
  ServiceDefinition,
  type ConsumeResult,
  type ParameterDefinition,
  type ParameterType,
  type RuntimeType,
  type ServiceDescription,
  type ServiceUpdate,
} from './mlServerServices.js';
export { TesseraClient, type HttpMethod, type Me } from './tesseraClient.js';
export { Directory, type Group, type GroupMember, type NewUser, type User, type UserChanges } from './directory.js';
export { ConditionalAccess, type ClientAppKind, type ConditionalAccessPolicy, type ConditionalAccessPolicyState, type IpNamedLocation, type PolicyVerdict, type PolicyWriteOptions, type WhatIfInput, type WhatIfResult } from './conditionalAccess.js';
export { ServicePrincipals, type AddPasswordOptions, type KeyCredential, type NewPasswordCredential, type PasswordCredential, type ServicePrincipal } from './servicePrincipals.js';
export { Applications, type Application, type ApplicationChanges, type NewApplication, type RedirectUriSettings } from './applications.js';
export { API_VERSIONS, ResourceManagement, type ArmResource, type ResourceGroupInput, type Subscription, type SubscriptionAlias, type SubscriptionAliasInput, type SubscriptionState, type WorkspaceInput } from './resourceManagement.js';
export {
  AuthorizationManagement,
  type AccessDecision,
  type NewRoleAssignment,
  type RoleAssignment,
  type RoleAssignmentFilter,
  type RoleDefinition,
  type RolePermission,
} from './authorizationManagement.js';
export { CONFIG_FILE_NAMES, Workspace, findWorkspaceConfig, readWorkspaceConfig, type WorkspaceConfigFile, type WorkspaceGetOptions } from './workspace.js';
export { Model, type ModelRegisterOptions, type ModelVersionProperties } from './model.js';
export { InferenceConfig, MAX_ENTRY_SCRIPT_BYTES, runtimeOfScript, type InferenceConfigOptions, type ScoringRuntime } from './inferenceConfig.js';
export {
  ClusterWebservice,
  InstanceWebservice,
  type ClusterDeploymentOptions,
  type DeploymentConfiguration,
  type InstanceDeploymentOptions,
  type ServiceAuthMode,
} from './deploymentConfiguration.js';
export {
  Webservice,
  WebserviceDeploymentError,
  deployModel,
  type DeployOptions,
  type ModelReference,
  type RegeneratedKey,
  type WaitOptions,
  type WebserviceKeys,
  type WebserviceProperties,
  type WebserviceState,
  type WebserviceUpdateOptions,
} from './webservice.js';
export { pathSegment, resourceGroupId, scopePath, subscriptionId, userAssignedIdentityId, workspaceId } from './armPaths.js';
export { Administration, type AuditQuery, type AuditRecord, type SignInLockout, type SigningAlg, type SigningKeyInfo } from './administration.js';
export {
  Quotas,
  type QuotaLimits,
  type QuotaName,
  type QuotaOverride,
  type QuotaOverrideInfo,
  type QuotaOverrideResult,
  type QuotaOverview,
  type QuotaScope,
  type QuotaTarget,
  type QuotaUsage,
  type QuotaUsageLine,
} from './quotas.js';
export { ManagedIdentityError, NotSignedInError, RunError, TesseraApiError, TesseraConnectionError } from './errors.js';
export { MsiAuthentication, requestManagedIdentityToken, resourceOfAudience, type IdentityConfig, type ManagedIdentityToken, type MsiAuthenticationOptions } from './msiAuthentication.js';
export { AzureMLTokenAuthentication, RunTokenAuthentication, RUN_ENV, type ExpiryTime, type RunScope } from './runTokenAuthentication.js';
export { loginWithManagedIdentity, type ManagedIdentityLoginOptions } from './identityLogin.js';
export { ManagedIdentities, type UserAssignedIdentity, type UserAssignedIdentityInput } from './identities.js';
export {
  COMPUTE_IDENTITY_TYPES,
  COMPUTE_TYPES,
  Compute,
  identityResourceId,
  type ComputeCreateOptions,
  type ComputeIdentityType,
  type ComputeNode,
  type ComputeResource,
  type ComputeType,
  type NodeRegistration,
} from './compute.js';
export { Experiment, isExperimentName, newRunId, type RunConfig } from './experiment.js';
export {
  FINAL_RUN_STATUSES,
  RUN_POLL_MS,
  Run,
  printableLogText,
  type JobResource,
  type MetricValue,
  type RunArtifact,
  type RunLogLine,
  type RunLogPage,
  type RunMetric,
  type RunStatus,
  type RunWaitOptions,
} from './run.js';
export { MAX_CODE_BYTES, MAX_CODE_FILES, SKIPPED_FOLDERS, codeFilesOf } from './codeSnapshot.js';
export { interpreterOf, quoteArgument, scriptCommand, splitCommandLine } from './commandLine.js';
export { DEFAULT_TIMEOUT_MS, type HttpClientOptions } from './http.js';
export { configDir, readSession, sessionPath, writePrivateFile, type CachedAccessToken, type Session } from './session.js';
export { readStoredSession, type KnownSubscription, type IdentitySession, type ServicePrincipalSession, type StoredSession } from './session.js';
export { LOCK_STALE_MS, lockPath } from './sessionLock.js';
export { normalizeServerUrl } from './serverUrl.js';
export { MultiFactorAuthentication, type AuthenticationMethod, type MfaResetResult, type PasswordAuthenticationMethod, type SoftwareOathAuthenticationMethod, type UserMfa } from './mfa.js';
export { LdapDirectories, type DirectorySyncResult, type DirectoryTestResult, type LdapDirectory, type LdapDirectoryInput, type LdapDirectorySettings } from './ldapDirectories.js';
