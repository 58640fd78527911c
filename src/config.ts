/**
 * App settings, read once and validated at start. Every problem names the setting.
 * Connections follow the Functions conventions: a connection string under the prefix itself,
 * or identity-based settings `<Prefix>__blobServiceUri` / `<Prefix>__fullyQualifiedNamespace`
 * (with optional `<Prefix>__credential` and `<Prefix>__clientId`).
 */
import { readFileSync } from "node:fs";
import { loadRules, type AnomalyRule } from "./core/anomaly/rules";
import { validateCapturePolicyConfig, type CapturePolicyConfig } from "./core/capturePolicy";
import { DEFAULT_DCR_ALERTS_STREAM } from "./core/alertsTable";
import { DEFAULT_DCR_STREAM } from "./core/asim/networkSessionColumns";
import { EVENT_SCHEMA_VERSION, EVENT_SCHEMA_VERSIONS, type EventSchemaVersion } from "./core/event";
import { NO_EVENT_FILTERS, validateEventFilters, type EventFilterConfig } from "./core/eventFilter";
import { parseJsonSetting } from "./core/anomaly/validate";
import { configurationError } from "./errors";

export const NSG_CONTAINER = "insights-logs-networksecuritygroupflowevent";
export const VNET_CONTAINER = "insights-logs-flowlogflowevent";

export type Env = Readonly<Record<string, string | undefined>>;

/** How a client reaches a service: by connection string, or by identity at a URI. */
export type ConnectionSetting =
  { kind: "connectionString"; connectionString: string } | { kind: "identity"; uri: string; clientId?: string };

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
  /** 1: one event per message; above 1: up to that many events in one message (a JSON array, or compact). */
  eventsPerMessage: number;
  maxBatchSizeInBytes: number | undefined;
  /** FLOWTAP_MESSAGE_FORMAT (default json): compact sends gzip-compressed compact records (docs/events.md). */
  messageFormat?: MessageFormat;
}

/** How the flows hub's messages carry events: plain JSON, or gzip-compressed compact records. */
export const MESSAGE_FORMATS = ["json", "compact"] as const;
export type MessageFormat = (typeof MESSAGE_FORMATS)[number];

export interface IngestionSettings {
  maxRangeSizeInBytes: number;
  /** NCRONTAB (6 fields, UTC) of the reconcile timer. */
  reconcileSchedule: string;
  /** FLOWTAP_RANGES_PER_GENERATION: ranges an ingestBlob generation commits before continueAsNew (bounded history). */
  rangesPerGeneration: number;
  /**
   * FLOWTAP_CLAIM_TTL_SECONDS: how long a range claim holds (renewed before each retry); it must outlast one
   * processRange attempt.
   */
  claimTtlInSeconds: number;
  /** FLOWTAP_CLAIM_RETRY_SECONDS: wait before claiming again a range another owner holds. */
  claimRetryInSeconds: number;
  /**
   * FLOWTAP_INGEST_LINGER_SECONDS: a caught-up ingestBlob waits this long for the next update before it ends (0: ends
   * at once).
   */
  lingerInSeconds: number;
  /** FLOWTAP_ACTIVITY_MAX_ATTEMPTS: tries of each ingestion activity (the first included). */
  activityMaxAttempts: number;
  /** FLOWTAP_ACTIVITY_RETRY_INTERVAL_MS: delay before the second try, doubled for each further one. */
  activityRetryIntervalInMs: number;
  /** FLOWTAP_EVENTHUB_RETRY_DELAY_MS: Event Hubs send retry delay (the SDK's and the sink's backoff). */
  eventHubsRetryDelayInMs: number;
}

export interface AnomalySettings {
  /** From FLOWTAP_RULES (JSON) or FLOWTAP_RULES_FILE (path to JSON); DEFAULT_RULES when neither is set. */
  rules: AnomalyRule[];
}

