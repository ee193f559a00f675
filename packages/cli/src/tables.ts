/**
 * `-o table` as az prints it for each kind of resource: a few columns chosen for reading
 * (az's table transformers), not every scalar field. Each table is a JMESPath
 * multiselect applied to the printed JSON, row by row; a `--query` replaces it (the
 * table then shows what the query selected). Results without a table of their own show
 * their scalar fields.
 */

/** The tables, by kind of result. Column titles are az's. */
export const TABLES = {
  account: '{Name:name, CloudName:cloudName || environmentName, SubscriptionId:id, TenantId:tenantId, State:state, IsDefault:isDefault}',
  subscription: '{DisplayName:displayName, SubscriptionId:subscriptionId, State:state}',
  subscriptionAlias: '{Name:name, SubscriptionId:properties.subscriptionId, ProvisioningState:properties.provisioningState}',
  resourceGroup: '{Name:name, Location:location, Status:properties.provisioningState}',
  workspace: "{Name:name, Location:location, ResourceGroup:split(id, '/')[4], FriendlyName:properties.friendlyName}",
  roleAssignment: '{Principal:principalName || principalId, PrincipalType:principalType, Role:roleDefinitionName, Scope:scope}',
  roleDefinition: '{Name:roleName, Type:roleType, Description:description}',
  user: '{DisplayName:displayName, UserPrincipalName:userPrincipalName, Id:id, AccountEnabled:accountEnabled}',
  group: '{DisplayName:displayName, MailNickname:mailNickname, Id:id}',
  servicePrincipal: '{DisplayName:displayName, AppId:appId, Id:id, Type:servicePrincipalType}',
  application: '{DisplayName:displayName, AppId:appId, Id:id, SignInAudience:signInAudience}',
  model: '{Name:name, Version:version, Framework:modelFramework || properties.modelFramework, CreatedTime:createdTime || properties.createdTime}',
  service: '{Name:name, Target:target, AuthMode:authMode, State:state, ScoringUri:scoringUri}',
  compute: '{Name:name, Type:properties.computeType, Identity:identity.type, Nodes:properties.properties.nodes.online, Running:properties.properties.runs.running, Queued:properties.properties.runs.queued}',
  run: '{Name:name, Experiment:properties.experimentName, Status:properties.status, Compute:properties.computeId, Created:properties.creationTime}',
  identity: '{Name:name, ResourceGroup:resourceGroup, ClientId:clientId, PrincipalId:principalId, Location:location}',
  conditionalAccessPolicy: '{DisplayName:displayName, State:state, Id:id}',
  namedLocation: '{DisplayName:displayName, IsTrusted:isTrusted, Id:id}',
} as const;

/** A kind of result with a table of its own. */
export type TableKind = keyof typeof TABLES;
