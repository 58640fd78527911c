import { ArmHttpError } from "./armHttpError";

/**
 * Packet capture request validation and session state, as the Network Watcher service
 * behaves (limits from the REST API spec: timeLimitInSeconds 0..18000, totalBytesPerSession
 * default 1 GiB, filter protocol TCP|UDP|Any).
 */

/** Code of every request-body validation failure (the Network RP's code for unusable bodies). */
export const INVALID_REQUEST_CODE = "InvalidRequestFormat";

export interface PacketCaptureFilterBody {
  protocol?: string;
  localIPAddress?: string;
  remoteIPAddress?: string;
  localPort?: string;
  remotePort?: string;
}

export interface PacketCaptureStorageLocationBody {
  storageId?: string;
  storagePath?: string;
  filePath?: string;
}

/** The request properties after validation, with the service's defaults filled in. */
export interface PacketCaptureProperties {
  target: string;
  /** PacketCaptureTargetType (networkWatcher.json): a VM, or a scale set with `scope`. */
  targetType: "AzureVM" | "AzureVMSS";
  /** PacketCaptureMachineScope: AzureVMSS instances to include or exclude (both empty: every instance). */
  scope?: { include: string[]; exclude: string[] };
  bytesToCapturePerPacket: number;
  totalBytesPerSession: number;
  timeLimitInSeconds: number;
  storageLocation: PacketCaptureStorageLocationBody;
  filters: PacketCaptureFilterBody[];
}

/** Values of packetCaptureError[] (PcError in the REST API). */
export const PACKET_CAPTURE_ERROR_CODES = [
  "InternalError",
  "AgentStopped",
  "CaptureFailed",
  "LocalFileFailed",
  "StorageFailed",
] as const;
export type PacketCaptureErrorCode = (typeof PACKET_CAPTURE_ERROR_CODES)[number];

export type PacketCaptureSessionStatus = "NotStarted" | "Running" | "Stopped" | "Error" | "Unknown";

/** One packet capture session held by the endpoint. */
export interface PacketCaptureRecord {
  id: string;
  name: string;
  properties: PacketCaptureProperties;
  provisioningState: "Updating" | "Succeeded" | "Deleting" | "Failed";
  /** Set when creation completes: the session runs from then on. */
  captureStartTimeInMs?: number;
  stoppedAtInMs?: number;
  stopReason?: string;
  /** Set when the session failed (status Error). */
  errors?: PacketCaptureErrorCode[];
}

export const MAX_TIME_LIMIT_IN_SECONDS = 18000;
const DEFAULT_TOTAL_BYTES_PER_SESSION = 1073741824;
const MAX_UINT32 = 4294967295;
const FILTER_PROTOCOLS = ["TCP", "UDP", "Any"];
const FILTER_FIELDS = ["localIPAddress", "remoteIPAddress", "localPort", "remotePort"] as const;

/** Validates a PUT body `{ properties: {...} }`; throws a 400 ArmHttpError naming the property. */
export function validatePacketCaptureBody(body: unknown): PacketCaptureProperties {
  if (!isObject(body) || !isObject(body["properties"])) {
    throw invalid("properties", "Required property 'properties' not found in JSON.", "MissingJsonProperty");
  }
  const properties = body["properties"];
  const target = properties["target"];
  if (typeof target !== "string" || target.length === 0) {
    throw invalid("properties.target", "Required property 'target' not found in JSON.", "MissingJsonProperty");
  }
  const targetType = properties["targetType"] ?? "AzureVM";
  if (targetType !== "AzureVM" && targetType !== "AzureVMSS") {
    throw invalid(
      "properties.targetType",
      `Expected AzureVM or AzureVMSS (PacketCaptureTargetType), got ${JSON.stringify(targetType)}.`,
    );
  }
  const scope = properties["scope"] === undefined ? undefined : validateScope(properties["scope"]);
  return {
    target,
    targetType,
    ...(scope && { scope }),
    bytesToCapturePerPacket: integerIn(properties, "bytesToCapturePerPacket", 0, MAX_UINT32, 0),
    totalBytesPerSession: integerIn(properties, "totalBytesPerSession", 0, MAX_UINT32, DEFAULT_TOTAL_BYTES_PER_SESSION),
    timeLimitInSeconds: integerIn(
      properties,
      "timeLimitInSeconds",
      0,
      MAX_TIME_LIMIT_IN_SECONDS,
      MAX_TIME_LIMIT_IN_SECONDS,
    ),
    storageLocation: validateStorageLocation(properties["storageLocation"]),
    filters: validateFilters(properties["filters"]),
  };
}

/**
 * The session status at `nowInMs`; a running session whose time limit has passed becomes
 * Stopped with stopReason TimeExceeded (stopped at start + limit, not at the time of the query).
 */
