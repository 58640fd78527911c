/**
 * Backfill (pure): validation of the `POST /api/backfill` body, the plan of prefixes that walks a
 * container's path hierarchy without listing it whole (pruned by the filters and by the
 * y=/m=/d=/h= segments, for both layouts), which listed blobs belong to the request, and the
 * progress figures (rate, eta) shown in the orchestration's custom status.
 */
import { ValidationError } from "../errors";
import { normalizeMac, tryParseBlobPath, type FlowLogBlobPath } from "./blobPath";
import { hashBlobPath } from "./eventId";

const HOUR_IN_MS = 3_600_000;
const DAY_IN_MS = 24 * HOUR_IN_MS;

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
const BACKFILL_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
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
    offsetInMs = (digits.startsWith("-") ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * 60_000;
  }
  const epochMs = local - offsetInMs;
  if (Number(fraction) !== 0 || epochMs % HOUR_IN_MS !== 0) {
    return refuse(field, `'${value}' is not on a whole hour (backfill works in hours)`);
  }
  return epochMs;
}

function optionalStringList(body: Record<string, unknown>, field: string, check: (item: string) => string | null, what: string): string[] {
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
  if (typeof body !== "object" || body === null || Array.isArray(body)) return refuse("body", "expected a JSON object");
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !(REQUEST_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) return refuse(unknown[0]!, `unknown field (accepted: ${REQUEST_FIELDS.join(", ")})`);

  const fromMs = parseHourBoundary(fields.from, "from");
  const toMs = parseHourBoundary(fields.to, "to");
  if (fromMs >= toMs) return refuse("to", `must be after from (${new Date(fromMs).toISOString()})`);
  const hours = (toMs - fromMs) / HOUR_IN_MS;
  if (hours > limits.maxHours) return refuse("to", `the range is ${hours} hours; at most ${limits.maxHours} are accepted (FLOWTAP_BACKFILL_MAX_HOURS)`);

  const storageAccount = fields.storageAccount ?? limits.accountName;
  if (typeof storageAccount !== "string" || storageAccount.toLowerCase() !== limits.accountName.toLowerCase()) {
    return refuse("storageAccount", `${JSON.stringify(storageAccount)} is not the configured account '${limits.accountName}'`);
  }
  const containers =
    fields.containers === undefined || fields.containers === null
      ? [...limits.containers]
      : optionalStringList(fields, "containers", (c) => (limits.containers.includes(c.toLowerCase()) ? c.toLowerCase() : null), `a configured container (${limits.containers.join(", ")})`);
  if (containers.length === 0) return refuse("containers", "expected at least one container");

  const filters: BackfillFilters = {
    subscriptionIds: optionalStringList(fields, "subscriptionIds", (s) => (GUID.test(s) ? s.toLowerCase() : null), "a subscription id (GUID)"),
    resourceGroups: optionalStringList(fields, "resourceGroups", matching(RESOURCE_GROUP), "a resource group name"),
    nsgNames: optionalStringList(fields, "nsgNames", matching(RESOURCE_NAME), "an NSG name"),
    flowLogNames: optionalStringList(fields, "flowLogNames", matching(RESOURCE_NAME), "a flow-log name"),
    macs: optionalStringList(fields, "macs", normalizeMac, "a MAC address (12 hex digits, separators allowed)"),
  };

  const parallel = fields.maxParallelBlobs ?? limits.defaultParallelBlobs;
  if (typeof parallel !== "number" || !Number.isInteger(parallel) || parallel < 1 || parallel > limits.maxParallelBlobs) {
    return refuse("maxParallelBlobs", `expected an integer from 1 to ${limits.maxParallelBlobs}, got ${JSON.stringify(parallel)}`);
  }
  const from = new Date(fromMs).toISOString();
  const to = new Date(toMs).toISOString();
  const givenId = fields.backfillId;
  if (givenId !== undefined && givenId !== null && (typeof givenId !== "string" || !BACKFILL_ID.test(givenId))) {
    return refuse("backfillId", `${JSON.stringify(givenId)} must be 1-100 letters, digits or '._:-', starting with a letter or digit`);
  }
  // The same request gets the same id, so submitting it twice while it runs is refused (409).
  const backfillId =
    typeof givenId === "string" ? givenId : `backfill-${hashBlobPath(JSON.stringify({ from, to, account: storageAccount.toLowerCase(), containers, filters }))}`;
  return { backfillId, from, to, storageAccount: storageAccount.toLowerCase(), containers, filters, maxParallelBlobs: parallel };
}

// ---- enumeration plan ------------------------------------------------------------------------

const pad2 = (n: number): string => String(n).padStart(2, "0");

/**
 * The time prefixes (below a flow log's resource prefix) that cover [from, to): a whole UTC day
 * as `y=YYYY/m=MM/d=DD/`, a part of a day hour by hour as `.../h=HH/`. Zero-padded, so their
 * order is both chronological and the listing's lexicographic order.
 */
