/**
 * Flow-log blob paths: parse the names Azure gives PT1H.json blobs (NSG and VNet, every layout
 * the docs and real data show) and build the canonical name from its parts.
 */
import { FlowLogFormatError } from "../errors";
import type { SourceKind } from "./event";

export const NSG_FLOW_LOG_CONTAINER = "insights-logs-networksecuritygroupflowevent";
export const VNET_FLOW_LOG_CONTAINER = "insights-logs-flowlogflowevent";

/** What a flow-log blob's name tells about its content. */
export interface FlowLogBlobPath {
  /** The container: as given in the path, else the one Azure uses for `kind`. */
  container: string;
  /** Container-relative blob name (URL-decoded, without a leading `/`). */
  path: string;
  kind: SourceKind;
  subscriptionId: string;
  resourceGroup: string;
  /** NSG flow logs only. */
  nsgName: string | null;
  /** VNet flow logs only. */
  networkWatcherName: string | null;
  /** VNet flow logs only. */
  flowLogName: string | null;
  year: number;
  month: number;
  day: number;
  /** null for the 2017 layout (`.../{year}/{month}/{day}/PT1H.json`), which has no hour. */
  hourOfDay: number | null;
  /** Start of the blob's hour (of its day for the 2017 layout), ISO-8601 UTC. */
  hour: string;
  /** 12 upper-case hex digits, or null when the path has none (or an unusable one). */
  mac: string | null;
}

/** The parts a canonical blob name is built from. */
export interface FlowLogBlobPathParts {
  kind: SourceKind;
  subscriptionId: string;
  resourceGroup: string;
  /** Required for `kind: "nsg"`. */
  nsgName?: string;
  /** Required for `kind: "vnet"` (for example `NETWORKWATCHER_EASTUS`). */
  networkWatcherName?: string;
  /** Required for `kind: "vnet"`. */
  flowLogName?: string;
  year: number;
  month: number;
  day: number;
  hourOfDay: number;
  mac?: string | null;
}

export interface BuildBlobPathOptions {
  /** VNet only: `underscore` (what real blobs use, the default) or `arm` (the full ARM id form). */
  vnetLayout?: "underscore" | "arm";
  /** Prefix the container name (default false: container-relative). */
  includeContainer?: boolean;
}

export function containerForKind(kind: SourceKind): string {
  return kind === "nsg" ? NSG_FLOW_LOG_CONTAINER : VNET_FLOW_LOG_CONTAINER;
}

const TWO_DIGITS = (n: number): string => String(n).padStart(2, "0");

/** Builds the blob name Azure writes for these parts (upper-cased, as Azure does). */
export function buildBlobPath(parts: FlowLogBlobPathParts, options: BuildBlobPathOptions = {}): string {
  const sub = parts.subscriptionId.toUpperCase();
  const rg = parts.resourceGroup.toUpperCase();
  let resource: string;
  if (parts.kind === "nsg") {
    if (!parts.nsgName) throw new FlowLogFormatError("buildBlobPath: an NSG flow-log path needs nsgName");
    resource =
      `resourceId=/SUBSCRIPTIONS/${sub}/RESOURCEGROUPS/${rg}/PROVIDERS/MICROSOFT.NETWORK` +
      `/NETWORKSECURITYGROUPS/${parts.nsgName.toUpperCase()}`;
  } else {
    if (!parts.networkWatcherName || !parts.flowLogName) {
      throw new FlowLogFormatError("buildBlobPath: a VNet flow-log path needs networkWatcherName and flowLogName");
    }
    const watcher = parts.networkWatcherName.toUpperCase();
    const name = parts.flowLogName.toUpperCase();
    resource =
      options.vnetLayout === "arm"
        ? `flowLogResourceID=/SUBSCRIPTIONS/${sub}/RESOURCEGROUPS/${rg}/PROVIDERS/MICROSOFT.NETWORK` +
          `/NETWORKWATCHERS/${watcher}/FLOWLOGS/${name}`
        : `flowLogResourceID=/${sub}_${rg}/${watcher}_${name}`;
  }
  const date = `y=${parts.year}/m=${TWO_DIGITS(parts.month)}/d=${TWO_DIGITS(parts.day)}`;
  const time = `${date}/h=${TWO_DIGITS(parts.hourOfDay)}/m=00`;
  const mac = parts.mac ? `/macAddress=${parts.mac.toUpperCase()}` : "";
  const path = `${resource}/${time}${mac}/PT1H.json`;
  return options.includeContainer ? `${containerForKind(parts.kind)}/${path}` : path;
}

