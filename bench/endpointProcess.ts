/**
 * Child process: the local Event Hubs endpoint on its own core, as the remote service it stands for.
 * Requests: start (hubs, retainEvents) → connection strings; cpu → CPU time used so far.
 */
import { startEventHubsEndpoint, type LocalEventHubsEndpoint, type LocalHubDefinition } from "../devhost/eventhubs";
import { serveBenchRequests } from "./childProcess";

export type EndpointRequest = { kind: "start"; hubs: LocalHubDefinition[]; retainEvents: boolean } | { kind: "cpu" };
export interface EndpointReply {
  /** Hub name → connection string. */
  connectionStrings?: Record<string, string>;
  cpuTimeInMs?: number;
}

let endpoint: LocalEventHubsEndpoint | undefined;

serveBenchRequests<EndpointRequest, EndpointReply>(
  async (request) => {
    if (request.kind === "start") {
      endpoint = await startEventHubsEndpoint({ hubs: request.hubs, retainEvents: request.retainEvents });
      const started = endpoint;
      return {
        connectionStrings: Object.fromEntries(
          request.hubs.map((hub) => [hub.name, started.connectionString(hub.name)]),
        ),
      };
    }
    const usage = process.cpuUsage();
    return { cpuTimeInMs: (usage.user + usage.system) / 1000 };
  },
  async () => {
    await endpoint?.stop();
  },
);