export function timePrefixes(fromIso: string, toIso: string): string[] {
  const toMs = Date.parse(toIso);
  const prefixes: string[] = [];
  for (let at = Date.parse(fromIso); at < toMs; ) {
    const time = new Date(at);
    const day = `y=${time.getUTCFullYear()}/m=${pad2(time.getUTCMonth() + 1)}/d=${pad2(time.getUTCDate())}/`;
    if (at % DAY_IN_MS === 0 && at + DAY_IN_MS <= toMs) {
      prefixes.push(day);
      at += DAY_IN_MS;
    } else {
      prefixes.push(`${day}h=${pad2(time.getUTCHours())}/`);
      at += HOUR_IN_MS;
    }
  }
  return prefixes;
}

/** What the walk does with a listed "directory" prefix of a flow-log container. */
export type PrefixDecision =
  /** List its children. */
  | "descend"
  /** A flow log's resource prefix: list the blobs below it under each time prefix. */
  | "resource"
  /** Nothing the request wants is below it. */
  | "skip";

const oneOf = (wanted: readonly string[], value: string | null): boolean =>
  wanted.length === 0 || (value !== null && wanted.some((w) => w.toLowerCase() === value.toLowerCase()));

function resourceNameMatches(filters: BackfillFilters, parsed: Pick<FlowLogBlobPath, "kind" | "nsgName" | "flowLogName">): boolean {
  if (filters.nsgNames.length === 0 && filters.flowLogNames.length === 0) return true;
  const [wanted, name] = parsed.kind === "nsg" ? [filters.nsgNames, parsed.nsgName] : [filters.flowLogNames, parsed.flowLogName];
  return wanted.length > 0 && oneOf(wanted, name);
}

/** Below a resource prefix, a path with this tail parses; used to recognise resource prefixes. */
const PROBE_TAIL = "y=2000/m=01/d=01/h=00/m=00/PT1H.json";
/** Segments of the deepest resource prefix (the ARM-id VNet layout). */
const MAX_RESOURCE_DEPTH = 11;

/**
 * Decides a listed prefix (container-relative, ending with `/`) of either layout: NSG
 * `resourceId=/SUBSCRIPTIONS/{sub}/RESOURCEGROUPS/{rg}/.../NETWORKSECURITYGROUPS/{nsg}/`, VNet
 * `flowLogResourceID=/SUBSCRIPTIONS/.../FLOWLOGS/{name}/` or `flowLogResourceID=/{sub}_{RG}/{WATCHER}_{NAME}/`.
 * Subscription and resource-group filters prune as soon as their segment is known.
 */
export function decidePrefix(prefix: string, filters: BackfillFilters): PrefixDecision {
  const segments = prefix.split("/").filter((s) => s !== "");
  const root = segments[0]?.toLowerCase();
  if (root !== "resourceid=" && root !== "flowlogresourceid=") return "skip";
  const resource = tryParseBlobPath(`${prefix}${PROBE_TAIL}`);
  if (resource) {
    const selected =
      oneOf(filters.subscriptionIds, resource.subscriptionId) && oneOf(filters.resourceGroups, resource.resourceGroup) && resourceNameMatches(filters, resource);
    return selected ? "resource" : "skip";
  }
  if (segments.length >= MAX_RESOURCE_DEPTH) return "skip";
  const first = segments[1];
  if (first === undefined) return "descend";
  if (first.toUpperCase() === "SUBSCRIPTIONS") {
    if (segments[2] !== undefined && !oneOf(filters.subscriptionIds, segments[2])) return "skip";
    if (segments[4] !== undefined && !oneOf(filters.resourceGroups, segments[4])) return "skip";
    return "descend";
  }
  // `{sub}_{RG}` (subscription ids have no `_`).
  const at = first.indexOf("_");
  if (at <= 0) return "skip";
  return oneOf(filters.subscriptionIds, first.slice(0, at)) && oneOf(filters.resourceGroups, first.slice(at + 1)) ? "descend" : "skip";
}

/** The parsed blob when a listed blob belongs to the request (hour in range, filters), else null. */
export function acceptBlob(path: string, request: Pick<BackfillRequest, "from" | "to" | "filters">): FlowLogBlobPath | null {
  const parsed = tryParseBlobPath(path);
  if (!parsed || parsed.hourOfDay === null) return null;
  const hourMs = Date.parse(parsed.hour);
  if (hourMs < Date.parse(request.from) || hourMs >= Date.parse(request.to)) return null;
  const { filters } = request;
  const selected =
    oneOf(filters.subscriptionIds, parsed.subscriptionId) &&
    oneOf(filters.resourceGroups, parsed.resourceGroup) &&
    resourceNameMatches(filters, parsed) &&
    oneOf(filters.macs, parsed.mac);
  return selected ? parsed : null;
}

/**
 * True when every name starting with `prefix` sorts before `afterPath` (a listing cursor): the
 * walk skips such a subtree. Listing order is the names' lexicographic order.
 */
export function isBeforeCursor(prefix: string, afterPath: string | null): boolean {
  return afterPath !== null && prefix < afterPath && !afterPath.startsWith(prefix);
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

const perSecond = (count: number, seconds: number): number => (seconds > 0 ? Math.round((count / seconds) * 100) / 100 : 0);

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
  else if (phase === "ingesting" && finished > 0) eta = new Date(Date.parse(now) + Math.round((elapsedMs / finished) * remaining)).toISOString();
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
