/**
 * Backfill (pure): validation of the `POST /api/backfill` body, its blob-walk filter and listing
 * cursor (the walk itself, pruned by filters and y=/m=/d=/h= segments, is core/blobWalk), and
 * the progress figures (rate, eta) shown in the orchestration's custom status.
 */
import { ValidationError } from "../errors";
import { normalizeMac } from "./blobPath";
import type { BlobWalkFilter } from "./blobWalk";
import { hashBlobPath } from "./eventId";

const HOUR_IN_MS = 3_600_000;

/** Which blobs a backfill takes; an empty list does not filter. Names are compared case-insensitively. */
export interface BackfillFilters {
  subscriptionIds: string[];
  resourceGroups: string[];
  /** NSG flow logs of these NSGs (when `nsgNames` or `flowLogNames` is given, only the named logs are taken). */
  nsgNames: string[];
  /** VNet flow logs of these flow-log resources. */
  flowLogNames: string[];
  /** 12 upper-case hex digits. */
  macs: string[];
}

/** A validated backfill request. */
export interface BackfillRequest {
  backfillId: string;
  /** Inclusive start hour, ISO-8601 UTC (`2026-11-01T00:00:00.000Z`). */
  from: string;
  /** Exclusive end hour, ISO-8601 UTC. */
  to: string;
  /** Lower-case storage account name. */
  storageAccount: string;
  containers: string[];
  filters: BackfillFilters;
  maxParallelBlobs: number;
}

/** What a request is checked against (from the app settings). */
export interface BackfillLimits {
  accountName: string;
  containers: readonly string[];
  /** Longest accepted range in hours (FLOWTAP_BACKFILL_MAX_HOURS). */
  maxHours: number;
  /** `maxParallelBlobs` when the request has none. */
  defaultParallelBlobs: number;
  /** Largest accepted `maxParallelBlobs`. */
  maxParallelBlobs: number;
}

const REQUEST_FIELDS = [
  "from",
  "to",
  "storageAccount",
  "containers",
  "subscriptionIds",
  "resourceGroups",
  "nsgNames",
  "flowLogNames",
  "macs",
  "maxParallelBlobs",
  "backfillId",
] as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Azure resource group names: 1-90 of letters, digits, `-_.()`, not ending with `.`. */
const RESOURCE_GROUP = /^[\w\-.()]{0,89}[\w\-()]$/;
/** NSG and flow-log names: 1-80 of letters, digits, `_.-`, starting with a letter, digit or `_`. */
const RESOURCE_NAME = /^\w[\w.-]{0,79}$/;
/** Instance ids must not contain `/ \ # ?` or control characters; keep them short and plain. */
/**
 * A caller's backfillId: no `:`, so that `backfill:<id>` and the ids of its parts (`backfill:<id>:...`) never meet
 * another backfill's parts; 64 characters keep every part's id far below the extension's 256 (DurableClient.cs).
 */
const BACKFILL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ISO_HOUR = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})$/i;

function refuse(field: string, message: string): never {
  throw new ValidationError(`${field}: ${message}`);
}