/** Like parseBlobPath, but null instead of an error. */
export function tryParseBlobPath(input: string): FlowLogBlobPath | null {
  try {
    return parseBlobPath(input);
  } catch (error) {
    if (error instanceof FlowLogFormatError) return null;
    throw error;
  }
}

const MAC_PATTERN = /^[0-9A-F]{12}$/;

/** Normalises a MAC (`00-0d-3a-...`, `000d3a...`) to 12 upper-case hex digits, or null. */
export function normalizeMac(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const mac = value.replace(/[-:.]/g, "").toUpperCase();
  return MAC_PATTERN.test(mac) ? mac : null;
}

/** Throws the FlowLogFormatError of one input, saying why it is not a flow-log blob path. */
type Fail = (why: string) => never;

/** The resource a blob path names, and the index of the first segment after it. */
type BlobResource = Pick<
  FlowLogBlobPath,
  "kind" | "subscriptionId" | "resourceGroup" | "nsgName" | "networkWatcherName" | "flowLogName"
> & { next: number };

/**
 * Parses a flow-log blob path: with or without the container or a URL's scheme and host, with or
 * without a leading `/`, case-insensitively, URL-decoded. Throws FlowLogFormatError quoting the
 * path when it is not a flow-log blob.
 */
export function parseBlobPath(input: string): FlowLogBlobPath {
  const fail: Fail = (why) => {
    throw new FlowLogFormatError(`not a flow-log blob path (${why}): '${input}'`);
  };
  const segments = pathSegments(input, fail);
  const { start, resourceStart, givenContainer } = locateResource(segments, fail);
  const rest = segments.slice(resourceStart).filter((s) => s !== "");
  const upper = rest.map((s) => s.toUpperCase());
  const resource = upper[0] === "SUBSCRIPTIONS" ? armResource(rest, upper, fail) : underscoreResource(rest, fail);
  const { kind, next, ...names } = resource;
  if (givenContainer && givenContainer !== containerForKind(kind)) {
    fail(`a ${kind === "nsg" ? "NSG" : "VNet"} flow log cannot be in container ${givenContainer}`);
  }
  const time = parseTimeSegments(rest, next) ?? fail("expected y=YYYY/m=MM/d=DD/h=HH/m=00 after the resource");
  let cursor = time.next;
  let mac: string | null = null;
  if (/^macaddress=/i.test(rest[cursor] ?? "")) {
    mac = normalizeMac(rest[cursor]!.slice("macAddress=".length));
    cursor += 1;
  }
  if (upper[cursor] !== "PT1H.JSON" || cursor !== rest.length - 1) fail("expected .../PT1H.json at the end");
  const { year, month, day, hourOfDay } = time;
  return {
    container: givenContainer ?? containerForKind(kind),
    path: segments.slice(start).join("/"),
    kind,
    ...names,
    year,
    month,
    day,
    hourOfDay,
    hour: `${year}-${TWO_DIGITS(month)}-${TWO_DIGITS(day)}T${TWO_DIGITS(hourOfDay ?? 0)}:00:00.000Z`,
    mac,
  };
}

/** The URL-decoded `/`-separated segments of a path or URL, without its query, scheme and host. */
function pathSegments(input: string, fail: Fail): string[] {
  let text = input.trim();
  const query = text.indexOf("?");
  if (query >= 0) text = text.slice(0, query);
  text = text.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");
  try {
    return decodeURIComponent(text).split("/");
  } catch {
    return fail("bad URL encoding");
  }
}

/**
 * Where the resource part starts: after `resourceId=` / `flowLogResourceID=`, or at `subscriptions`; and the
 * container when the segment before names a flow-log container.
 */
function locateResource(
  segments: readonly string[],
  fail: Fail,
): { start: number; resourceStart: number; givenContainer: string | null } {
  let start = segments.findIndex((s) => /^(resourceid|flowlogresourceid)=$/i.test(s));
  let resourceStart = start + 1;
  if (start < 0) {
    start = segments.findIndex((s) => s.toLowerCase() === "subscriptions");
    resourceStart = start;
  }
  if (start < 0) fail("no resourceId= or flowLogResourceID= segment");
  const before = start > 0 ? segments[start - 1]!.toLowerCase() : "";
  const givenContainer = before === NSG_FLOW_LOG_CONTAINER || before === VNET_FLOW_LOG_CONTAINER ? before : null;
  return { start, resourceStart, givenContainer };
}