/** How flowtap reaches Azure Resource Manager (Network Watcher packet captures, VM lookups). */
export interface ArmSettings {
  /** FLOWTAP_ARM_ENDPOINT, default https://management.azure.com (no trailing slash). */
  endpoint: string;
  /** PEM to trust in addition to the system CAs (FLOWTAP_ARM_CA_CERT, or the file FLOWTAP_ARM_CA_CERT_FILE). */
  caCertificatePem?: string;
  /**
   * DefaultAzureCredential, with FLOWTAP_ARM_CLIENT_ID for a user-assigned identity; or, for a loopback endpoint only,
   * FLOWTAP_ARM_DEV_TOKEN.
   */
  credential: { kind: "identity"; clientId?: string } | { kind: "devToken"; token: string };
  /** FLOWTAP_ARM_LRO_INTERVAL_MS; undefined: the SDK's default (2 s, or the service's Retry-After). */
  lroUpdateIntervalInMs?: number;
  /**
   * FLOWTAP_ARM_RETRY_DELAY_MS, default 1000: base delay of the SDK's retries of 5xx/408/network errors (3 retries,
   * doubling).
   */
  retryDelayInMs: number;
}

export interface CaptureSettings {
  arm: ArmSettings;
  /** FLOWTAP_CAPTURE_POLICY (JSON); undefined: captures are refused with reason notConfigured. */
  policy?: CapturePolicyConfig;
  /** FLOWTAP_CAPTURE_POLL_INTERVAL_SECONDS, default 30: durable-timer interval between status polls. */
  pollIntervalInSeconds: number;
  /** FLOWTAP_STOP_CAPTURES_ON_RESOLVE, default true: a Resolved alert stops the captures its Fired delivery started. */
  stopCapturesOnResolve: boolean;
}

export interface BackfillSettings {
  /** Longest range a backfill accepts, in hours (FLOWTAP_BACKFILL_MAX_HOURS, default 744 = 31 days). */
  maxHours: number;
  /** Blobs ingested at once when a request does not say (FLOWTAP_BACKFILL_PARALLEL_BLOBS, default 8). */
  defaultParallelBlobs: number;
  /** Largest `maxParallelBlobs` a request may ask for (FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS, default 64). */
  maxParallelBlobs: number;
  /** Blobs per listing page, and per backfill generation (FLOWTAP_BACKFILL_PAGE_BLOBS, default 100). */
  blobsPerPage: number;
}

/** Enrichment of events with the NIC, VM, subnet and VNet of their MAC (ARM reads, cached). */
export interface EnrichmentSettings {
  /** FLOWTAP_ENRICHMENT, on (default) or off. */
  enabled: boolean;
  /** FLOWTAP_ENRICHMENT_TTL_SECONDS (default 600): how long ARM's answers (and failures) are trusted. */
  ttlInSeconds: number;
  /** FLOWTAP_ENRICHMENT_MAX_NICS (default 100000): most NICs cached. */
  maxNics: number;
  /** FLOWTAP_ENRICHMENT_WAIT_MS (default 1000; 0: never wait): longest a range waits for a lookup it needs. */
  waitInMs: number;
}

/** What the flows hub receives: the event schema, the cost filters, the enrichment. */
export interface EventSettings {
  /** FLOWTAP_EVENT_SCHEMA_VERSION, 1 or 2 (default 2): 1 is kept for existing consumers for one release. */
  schemaVersion: EventSchemaVersion;
  /** FLOWTAP_EVENT_FILTERS (JSON `{"drop":[...]}`, docs/events.md); default: nothing dropped. */
  filters: EventFilterConfig;
  enrichment: EnrichmentSettings;
}

/** Freshness of the flow logs (reports on the alerts hub at each reconcile run). */
export interface FreshnessSettings {
  /** FLOWTAP_FLOW_LOG_SILENT_MINUTES (default 15): a flow log that wrote and is silent longer is alerted. */
  silentAfterSeconds: number;
}

/** Where flow events go (FLOWTAP_SINKS): the flows hub, Log Analytics (Logs Ingestion API), or both. */
export const SINK_CHOICES = ["eventhubs", "loganalytics", "both"] as const;
export type SinkChoice = (typeof SINK_CHOICES)[number];

