export {
  startEventHubsEndpoint,
  type LocalEventHubEvent,
  type LocalEventHubsEndpoint,
  type LocalHubDefinition,
  type SendFaultOptions,
  type SendOutcomeCounts,
  type StartEventHubsEndpointOptions,
} from "./endpoint";
export { partitionIdForKey } from "./partitionKey";
