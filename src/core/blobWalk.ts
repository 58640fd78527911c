/**
 * Which "directories" of a flow-log container a hierarchy walk descends into (pure): the walk
 * lists one level at a time (`listBlobsByHierarchy` with "/") and prunes by the path segments
 * (subscription, resource group, NSG or flow log, then `y=`, `m=`, `d=`, `h=`), so reconcile and
 * backfill never list a whole account. Once a prefix reaches its hour it is listed flat (the
 * `m=00/macAddress=.../PT1H.json` blobs below it), and each blob is checked with `acceptsBlob`.
 */
import { ValidationError } from "../errors";
import { FLOW_LOG_BLOB_NAME } from "./blobUrl";

export interface BlobWalkFilter {
  /** Time wanted, ISO-8601: a blob is taken when its hour overlaps [fromIso, toIso). */
  fromIso: string;
  toIso: string;
  /** Each list, when given and non-empty, restricts the walk (case-insensitive). */
  subscriptionIds?: readonly string[];
  resourceGroups?: readonly string[];
  /** NSG flow logs by NSG name. With only this list, VNet flow logs are left out. */
  nsgNames?: readonly string[];
  /** VNet flow logs by flow-log name. With only this list, NSG flow logs are left out. */
  flowLogNames?: readonly string[];
  /** 12 hex digits, any separators; blobs without a `macAddress=` segment are left out. */
  macAddresses?: readonly string[];
}

/** descend: list its children; listBlobs: it is an hour, list its blobs flat; skip: nothing wanted below. */
export type PrefixDecision = "descend" | "listBlobs" | "skip";

const HOUR_IN_MS = 3_600_000;
/** The ARM-id layout has 11 segments before `y=`; deeper without a time segment is not a flow-log tree. */
const MAX_RESOURCE_SEGMENTS = 12;

/** What the segments of a prefix (or blob path) say. */
interface PrefixParts {
  kind: "nsg" | "vnet";
  subscriptionId?: string;
  resourceGroup?: string;
  nsgName?: string;
  /** The flow-log segment of the `{sub}_{RG}/{WATCHER}_{NAME}` layout, matched by its `_NAME` suffix. */
  watcherAndFlowLog?: string;
  flowLogName?: string;
  year?: number;
  month?: number;
  day?: number;
  hour?: number;
  mac?: string;
  resourceSegments: number;
}

/** Throws ValidationError naming the bad field; returns the range in epoch ms. */
export function validateBlobWalkFilter(filter: BlobWalkFilter): { fromMs: number; toMs: number } {
  const fromMs = Date.parse(filter.fromIso);
  const toMs = Date.parse(filter.toIso);
  if (Number.isNaN(fromMs)) throw new ValidationError(`blob walk: fromIso '${filter.fromIso}' is not an ISO-8601 time`);
  if (Number.isNaN(toMs)) throw new ValidationError(`blob walk: toIso '${filter.toIso}' is not an ISO-8601 time`);
  if (toMs <= fromMs)
    throw new ValidationError(`blob walk: toIso '${filter.toIso}' must be after fromIso '${filter.fromIso}'`);
  for (const mac of filter.macAddresses ?? []) {
    if (!/^[0-9A-F]{12}$/.test(normalize(mac)))
      throw new ValidationError(`blob walk: macAddresses has '${mac}', not a MAC address`);
  }
  return { fromMs, toMs };
}

/** Decides what to do with a prefix from the container root (ending with "/", e.g. `resourceId=/SUBSCRIPTIONS/`). */
export function decidePrefix(prefix: string, filter: BlobWalkFilter): PrefixDecision {
  const parts = parsePrefix(prefix.replace(/\/+$/, "").split("/"));
  if (!parts || !matchesResource(parts, filter)) return "skip";
  if (parts.year === undefined) return parts.resourceSegments > MAX_RESOURCE_SEGMENTS ? "skip" : "descend";
  if (!overlapsRange(parts, filter)) return "skip";
  return parts.hour === undefined ? "descend" : "listBlobs";
}

/** True for a `PT1H.json` blob whose path passes every filter and whose hour is in range. */
export function acceptsBlob(path: string, filter: BlobWalkFilter): boolean {
  const segments = path.split("/");
  if (segments.pop() !== FLOW_LOG_BLOB_NAME) return false;
  const parts = parsePrefix(segments);
  if (!parts || parts.hour === undefined || !matchesResource(parts, filter) || !overlapsRange(parts, filter))
    return false;
  return !hasValues(filter.macAddresses) || parts.mac !== undefined;
}

/** The hours a blob walk for "this hour and the previous one" covers, from any instant. */
export function recentHoursFilter(now: Date, hours: number): Pick<BlobWalkFilter, "fromIso" | "toIso"> {
  const hourStart = Math.floor(now.getTime() / HOUR_IN_MS) * HOUR_IN_MS;
  return {
    fromIso: new Date(hourStart - (hours - 1) * HOUR_IN_MS).toISOString(),
    toIso: new Date(hourStart + HOUR_IN_MS).toISOString(),
  };
}