/** The Logs Ingestion API destination: a DCR's stream, reached at a DCE (or the DCR's own endpoint). */
export interface LogsIngestionSettings {
  /** FLOWTAP_LOGS_INGESTION_ENDPOINT: the data collection endpoint's logs ingestion URL (https). */
  endpoint: string;
  /** FLOWTAP_DCR_IMMUTABLE_ID: the DCR's immutableId (`dcr-` and 32 hex digits). */
  ruleId: string;
  /** FLOWTAP_DCR_STREAM: the DCR's input stream (default Custom-FlowtapNetworkSession). */
  streamName: string;
  /**
   * FLOWTAP_DCR_ALERTS_STREAM: the DCR's input stream for the alerts hub's events (default Custom-FlowtapAlerts);
   * undefined when set to `none` (a rule without that stream).
   */
  alertsStreamName: string | undefined;
  /**
   * DefaultAzureCredential (FLOWTAP_LOGS_INGESTION_CLIENT_ID for a user-assigned identity); or, for a loopback
   * endpoint only, FLOWTAP_LOGS_INGESTION_DEV_TOKEN.
   */
  credential: { kind: "identity"; clientId?: string } | { kind: "devToken"; token: string };
  /** FLOWTAP_LOGS_INGESTION_CA_CERT: PEM to trust in addition to the system CAs (the local endpoint). */
  caCertificatePem?: string;
  /** FLOWTAP_LOGS_INGESTION_RETRY_DELAY_MS (default 1000): the sink's delay before re-sending failed chunks. */
  retryDelayInMs: number;
}

export interface SinkSettings {
  choice: SinkChoice;
  eventHubs: boolean;
  /** Set when FLOWTAP_SINKS is loganalytics or both. */
  logsIngestion: LogsIngestionSettings | undefined;
}

export interface FlowtapSettings {
  sinks: SinkSettings;
  storage: StorageSettings;
  eventHubs: EventHubSettings;
  ingestion: IngestionSettings;
  anomaly: AnomalySettings;
  capture: CaptureSettings;
  backfill: BackfillSettings;
  events: EventSettings;
  freshness: FreshnessSettings;
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
    throw configurationError(
      `Setting ${prefix} is missing: set ${prefix} to a connection string, or ${prefix}__${uriSuffix} for an ` +
        `identity-based connection.`,
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
    throw configurationError(`Setting ${name} must be a positive integer, got '${raw}'.`);
  }
  return value;
}

function readNonNegativeInteger(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw configurationError(`Setting ${name} must be an integer >= 0, got '${raw}'.`);
  }
  return value;
}

/** NCRONTAB as Functions timers take it: six fields (second minute hour day month day-of-week). */
function readSchedule(env: Env, name: string, fallback: string): string {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const fields = raw.split(/\s+/);
  if (fields.length !== 6 || fields.some((field) => !/^[0-9A-Za-z*/,-]+$/.test(field))) {
    throw configurationError(
      `Setting ${name} must be an NCRONTAB expression of 6 fields ("second minute hour day month day-of-week"), got ` +
        `'${raw}'.`,
    );
  }
  return raw;
}

function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const match = choices.find((choice) => choice.toLowerCase() === raw.toLowerCase());
  if (!match) throw configurationError(`Setting ${name} must be one of ${choices.join(", ")}, got '${raw}'.`);
  return match;
}

function storageAccountName(connection: ConnectionSetting, setting: string): string {
  if (connection.kind === "identity") {
    let host: string;
    try {
      host = new URL(connection.uri).hostname;
    } catch (cause) {
      throw configurationError(`Setting ${setting}__blobServiceUri is not a URL: '${connection.uri}'.`, { cause });
    }
    // Emulator URLs carry the account in the path (http://127.0.0.1:10000/devstoreaccount1).
    const pathAccount = new URL(connection.uri).pathname.split("/").filter(Boolean)[0];
    return (host === "127.0.0.1" || host === "localhost") && pathAccount
      ? pathAccount.toLowerCase()
      : host.split(".")[0]!.toLowerCase();
  }
  const match = /(?:^|;)\s*AccountName=([^;]+)/i.exec(connection.connectionString);
  if (match) return match[1]!.toLowerCase();
  if (/UseDevelopmentStorage=true/i.test(connection.connectionString)) return "devstoreaccount1";
  throw configurationError(`Setting ${setting} is a connection string without AccountName.`);
}

function readContainers(env: Env, name: string): string[] {
  const raw = read(env, name);
  if (raw === undefined) return [NSG_CONTAINER, VNET_CONTAINER];
  const containers = raw
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
  const bad = containers.find((c) => !/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(c));
  if (containers.length === 0 || bad !== undefined) {
    throw configurationError(`Setting ${name} must be a comma-separated list of container names, got '${raw}'.`);
  }
  return containers;
}