/** Parses an ISO-8601 time with a zone that falls on a whole UTC hour; epoch ms. */
export function parseHourBoundary(value: unknown, field: string): number {
  if (typeof value !== "string") return refuse(field, "expected an ISO-8601 time such as 2026-11-01T00:00:00Z");
  const match = ISO_HOUR.exec(value.trim());
  if (!match) return refuse(field, `'${value}' is not an ISO-8601 time with a zone (such as 2026-11-01T00:00:00Z)`);
  const [, year, month, day, hour, minute = "0", second = "0", fraction = "0", zone] = match;
  const local = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  const check = new Date(local);
  const valid =
    check.getUTCFullYear() === Number(year) &&
    check.getUTCMonth() === Number(month) - 1 &&
    check.getUTCDate() === Number(day) &&
    Number(hour) < 24 &&
    Number(minute) < 60 &&
    Number(second) < 60;
  if (!valid) return refuse(field, `'${value}' is not a valid date and time`);
  let offsetInMs = 0;
  if (zone!.toUpperCase() !== "Z") {
    const digits = zone!.replace(":", "");
    offsetInMs =
      (digits.startsWith("-") ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * 60_000;
  }
  const epochMs = local - offsetInMs;
  if (Number(fraction) !== 0 || epochMs % HOUR_IN_MS !== 0) {
    return refuse(field, `'${value}' is not on a whole hour (backfill works in hours)`);
  }
  return epochMs;
}

function optionalStringList(
  body: Record<string, unknown>,
  field: string,
  check: (item: string) => string | null,
  what: string,
): string[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return refuse(field, `expected an array of ${what}`);
  return value.map((item, index) => {
    const normalized = typeof item === "string" ? check(item.trim()) : null;
    if (normalized === null) return refuse(`${field}[${index}]`, `${JSON.stringify(item)} is not ${what}`);
    return normalized;
  });
}

const matching = (pattern: RegExp) => (item: string) => (pattern.test(item) ? item : null);

/** Validates a request body; throws ValidationError whose message starts with the bad field. */
export function parseBackfillRequest(body: unknown, limits: BackfillLimits): BackfillRequest {
  const fields = requestFields(body);
  const { from, to } = requestHours(fields, limits);
  const storageAccount = requestAccount(fields, limits);
  const containers = requestContainers(fields, limits);
  const filters = requestFilters(fields);
  const maxParallelBlobs = requestParallelBlobs(fields, limits);
  // The same request gets the same id, so submitting it twice while it runs is refused (409).
  const backfillId =
    givenBackfillId(fields) ??
    `backfill-${hashBlobPath(JSON.stringify({ from, to, account: storageAccount, containers, filters }))}`;
  return {
    backfillId,
    from,
    to,
    storageAccount,
    containers: [...new Set(containers)],
    filters,
    maxParallelBlobs,
  };
}

function requestFields(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return refuse("body", "expected a JSON object");
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !(REQUEST_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) return refuse(unknown[0]!, `unknown field (accepted: ${REQUEST_FIELDS.join(", ")})`);
  return fields;
}

/** `from` and `to` as ISO times on whole hours, in order and at most `maxHours` apart. */
function requestHours(fields: Record<string, unknown>, limits: BackfillLimits): { from: string; to: string } {
  const fromMs = parseHourBoundary(fields.from, "from");
  const toMs = parseHourBoundary(fields.to, "to");
  if (fromMs >= toMs) return refuse("to", `must be after from (${new Date(fromMs).toISOString()})`);
  const hours = (toMs - fromMs) / HOUR_IN_MS;
  if (hours > limits.maxHours)
    return refuse(
      "to",
      `the range is ${hours} hours; at most ${limits.maxHours} are accepted (FLOWTAP_BACKFILL_MAX_HOURS)`,
    );
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
}

/** The storage account, lower-cased: the configured one (the default) and no other. */
function requestAccount(fields: Record<string, unknown>, limits: BackfillLimits): string {
  const storageAccount = fields.storageAccount ?? limits.accountName;
  if (typeof storageAccount !== "string" || storageAccount.toLowerCase() !== limits.accountName.toLowerCase()) {
    return refuse(
      "storageAccount",
      `${JSON.stringify(storageAccount)} is not the configured account '${limits.accountName}'`,
    );
  }
  return storageAccount.toLowerCase();
}

/** The containers as given (lower-cased, repeats kept), all configured ones by default; never none. */
function requestContainers(fields: Record<string, unknown>, limits: BackfillLimits): string[] {
  const containers =
    fields.containers === undefined || fields.containers === null
      ? [...limits.containers]
      : optionalStringList(
          fields,
          "containers",
          (c) => (limits.containers.includes(c.toLowerCase()) ? c.toLowerCase() : null),
          `a configured container (${limits.containers.join(", ")})`,
        );
  if (containers.length === 0) return refuse("containers", "expected at least one container");
  return containers;
}

function requestFilters(fields: Record<string, unknown>): BackfillFilters {
  return {
    subscriptionIds: optionalStringList(
      fields,
      "subscriptionIds",
      (s) => (GUID.test(s) ? s.toLowerCase() : null),
      "a subscription id (GUID)",
    ),
    resourceGroups: optionalStringList(fields, "resourceGroups", matching(RESOURCE_GROUP), "a resource group name"),
    nsgNames: optionalStringList(fields, "nsgNames", matching(RESOURCE_NAME), "an NSG name"),
    flowLogNames: optionalStringList(fields, "flowLogNames", matching(RESOURCE_NAME), "a flow-log name"),
    macs: optionalStringList(fields, "macs", normalizeMac, "a MAC address (12 hex digits, separators allowed)"),
  };
}

function requestParallelBlobs(fields: Record<string, unknown>, limits: BackfillLimits): number {
  const parallel = fields.maxParallelBlobs ?? limits.defaultParallelBlobs;
  if (
    typeof parallel !== "number" ||
    !Number.isInteger(parallel) ||
    parallel < 1 ||
    parallel > limits.maxParallelBlobs
  ) {
    return refuse(
      "maxParallelBlobs",
      `expected an integer from 1 to ${limits.maxParallelBlobs}, got ${JSON.stringify(parallel)}`,
    );
  }
  return parallel;
}

/** The caller's backfillId, checked; undefined when none is given. */
function givenBackfillId(fields: Record<string, unknown>): string | undefined {
  const givenId = fields.backfillId;
  if (givenId === undefined || givenId === null) return undefined;
  if (typeof givenId !== "string" || !BACKFILL_ID.test(givenId)) {
    return refuse(
      "backfillId",
      `${JSON.stringify(givenId)} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return givenId;
}

// ---- enumeration ---------------------------------------------------------------------------

/** The walk filter (core/blobWalk) of a request: its hours and filters. */
export function walkFilterOf(request: Pick<BackfillRequest, "from" | "to" | "filters">): BlobWalkFilter {
  const { filters } = request;
  return {
    fromIso: request.from,
    toIso: request.to,
    subscriptionIds: filters.subscriptionIds,
    resourceGroups: filters.resourceGroups,
    nsgNames: filters.nsgNames,
    flowLogNames: filters.flowLogNames,
    macAddresses: filters.macs,
  };
}

/**
 * True when every name starting with `prefix` sorts before `afterPath` (a listing cursor), so a
 * walk resuming after `afterPath` skips that subtree. Listings come in lexicographic name order.
 */
export function isBeforeCursor(prefix: string, afterPath: string | null | undefined): boolean {
  return typeof afterPath === "string" && prefix < afterPath && !afterPath.startsWith(prefix);
}

// ---- progress --------------------------------------------------------------------------------

export interface BackfillCounts {
  blobsTotal: number;
  blobsDone: number;
  blobsFailed: number;
  eventsSent: number;
  bytesRead: number;
}

export type BackfillPhase = "counting" | "ingesting" | "completed";

/** The custom status of a backfill orchestration. */
export interface BackfillProgress extends BackfillCounts {
  backfillId: string;
  phase: BackfillPhase;
  from: string;
  to: string;
  startedAt: string;
  updatedAt: string;
  rate: { blobsPerSecond: number; eventsPerSecond: number; bytesPerSecond: number };
  /** Expected end (ISO-8601), null until the total is known and some blobs are done. */
  eta: string | null;
}

export function emptyCounts(): BackfillCounts {
  return { blobsTotal: 0, blobsDone: 0, blobsFailed: 0, eventsSent: 0, bytesRead: 0 };
}

const perSecond = (count: number, seconds: number): number =>
  seconds > 0 ? Math.round((count / seconds) * 100) / 100 : 0;

/** Rates since the start and the expected end from the blobs still to do. */
export function describeProgress(
  counts: BackfillCounts,
  identity: Pick<BackfillRequest, "backfillId" | "from" | "to">,
  phase: BackfillPhase,
  startedAt: string,
  now: string,
): BackfillProgress {
  const elapsedMs = Math.max(Date.parse(now) - Date.parse(startedAt), 0);
  const seconds = elapsedMs / 1000;
  const finished = counts.blobsDone + counts.blobsFailed;
  const remaining = Math.max(counts.blobsTotal - finished, 0);
  let eta: string | null = null;
  if (phase === "completed") eta = now;
  else if (phase === "ingesting" && finished > 0)
    eta = new Date(Date.parse(now) + Math.round((elapsedMs / finished) * remaining)).toISOString();
  return {
    backfillId: identity.backfillId,
    phase,
    from: identity.from,
    to: identity.to,
    ...counts,
    startedAt,
    updatedAt: now,
    rate: {
      blobsPerSecond: perSecond(finished, seconds),
      eventsPerSecond: perSecond(counts.eventsSent, seconds),
      bytesPerSecond: perSecond(counts.bytesRead, seconds),
    },
    eta,
  };
}