export function refreshSessionStatus(record: PacketCaptureRecord, nowInMs: number): PacketCaptureSessionStatus {
  if (record.errors !== undefined) return "Error";
  if (record.stoppedAtInMs !== undefined) return "Stopped";
  if (record.captureStartTimeInMs === undefined) return "NotStarted";
  const limitInMs = record.properties.timeLimitInSeconds * 1000;
  // A limit of 0 means no time limit (the session runs until stopped or the byte limit is hit).
  if (limitInMs > 0 && nowInMs >= record.captureStartTimeInMs + limitInMs) {
    record.stoppedAtInMs = record.captureStartTimeInMs + limitInMs;
    record.stopReason = "TimeExceeded";
    return "Stopped";
  }
  return "Running";
}

/** The body of a queryStatus result (PacketCaptureQueryStatusResult). */
export function toQueryStatusResult(record: PacketCaptureRecord, nowInMs: number): Record<string, unknown> {
  const packetCaptureStatus = refreshSessionStatus(record, nowInMs);
  return {
    name: record.name,
    id: record.id,
    ...(record.captureStartTimeInMs !== undefined && {
      captureStartTime: new Date(record.captureStartTimeInMs).toISOString(),
    }),
    packetCaptureStatus,
    ...(record.stopReason !== undefined && { stopReason: record.stopReason }),
    packetCaptureError: record.errors ?? [],
  };
}

/** The body of a packet capture resource (PacketCaptureResult). */
export function toPacketCaptureResource(record: PacketCaptureRecord): Record<string, unknown> {
  return {
    name: record.name,
    id: record.id,
    etag: `W/"${record.provisioningState}-${record.stopReason ?? "none"}"`,
    properties: { provisioningState: record.provisioningState, ...record.properties },
  };
}

/** PacketCaptureMachineScope (networkWatcher.json): `include` and `exclude`, lists of instance ids. */
function validateScope(value: unknown): { include: string[]; exclude: string[] } {
  if (!isObject(value)) throw invalid("properties.scope", "Expected an object.");
  const list = (field: "include" | "exclude"): string[] => {
    const entries = value[field] ?? [];
    if (!Array.isArray(entries) || entries.some((entry) => typeof entry !== "string"))
      throw invalid(`properties.scope.${field}`, "Expected an array of strings.");
    return entries as string[];
  };
  return { include: list("include"), exclude: list("exclude") };
}

function validateStorageLocation(value: unknown): PacketCaptureStorageLocationBody {
  if (!isObject(value)) {
    throw invalid(
      "properties.storageLocation",
      "Required property 'storageLocation' not found in JSON.",
      "MissingJsonProperty",
    );
  }
  const location: PacketCaptureStorageLocationBody = {};
  for (const field of ["storageId", "storagePath", "filePath"] as const) {
    const fieldValue = value[field];
    if (fieldValue === undefined) continue;
    if (typeof fieldValue !== "string") throw invalid(`properties.storageLocation.${field}`, "Expected a string.");
    location[field] = fieldValue;
  }
  if (location.storageId === undefined && location.filePath === undefined) {
    throw invalid("properties.storageLocation", "Either storageId or filePath must be specified.");
  }
  if (location.storagePath !== undefined && !/^https:\/\//i.test(location.storagePath)) {
    throw invalid(
      "properties.storageLocation.storagePath",
      `Expected an https blob URI, got ${JSON.stringify(location.storagePath)}.`,
    );
  }
  return location;
}

function validateFilters(value: unknown): PacketCaptureFilterBody[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid("properties.filters", "Expected an array.");
  return value.map((filter: unknown, index) => {
    const where = `properties.filters[${index}]`;
    if (!isObject(filter)) throw invalid(where, "Expected an object.");
    const protocol = filter["protocol"] ?? "Any";
    if (typeof protocol !== "string" || !FILTER_PROTOCOLS.includes(protocol)) {
      throw invalid(
        `${where}.protocol`,
        `Expected one of ${FILTER_PROTOCOLS.join(", ")}, got ${JSON.stringify(protocol)}.`,
      );
    }
    const validated: PacketCaptureFilterBody = { protocol };
    for (const field of FILTER_FIELDS) {
      const fieldValue = filter[field];
      if (fieldValue === undefined) continue;
      if (typeof fieldValue !== "string") throw invalid(`${where}.${field}`, "Expected a string.");
      validated[field] = fieldValue;
    }
    return validated;
  });
}

function integerIn(
  properties: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const value = properties[field];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(
      `properties.${field}`,
      `Expected an integer between ${min} and ${max}, got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

function invalid(path: string, message: string, detailCode = "InvalidParameter"): ArmHttpError {
  return new ArmHttpError(400, INVALID_REQUEST_CODE, `Cannot parse the request: ${path}: ${message}`, [
    { code: detailCode, message: `${message} Path '${path}'.` },
  ]);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