function readTextFile(path: string, setting: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    throw configurationError(`Setting ${setting}: cannot read '${path}' (${(cause as Error).message}).`, { cause });
  }
}

export function readAnomalySettings(env: Env): AnomalySettings {
  const inline = read(env, "FLOWTAP_RULES");
  const file = read(env, "FLOWTAP_RULES_FILE");
  if (inline !== undefined && file !== undefined) {
    throw configurationError("Settings FLOWTAP_RULES and FLOWTAP_RULES_FILE are both set: set only one.");
  }
  if (file !== undefined)
    return { rules: loadRules(readTextFile(file, "FLOWTAP_RULES_FILE"), `Setting FLOWTAP_RULES_FILE (${file})`) };
  return { rules: loadRules(inline, "Setting FLOWTAP_RULES") };
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** True for endpoints on this machine: the only ones a dev token may be sent to. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  return LOOPBACK_HOSTS.has(new URL(endpoint).hostname.toLowerCase());
}

export function readArmSettings(env: Env): ArmSettings {
  const endpoint = (read(env, "FLOWTAP_ARM_ENDPOINT") ?? "https://management.azure.com").replace(/\/+$/, "");
  if (!URL.canParse(endpoint) || new URL(endpoint).protocol !== "https:") {
    throw configurationError(
      `Setting FLOWTAP_ARM_ENDPOINT must be an https URL (ARM refuses bearer tokens over http), got '${endpoint}'.`,
    );
  }
  const inlineCa = read(env, "FLOWTAP_ARM_CA_CERT");
  const caFile = read(env, "FLOWTAP_ARM_CA_CERT_FILE");
  if (inlineCa !== undefined && caFile !== undefined) {
    throw configurationError("Settings FLOWTAP_ARM_CA_CERT and FLOWTAP_ARM_CA_CERT_FILE are both set: set only one.");
  }
  const caSetting = caFile !== undefined ? "FLOWTAP_ARM_CA_CERT_FILE" : "FLOWTAP_ARM_CA_CERT";
  const caCertificatePem = caFile !== undefined ? readTextFile(caFile, "FLOWTAP_ARM_CA_CERT_FILE") : inlineCa;
  if (caCertificatePem !== undefined && !caCertificatePem.includes("-----BEGIN CERTIFICATE-----")) {
    throw configurationError(`Setting ${caSetting} must be a PEM certificate (-----BEGIN CERTIFICATE-----).`);
  }
  const devToken = read(env, "FLOWTAP_ARM_DEV_TOKEN");
  const clientId = read(env, "FLOWTAP_ARM_CLIENT_ID");
  if (devToken !== undefined && !isLoopbackEndpoint(endpoint)) {
    throw configurationError(
      `Setting FLOWTAP_ARM_DEV_TOKEN is only for a loopback FLOWTAP_ARM_ENDPOINT (127.0.0.1, localhost), not ` +
        `'${endpoint}'.`,
    );
  }
  if (devToken !== undefined && clientId !== undefined) {
    throw configurationError("Settings FLOWTAP_ARM_DEV_TOKEN and FLOWTAP_ARM_CLIENT_ID are both set: set only one.");
  }
  const lroInterval = read(env, "FLOWTAP_ARM_LRO_INTERVAL_MS");
  return {
    endpoint,
    ...(caCertificatePem !== undefined && { caCertificatePem }),
    credential:
      devToken !== undefined
        ? { kind: "devToken", token: devToken }
        : { kind: "identity", ...(clientId !== undefined && { clientId }) },
    ...(lroInterval !== undefined && {
      lroUpdateIntervalInMs: readPositiveInteger(env, "FLOWTAP_ARM_LRO_INTERVAL_MS", 1),
    }),
    retryDelayInMs: readPositiveInteger(env, "FLOWTAP_ARM_RETRY_DELAY_MS", 1000),
  };
}