/** The ARM id layout: SUBSCRIPTIONS/{id}/RESOURCEGROUPS/{name}/PROVIDERS/MICROSOFT.NETWORK/{nsg or flow log}. */
function armResource(rest: readonly string[], upper: readonly string[], fail: Fail): BlobResource {
  if (upper[2] !== "RESOURCEGROUPS" || upper[4] !== "PROVIDERS" || upper[5] !== "MICROSOFT.NETWORK") {
    fail("expected SUBSCRIPTIONS/{id}/RESOURCEGROUPS/{name}/PROVIDERS/MICROSOFT.NETWORK/...");
  }
  const ids = { subscriptionId: rest[1]!, resourceGroup: rest[3]! };
  if (upper[6] === "NETWORKSECURITYGROUPS" && rest[7]) {
    return { kind: "nsg", ...ids, nsgName: rest[7], networkWatcherName: null, flowLogName: null, next: 8 };
  }
  if (upper[6] === "NETWORKWATCHERS" && upper[8] === "FLOWLOGS" && rest[7] && rest[9]) {
    return { kind: "vnet", ...ids, nsgName: null, networkWatcherName: rest[7], flowLogName: rest[9], next: 10 };
  }
  return fail("expected NETWORKSECURITYGROUPS/{nsg} or NETWORKWATCHERS/{watcher}/FLOWLOGS/{name}");
}

/** The VNet underscore layout: /{sub}_{RG}/{WATCHER}_{NAME}/... (subscription ids have no `_`). */
function underscoreResource(rest: readonly string[], fail: Fail): BlobResource {
  const subAndGroup = splitAtUnderscore(rest[0] ?? "");
  const watcherAndName = splitWatcherAndName(rest[1] ?? "");
  if (!subAndGroup || !watcherAndName) {
    return fail("expected SUBSCRIPTIONS/... or {subscription}_{group}/{watcher}_{name}");
  }
  const [subscriptionId, resourceGroup] = subAndGroup;
  const [networkWatcherName, flowLogName] = watcherAndName;
  return { kind: "vnet", subscriptionId, resourceGroup, nsgName: null, networkWatcherName, flowLogName, next: 2 };
}

function splitAtUnderscore(segment: string): [string, string] | null {
  const at = segment.indexOf("_");
  return at > 0 && at < segment.length - 1 ? [segment.slice(0, at), segment.slice(at + 1)] : null;
}

/** `NETWORKWATCHER_{REGION}_{NAME}` (the default watcher name has an `_` itself), else `{WATCHER}_{NAME}`. */
function splitWatcherAndName(segment: string): [string, string] | null {
  const defaultWatcher = /^(networkwatcher_[^_]+)_(.+)$/i.exec(segment);
  if (defaultWatcher) return [defaultWatcher[1]!, defaultWatcher[2]!];
  return splitAtUnderscore(segment);
}

interface PathTime {
  year: number;
  month: number;
  day: number;
  hourOfDay: number | null;
  next: number;
}

/** `y=/m=/d=/h=/m=` (current) or `{year}/{month}/{day}` (2017). */
function parseTimeSegments(rest: string[], at: number): PathTime | null {
  const keyed = (index: number, key: string): number | null => {
    const match = /^([a-z])=(\d{1,4})$/i.exec(rest[index] ?? "");
    return match && match[1]!.toLowerCase() === key ? Number(match[2]) : null;
  };
  const year = keyed(at, "y");
  let time: PathTime | null = null;
  if (year !== null) {
    const month = keyed(at + 1, "m");
    const day = keyed(at + 2, "d");
    const hourOfDay = keyed(at + 3, "h");
    const minute = keyed(at + 4, "m");
    if (month !== null && day !== null && hourOfDay !== null && minute !== null) {
      time = { year, month, day, hourOfDay, next: at + 5 };
    }
  } else if (
    /^\d{4}$/.test(rest[at] ?? "") &&
    /^\d{1,2}$/.test(rest[at + 1] ?? "") &&
    /^\d{1,2}$/.test(rest[at + 2] ?? "")
  ) {
    time = {
      year: Number(rest[at]),
      month: Number(rest[at + 1]),
      day: Number(rest[at + 2]),
      hourOfDay: null,
      next: at + 3,
    };
  }
  if (!time || time.year < 1000 || time.month < 1 || time.month > 12 || time.day < 1 || time.day > 31) return null;
  if (time.hourOfDay !== null && time.hourOfDay > 23) return null;
  return time;
}