function parsePrefix(segments: string[]): PrefixParts | undefined {
  const root = segments[0]?.toLowerCase();
  if (root !== "resourceid=" && root !== "flowlogresourceid=") return undefined;
  const parts: PrefixParts = { kind: root === "resourceid=" ? "nsg" : "vnet", resourceSegments: 1 };
  const underscoreLayout =
    parts.kind === "vnet" && segments.length > 1 && segments[1]!.toUpperCase() !== "SUBSCRIPTIONS";
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const time = /^(y|m|d|h)=(\d{1,4})$/i.exec(segment);
    if (time) {
      if (!setTime(parts, time[1]!.toLowerCase(), Number(time[2]))) return undefined;
      continue;
    }
    const mac = /^macAddress=(.*)$/i.exec(segment);
    if (mac) {
      parts.mac = normalize(mac[1]!);
      continue;
    }
    if (parts.year !== undefined) return undefined; // only time and MAC segments follow the time
    parts.resourceSegments++;
    if (underscoreLayout) {
      if (i === 1) {
        const cut = segment.indexOf("_");
        parts.subscriptionId = cut < 0 ? segment : segment.slice(0, cut);
        if (cut >= 0) parts.resourceGroup = segment.slice(cut + 1);
      } else if (i === 2) parts.watcherAndFlowLog = segment;
      continue;
    }
    const keyword = segments[i - 1]!.toUpperCase();
    if (keyword === "SUBSCRIPTIONS") parts.subscriptionId = segment;
    else if (keyword === "RESOURCEGROUPS") parts.resourceGroup = segment;
    else if (keyword === "NETWORKSECURITYGROUPS") parts.nsgName = segment;
    else if (keyword === "FLOWLOGS") parts.flowLogName = segment;
  }
  return parts;
}

/** Time segments come in order y, m (month), d, h, then m (minute, ignored). */
function setTime(parts: PrefixParts, unit: string, value: number): boolean {
  if (unit === "y" && parts.year === undefined) parts.year = value;
  else if (unit === "m" && parts.year !== undefined && parts.month === undefined) parts.month = value;
  else if (unit === "d" && parts.month !== undefined && parts.day === undefined) parts.day = value;
  else if (unit === "h" && parts.day !== undefined && parts.hour === undefined) parts.hour = value;
  else if (!(unit === "m" && parts.hour !== undefined)) return false;
  return true;
}

function matchesResource(parts: PrefixParts, filter: BlobWalkFilter): boolean {
  const byName = hasValues(filter.nsgNames) || hasValues(filter.flowLogNames);
  const names = parts.kind === "nsg" ? filter.nsgNames : filter.flowLogNames;
  if (byName && !hasValues(names)) return false;
  if (!matches(parts.subscriptionId, filter.subscriptionIds)) return false;
  if (!matches(parts.resourceGroup, filter.resourceGroups)) return false;
  if (parts.kind === "nsg" && !matches(parts.nsgName, names)) return false;
  if (parts.kind === "vnet" && !matches(parts.flowLogName, names)) return false;
  if (parts.watcherAndFlowLog !== undefined && hasValues(names)) {
    const segment = parts.watcherAndFlowLog.toUpperCase();
    if (!names!.some((name) => segment.endsWith(`_${name.toUpperCase()}`))) return false;
  }
  if (
    parts.mac !== undefined &&
    hasValues(filter.macAddresses) &&
    !filter.macAddresses!.some((mac) => normalize(mac) === parts.mac)
  )
    return false;
  return true;
}

/** The prefix's time span (its year, month, day or hour) meets [fromIso, toIso). */
function overlapsRange(parts: PrefixParts, filter: BlobWalkFilter): boolean {
  const { fromMs, toMs } = validateBlobWalkFilter(filter);
  const year = parts.year!;
  let start: number;
  let end: number;
  if (parts.month === undefined) {
    start = Date.UTC(year, 0, 1);
    end = Date.UTC(year + 1, 0, 1);
  } else if (parts.day === undefined) {
    start = Date.UTC(year, parts.month - 1, 1);
    end = Date.UTC(year, parts.month, 1);
  } else if (parts.hour === undefined) {
    start = Date.UTC(year, parts.month - 1, parts.day);
    end = start + 24 * HOUR_IN_MS;
  } else {
    start = Date.UTC(year, parts.month - 1, parts.day, parts.hour);
    end = start + HOUR_IN_MS;
  }
  return start < toMs && end > fromMs;
}

function matches(value: string | undefined, wanted: readonly string[] | undefined): boolean {
  if (value === undefined || !hasValues(wanted)) return true;
  return wanted!.some((w) => w.toUpperCase() === value.toUpperCase());
}

function hasValues(list: readonly string[] | undefined): boolean {
  return list !== undefined && list.length > 0;
}

function normalize(mac: string): string {
  return mac.replace(/[-:.]/g, "").toUpperCase();
}