export function readCaptureSettings(env: Env): CaptureSettings {
  const policyText = read(env, "FLOWTAP_CAPTURE_POLICY");
  return {
    arm: readArmSettings(env),
    ...(policyText !== undefined && {
      policy: validateCapturePolicyConfig(
        parseJsonSetting(policyText, "Setting FLOWTAP_CAPTURE_POLICY"),
        "Setting FLOWTAP_CAPTURE_POLICY",
      ),
    }),
    pollIntervalInSeconds: readPositiveInteger(env, "FLOWTAP_CAPTURE_POLL_INTERVAL_SECONDS", 30),
    stopCapturesOnResolve:
      readChoice(env, "FLOWTAP_STOP_CAPTURES_ON_RESOLVE", ["true", "false"] as const, "true") === "true",
  };
}

/** Secure Webhook: action groups' Entra ID tokens, accepted on `POST /api/alerts/secure`. */
export interface SecureWebhookSettings {
  /** FLOWTAP_ALERTS_ENTRA_TENANT_ID: the tenant whose tokens are accepted. */
  tenantId: string;
  /** FLOWTAP_ALERTS_ENTRA_AUDIENCE: the webhook app's Application ID URI and/or client id (comma-separated). */
  audiences: string[];
  /** FLOWTAP_ALERTS_ENTRA_ISSUERS; default the tenant's v1 and v2 issuers. */
  issuers: string[];
  /** FLOWTAP_ALERTS_ENTRA_JWKS_URL; default the tenant's keys at login.microsoftonline.com (https, or loopback). */
  jwksUrl: string;
}

function readList(env: Env, name: string): string[] | undefined {
  const items = read(env, name)
    ?.split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  return items && items.length > 0 ? items : undefined;
}

/** The Secure Webhook settings; undefined when FLOWTAP_ALERTS_ENTRA_TENANT_ID is not set (the secure route refuses). */
export function readSecureWebhookSettings(env: Env): SecureWebhookSettings | undefined {
  const tenantId = read(env, "FLOWTAP_ALERTS_ENTRA_TENANT_ID");
  if (tenantId === undefined) return undefined;
  if (!/^[A-Za-z0-9.-]+$/.test(tenantId))
    throw configurationError(`Setting FLOWTAP_ALERTS_ENTRA_TENANT_ID must be a tenant id, got '${tenantId}'.`);
  const audiences = readList(env, "FLOWTAP_ALERTS_ENTRA_AUDIENCE");
  if (!audiences)
    throw configurationError(
      "Setting FLOWTAP_ALERTS_ENTRA_AUDIENCE is missing: set the Secure Webhook app's Application ID URI or client id.",
    );
  const jwksUrl =
    read(env, "FLOWTAP_ALERTS_ENTRA_JWKS_URL") ?? `https://login.microsoftonline.com/${tenantId}/discovery/v2.0/keys`;
  if (!URL.canParse(jwksUrl) || (new URL(jwksUrl).protocol !== "https:" && !isLoopbackEndpoint(jwksUrl)))
    throw configurationError(
      `Setting FLOWTAP_ALERTS_ENTRA_JWKS_URL must be an https URL (http only on loopback), got '${jwksUrl}'.`,
    );
  const issuers = readList(env, "FLOWTAP_ALERTS_ENTRA_ISSUERS") ?? [
    `https://sts.windows.net/${tenantId}/`,
    `https://login.microsoftonline.com/${tenantId}/v2.0`,
  ];
  return { tenantId, audiences, issuers, jwksUrl };
}

function readBackfillSettings(env: Env): BackfillSettings {
  const maxParallelBlobs = readPositiveInteger(env, "FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS", 64);
  const defaultParallelBlobs = readPositiveInteger(
    env,
    "FLOWTAP_BACKFILL_PARALLEL_BLOBS",
    Math.min(8, maxParallelBlobs),
  );
  if (defaultParallelBlobs > maxParallelBlobs) {
    throw configurationError(
      `Setting FLOWTAP_BACKFILL_PARALLEL_BLOBS (${defaultParallelBlobs}) must not exceed ` +
        `FLOWTAP_BACKFILL_MAX_PARALLEL_BLOBS (${maxParallelBlobs}).`,
    );
  }
  return {
    maxHours: readPositiveInteger(env, "FLOWTAP_BACKFILL_MAX_HOURS", 744),
    defaultParallelBlobs,
    maxParallelBlobs,
    blobsPerPage: readPositiveInteger(env, "FLOWTAP_BACKFILL_PAGE_BLOBS", 100),
  };
}

