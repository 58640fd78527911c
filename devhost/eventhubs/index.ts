export {
  startEventHubsEndpoint,
  type InjectFaultsOptions,
  type LocalEventHubEvent,
  type LocalEventHubsEndpoint,
  type LocalHubDefinition,
  type SendOutcomeCounts,
  type StartEventHubsEndpointOptions,
} from "./endpoint";
export { partitionIdForKey } from "./partitionKey";
