/**
 * Child process: the local Functions host (devhost/host) running the compiled app on its own
 * process, as the Functions host runs apart from Azurite and Event Hubs, with a store that keeps
 * the largest history and state it was given. Requests: start → its URL and function key;
 * figures → the store's figures and this process's CPU time.
 */
import { startLocalHost, type LocalHost } from "../devhost/host";
import { serveBenchRequests } from "./childProcess";
import { MeasuringStore, type StoreFigures } from "./hostStoreFigures";

export type HostRequest =
  | { kind: "start"; appModulePath: string; settings: Record<string, string>; maxConcurrentActivities: number }
  | { kind: "figures" };

export interface HostReply {
  baseUrl?: string;
  functionKey?: string;
  figures?: StoreFigures;
  cpuTimeInMs?: number;
}

const store = new MeasuringStore();
let host: LocalHost | undefined;

serveBenchRequests<HostRequest, HostReply>(
  async (request) => {
    if (request.kind === "start") {
      host = await startLocalHost({
        app: { modulePath: request.appModulePath },
        port: 0,
        settings: request.settings,
        store,
        enableTimerTriggers: false,
        maxConcurrentActivities: request.maxConcurrentActivities,
      });
      return { baseUrl: host.baseUrl, functionKey: host.keys.host };
    }
    const usage = process.cpuUsage();
    return { figures: store.snapshotFigures(), cpuTimeInMs: (usage.user + usage.system) / 1000 };
  },
  async () => {
    await host?.stop();
  },
);