/** Every 5 minutes, on the minute. */
export const DEFAULT_RECONCILE_SCHEDULE = "0 */5 * * * *";

/** The ingestion knobs (all have defaults): validated on their own when the app starts. */
export function readIngestionSettings(env: Env): IngestionSettings {
  return {
    maxRangeSizeInBytes: readPositiveInteger(env, "FLOWTAP_MAX_RANGE_BYTES", 4 * 1024 * 1024),
    reconcileSchedule: readSchedule(env, "FLOWTAP_RECONCILE_SCHEDULE", DEFAULT_RECONCILE_SCHEDULE),
    rangesPerGeneration: readPositiveInteger(env, "FLOWTAP_RANGES_PER_GENERATION", 16),
    claimTtlInSeconds: readPositiveInteger(env, "FLOWTAP_CLAIM_TTL_SECONDS", 900),
    claimRetryInSeconds: readPositiveInteger(env, "FLOWTAP_CLAIM_RETRY_SECONDS", 30),
    lingerInSeconds: readNonNegativeInteger(env, "FLOWTAP_INGEST_LINGER_SECONDS", 0),
    activityMaxAttempts: readPositiveInteger(env, "FLOWTAP_ACTIVITY_MAX_ATTEMPTS", 5),
    activityRetryIntervalInMs: readPositiveInteger(env, "FLOWTAP_ACTIVITY_RETRY_INTERVAL_MS", 5_000),
    eventHubsRetryDelayInMs: readPositiveInteger(env, "FLOWTAP_EVENTHUB_RETRY_DELAY_MS", 1_000),
  };
}

/** The event knobs (all have defaults): validated on their own when the app starts. */
export function readEventSettings(env: Env): EventSettings {
  const versions = EVENT_SCHEMA_VERSIONS.map(String);
  const version = readChoice(env, "FLOWTAP_EVENT_SCHEMA_VERSION", versions, String(EVENT_SCHEMA_VERSION));
  const filtersText = read(env, "FLOWTAP_EVENT_FILTERS");
  return {
    schemaVersion: Number(version) as EventSchemaVersion,
    filters:
      filtersText === undefined
        ? NO_EVENT_FILTERS
        : validateEventFilters(
            parseJsonSetting(filtersText, "Setting FLOWTAP_EVENT_FILTERS"),
            "Setting FLOWTAP_EVENT_FILTERS",
          ),
    enrichment: {
      enabled: readChoice(env, "FLOWTAP_ENRICHMENT", ["on", "off"] as const, "on") === "on",
      ttlInSeconds: readPositiveInteger(env, "FLOWTAP_ENRICHMENT_TTL_SECONDS", 600),
      maxNics: readPositiveInteger(env, "FLOWTAP_ENRICHMENT_MAX_NICS", 100_000),
      waitInMs: readNonNegativeInteger(env, "FLOWTAP_ENRICHMENT_WAIT_MS", 1000),
    },
  };
}

export function readFreshnessSettings(env: Env): FreshnessSettings {
  return { silentAfterSeconds: 60 * readPositiveInteger(env, "FLOWTAP_FLOW_LOG_SILENT_MINUTES", 15) };
}

const DCR_IMMUTABLE_ID = /^dcr-[0-9a-f]{32}$/i;

function readStreamName(env: Env, name: string, fallback: string, orElse = ""): string {
  const streamName = read(env, name) ?? fallback;
  if (!/^Custom-[A-Za-z0-9_-]+$/.test(streamName))
    throw configurationError(`Setting ${name} must name a Custom- stream of the DCR${orElse}, got '${streamName}'.`);
  return streamName;
}

