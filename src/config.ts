/**
 * App settings, read once and validated at start. Every problem names the setting.
 * Connections follow the Functions conventions: a connection string under the prefix itself,
 * or identity-based settings `<Prefix>__blobServiceUri` / `<Prefix>__fullyQualifiedNamespace`
 * (with optional `<Prefix>__credential` and `<Prefix>__clientId`).
 */
import { ConfigurationError } from "./errors";

export const NSG_CONTAINER = "insights-logs-networksecuritygroupflowevent";
export const VNET_CONTAINER = "insights-logs-flowlogflowevent";

export type Env = Readonly<Record<string, string | undefined>>;

/** How a client reaches a service: by connection string, or by identity at a URI. */
export type ConnectionSetting =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "identity"; uri: string; clientId?: string };

export type PartitionKeyStrategy = "mac" | "flowLog" | "none";

export interface StorageSettings {
  connection: ConnectionSetting;
  /** Lower-case account name: events for any other account are refused. */
  accountName: string;
  containers: string[];
  quarantineContainer: string;
}

export interface EventHubSettings {
  connection: ConnectionSetting;
  eventHubName: string;
  alertsEventHubName: string;
  partitionKey: PartitionKeyStrategy;
  /** 1: one event per message; above 1: up to that many events packed as a JSON array. */
  eventsPerMessage: number;
  maxBatchSizeInBytes: number | undefined;
}

export interface IngestionSettings {
  maxRangeSizeInBytes: number;
  reconcileSchedule: string;
}

export interface FlowtapSettings {
  storage: StorageSettings;
  eventHubs: EventHubSettings;
  ingestion: IngestionSettings;
}

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

export function readConnection(env: Env, prefix: string, uriSuffix: string): ConnectionSetting {
  const connectionString = read(env, prefix);
  if (connectionString) return { kind: "connectionString", connectionString };
  const uri = read(env, `${prefix}__${uriSuffix}`);
  if (!uri) {
    throw new ConfigurationError(
      `Setting ${prefix} is missing: set ${prefix} to a connection string, or ${prefix}__${uriSuffix} for an identity-based connection.`,
    );
  }
  const clientId = read(env, `${prefix}__clientId`);
  return clientId ? { kind: "identity", uri, clientId } : { kind: "identity", uri };
}

export function readPositiveInteger(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigurationError(`Setting ${name} must be a positive integer, got '${raw}'.`);
  }
  return value;
}

function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const match = choices.find((choice) => choice.toLowerCase() === raw.toLowerCase());
  if (!match) throw new ConfigurationError(`Setting ${name} must be one of ${choices.join(", ")}, got '${raw}'.`);
  return match;
}

function storageAccountName(connection: ConnectionSetting, setting: string): string {
  if (connection.kind === "identity") {
    let host: string;
    try {
      host = new URL(connection.uri).hostname;
    } catch (cause) {
      throw new ConfigurationError(`Setting ${setting}__blobServiceUri is not a URL: '${connection.uri}'.`, { cause });
    }
    // Emulator URLs carry the account in the path (http://127.0.0.1:10000/devstoreaccount1).
    const pathAccount = new URL(connection.uri).pathname.split("/").filter(Boolean)[0];
    return (host === "127.0.0.1" || host === "localhost") && pathAccount ? pathAccount.toLowerCase() : host.split(".")[0]!.toLowerCase();
  }
  const match = /(?:^|;)\s*AccountName=([^;]+)/i.exec(connection.connectionString);
  if (match) return match[1]!.toLowerCase();
  if (/UseDevelopmentStorage=true/i.test(connection.connectionString)) return "devstoreaccount1";
  throw new ConfigurationError(`Setting ${setting} is a connection string without AccountName.`);
}

function readContainers(env: Env, name: string): string[] {
  const raw = read(env, name);
  if (raw === undefined) return [NSG_CONTAINER, VNET_CONTAINER];
  const containers = raw.split(",").map((c) => c.trim().toLowerCase()).filter(Boolean);
  const bad = containers.find((c) => !/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(c));
  if (containers.length === 0 || bad !== undefined) {
    throw new ConfigurationError(`Setting ${name} must be a comma-separated list of container names, got '${raw}'.`);
  }
  return containers;
}

/** Reads and validates every setting; throws ConfigurationError naming the first bad one. */
export function readSettings(env: Env): FlowtapSettings {
  const storageConnection = readConnection(env, "FlowLogsStorage", "blobServiceUri");
  const eventHubsConnection = readConnection(env, "EventHubsConnection", "fullyQualifiedNamespace");
  return {
    storage: {
      connection: storageConnection,
      accountName: storageAccountName(storageConnection, "FlowLogsStorage"),
      containers: readContainers(env, "FLOWTAP_CONTAINERS"),
      quarantineContainer: read(env, "FLOWTAP_QUARANTINE_CONTAINER") ?? "flowtap-quarantine",
    },
    eventHubs: {
      connection: eventHubsConnection,
      eventHubName: read(env, "FLOWTAP_EVENTHUB_NAME") ?? "flows",
      alertsEventHubName: read(env, "FLOWTAP_ALERTS_EVENTHUB_NAME") ?? "alerts",
      partitionKey: readChoice(env, "FLOWTAP_PARTITION_KEY", ["mac", "flowLog", "none"] as const, "mac"),
      eventsPerMessage: readPositiveInteger(env, "FLOWTAP_EVENTS_PER_MESSAGE", 1),
      maxBatchSizeInBytes: read(env, "FLOWTAP_MAX_BATCH_BYTES")
        ? readPositiveInteger(env, "FLOWTAP_MAX_BATCH_BYTES", 1)
        : undefined,
    },
    ingestion: {
      maxRangeSizeInBytes: readPositiveInteger(env, "FLOWTAP_MAX_RANGE_BYTES", 4 * 1024 * 1024),
      reconcileSchedule: read(env, "FLOWTAP_RECONCILE_SCHEDULE") ?? "0 */5 * * * *",
    },
  };
}
