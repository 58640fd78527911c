import type { AmqpError } from "rhea";
import { configurationError } from "../../src/errors";
import { partitionOutOfRange } from "./conditions";
import { DEFAULT_RETENTION, PartitionLog, type RetentionLimits } from "./partitionLog";

/** One Event Hub the endpoint serves. */
export interface LocalHubDefinition {
  name: string;
  partitionCount: number;
  /** Consumer groups besides `$Default`, which always exists. */
  consumerGroups?: string[];
  /** Per partition; default the endpoint's `retention`. */
  retention?: Partial<RetentionLimits>;
}

export interface Hub {
  definition: LocalHubDefinition;
  createdOn: Date;
  partitions: PartitionLog[];
  consumerGroups: Set<string>;
  /** Events with neither a partition id nor a key are spread round-robin, as the service does. */
  nextRoundRobinPartition: number;
}

const DEFAULT_CONSUMER_GROUP = "$Default";

/** The partition with this id: ids are the decimal indexes "0".."N-1", as the service names them. */
export function partitionOf(hub: Hub, partitionId: string): PartitionLog | undefined {
  return /^(0|[1-9]\d*)$/.test(partitionId) ? hub.partitions[Number(partitionId)] : undefined;
}

export function partitionRefusal(hub: Hub, partitionId: string): AmqpError | undefined {
  return partitionOf(hub, partitionId) ? undefined : partitionOutOfRange(partitionId, hub.partitions.length);
}

function retentionOf(where: string, limits: Partial<RetentionLimits> = {}, base = DEFAULT_RETENTION): RetentionLimits {
  const merged = { ...base, ...limits };
  for (const [name, value] of Object.entries(merged)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw configurationError(`${where}.${name} must be a positive integer, got ${String(value)}`);
  }
  return merged;
}

function checkDefinition(definition: LocalHubDefinition, where: string, known: Map<string, Hub>): void {
  if (typeof definition.name !== "string" || !/^[\w.-]+$/.test(definition.name)) {
    throw configurationError(
      `${where}.name must be letters, digits, '.', '_' or '-', got ${JSON.stringify(definition.name)}`,
    );
  }
  if (known.has(definition.name)) throw configurationError(`${where}.name '${definition.name}' is listed twice`);
  const count = definition.partitionCount;
  if (!Number.isInteger(count) || count < 1 || count > 1024) {
    throw configurationError(`${where}.partitionCount must be an integer from 1 to 1024, got ${count}`);
  }
}

export function createHubs(definitions: LocalHubDefinition[], retention?: Partial<RetentionLimits>): Map<string, Hub> {
  if (!Array.isArray(definitions) || definitions.length === 0) {
    throw configurationError("startEventHubsEndpoint: hubs must list at least one hub");
  }
  const endpointRetention = retentionOf("startEventHubsEndpoint: retention", retention);
  const hubs = new Map<string, Hub>();
  definitions.forEach((definition, index) => {
    const where = `startEventHubsEndpoint: hubs[${index}]`;
    checkDefinition(definition, where, hubs);
    const limits = retentionOf(`${where}.retention`, definition.retention, endpointRetention);
    hubs.set(definition.name, {
      definition,
      createdOn: new Date(),
      partitions: Array.from({ length: definition.partitionCount }, () => new PartitionLog(limits)),
      // Entity names are case-insensitive: the SDK's default group is "$default" (core-amqp Constants).
      consumerGroups: new Set(
        [DEFAULT_CONSUMER_GROUP, ...(definition.consumerGroups ?? [])].map((group) => group.toLowerCase()),
      ),
      nextRoundRobinPartition: 0,
    });
  });
  return hubs;
}