function readLogsIngestionSettings(env: Env, choice: SinkChoice): LogsIngestionSettings {
  const why = `FLOWTAP_SINKS is ${choice}`;
  const endpoint = read(env, "FLOWTAP_LOGS_INGESTION_ENDPOINT")?.replace(/\/+$/, "");
  if (endpoint === undefined || !URL.canParse(endpoint) || new URL(endpoint).protocol !== "https:")
    throw configurationError(
      `Setting FLOWTAP_LOGS_INGESTION_ENDPOINT must be the https logs ingestion URL of the data collection endpoint ` +
        `(${why}), got '${endpoint ?? ""}'.`,
    );
  const ruleId = read(env, "FLOWTAP_DCR_IMMUTABLE_ID");
  if (ruleId === undefined || !DCR_IMMUTABLE_ID.test(ruleId))
    throw configurationError(
      `Setting FLOWTAP_DCR_IMMUTABLE_ID must be the data collection rule's immutableId (dcr- and 32 hex digits, ` +
        `${why}), got '${ruleId ?? ""}'.`,
    );
  const streamName = readStreamName(env, "FLOWTAP_DCR_STREAM", DEFAULT_DCR_STREAM);
  const alertsStream = read(env, "FLOWTAP_DCR_ALERTS_STREAM");
  const alertsStreamName =
    alertsStream?.toLowerCase() === "none"
      ? undefined
      : readStreamName(env, "FLOWTAP_DCR_ALERTS_STREAM", DEFAULT_DCR_ALERTS_STREAM, " (or none)");
  const devToken = read(env, "FLOWTAP_LOGS_INGESTION_DEV_TOKEN");
  const clientId = read(env, "FLOWTAP_LOGS_INGESTION_CLIENT_ID");
  if (devToken !== undefined && (clientId !== undefined || !isLoopbackEndpoint(endpoint)))
    throw configurationError(
      "Setting FLOWTAP_LOGS_INGESTION_DEV_TOKEN is only for a loopback FLOWTAP_LOGS_INGESTION_ENDPOINT, without " +
        "FLOWTAP_LOGS_INGESTION_CLIENT_ID.",
    );
  const caCertificatePem = read(env, "FLOWTAP_LOGS_INGESTION_CA_CERT");
  if (caCertificatePem !== undefined && !caCertificatePem.includes("-----BEGIN CERTIFICATE-----"))
    throw configurationError("Setting FLOWTAP_LOGS_INGESTION_CA_CERT must be a PEM certificate.");
  return {
    endpoint,
    ruleId,
    streamName,
    alertsStreamName,
    credential:
      devToken !== undefined
        ? { kind: "devToken", token: devToken }
        : { kind: "identity", ...(clientId !== undefined && { clientId }) },
    ...(caCertificatePem !== undefined && { caCertificatePem }),
    retryDelayInMs: readPositiveInteger(env, "FLOWTAP_LOGS_INGESTION_RETRY_DELAY_MS", 1000),
  };
}

/** FLOWTAP_SINKS (default eventhubs) and, for Log Analytics, its destination: validated on their own at start. */
export function readSinkSettings(env: Env): SinkSettings {
  const choice = readChoice(env, "FLOWTAP_SINKS", SINK_CHOICES, "eventhubs");
  return {
    choice,
    eventHubs: choice !== "loganalytics",
    logsIngestion: choice === "eventhubs" ? undefined : readLogsIngestionSettings(env, choice),
  };
}

/** FLOWTAP_MESSAGE_FORMAT; compact records are schema 2's fields, so it refuses FLOWTAP_EVENT_SCHEMA_VERSION=1. */
function readMessageFormat(env: Env): MessageFormat {
  const format = readChoice(env, "FLOWTAP_MESSAGE_FORMAT", MESSAGE_FORMATS, "json");
  if (format === "compact" && readEventSettings(env).schemaVersion !== 2) {
    throw configurationError(
      "Setting FLOWTAP_MESSAGE_FORMAT=compact carries schema 2 events only: set FLOWTAP_EVENT_SCHEMA_VERSION=2 " +
        "(or FLOWTAP_MESSAGE_FORMAT=json to keep schema 1).",
    );
  }
  return format;
}

/** Reads and validates every setting; throws a Configuration FlowtapError naming the first bad one. */
export function readSettings(env: Env): FlowtapSettings {
  const storageConnection = readConnection(env, "FlowLogsStorage", "blobServiceUri");
  const eventHubsConnection = readConnection(env, "EventHubsConnection", "fullyQualifiedNamespace");
  return {
    sinks: readSinkSettings(env),
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
      messageFormat: readMessageFormat(env),
    },
    ingestion: readIngestionSettings(env),
    anomaly: readAnomalySettings(env),
    capture: readCaptureSettings(env),
    backfill: readBackfillSettings(env),
    events: readEventSettings(env),
    freshness: readFreshnessSettings(env),
  };
}
