export {
  startEventHubsEndpoint,
  type LocalEventHubsEndpoint,
  type RetentionFigures,
  type StartEventHubsEndpointOptions,
} from "./endpoint";
export type { LocalHubDefinition } from "./hubs";
export type { LocalEventHubEvent } from "./readBack";
export type { InjectFaultsOptions, SendOutcomeCounts } from "./state";
export { DEFAULT_RETENTION, type RetentionLimits } from "./partitionLog";
export { partitionIdForKey } from "./partitionKey";
