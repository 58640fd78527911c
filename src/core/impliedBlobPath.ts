/**
 * The blob path a flow-log record implies (design §2): its resource id, its hour and its NIC's
 * MAC, laid out as the service names the blob. So records that come without their blob (piped
 * into `flowtap flatten`) get the same blob identity, and event ids, as when read from storage.
 * VNet flow logs get the ARM-id layout (the form design §2 and the flow-log docs show first, and
 * what `flowtap generate` writes); a blob stored under the `{sub}_{RG}/...` layout needs its path
 * given. Pure.
 */
import { buildBlobPath, normalizeMac } from "./blobPath";
import { FlowLogFormatError } from "../errors";

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** `/SUBSCRIPTIONS/x/RESOURCEGROUPS/y/...` as a map from lower-cased segment name to value. */
function armIdParts(id: string): Map<string, string> {
  const segments = id.split("/").filter((segment) => segment !== "");
  const parts = new Map<string, string>();
  for (let i = 0; i + 1 < segments.length; i += 2) parts.set(segments[i]!.toLowerCase(), segments[i + 1]!);
  return parts;
}

/** The first MAC of an NSG record's flows (`properties.flows[].flows[].mac`). */
function nsgMac(record: JsonObject): string | null {
  const properties = isObject(record.properties) ? record.properties : {};
  for (const rule of Array.isArray(properties.flows) ? properties.flows : []) {
    for (const flow of isObject(rule) && Array.isArray(rule.flows) ? rule.flows : []) {
      const mac = isObject(flow) ? normalizeMac(flow.mac) : null;
      if (mac) return mac;
    }
  }
  return null;
}

/** The container-relative blob path of the record's blob; throws FlowLogFormatError naming what is missing. */
export function impliedBlobPath(record: unknown): string {
  const missing = (what: string): never => {
    throw new FlowLogFormatError(`the first record does not say its blob: ${what}; give the blob's path`);
  };
  if (!isObject(record)) return missing("it is not a JSON object");
  const time = typeof record.time === "string" ? new Date(record.time) : new Date(Number.NaN);
  if (Number.isNaN(time.getTime())) missing('"time" is missing or not a time');
  const hour = {
    year: time.getUTCFullYear(),
    month: time.getUTCMonth() + 1,
    day: time.getUTCDate(),
    hourOfDay: time.getUTCHours(),
  };
  if (typeof record.flowLogResourceID === "string") {
    const parts = armIdParts(record.flowLogResourceID);
    const [subscriptionId, resourceGroup] = [parts.get("subscriptions"), parts.get("resourcegroups")];
    const [networkWatcherName, flowLogName] = [parts.get("networkwatchers"), parts.get("flowlogs")];
    if (!subscriptionId || !resourceGroup || !networkWatcherName || !flowLogName)
      missing('"flowLogResourceID" is not a flow log\'s ARM id');
    const mac = normalizeMac(record.macAddress) ?? missing('"macAddress" is missing');
    return buildBlobPath(
      {
        kind: "vnet",
        subscriptionId: subscriptionId!,
        resourceGroup: resourceGroup!,
        networkWatcherName,
        flowLogName,
        mac,
        ...hour,
      },
      { vnetLayout: "arm" },
    );
  }
  if (typeof record.resourceId === "string") {
    const parts = armIdParts(record.resourceId);
    const [subscriptionId, resourceGroup, nsgName] = [
      parts.get("subscriptions"),
      parts.get("resourcegroups"),
      parts.get("networksecuritygroups"),
    ];
    if (!subscriptionId || !resourceGroup || !nsgName) missing('"resourceId" is not a network security group\'s id');
    return buildBlobPath({
      kind: "nsg",
      subscriptionId: subscriptionId!,
      resourceGroup: resourceGroup!,
      nsgName,
      mac: nsgMac(record),
      ...hour,
    });
  }
  return missing('neither "resourceId" (NSG) nor "flowLogResourceID" (VNet) is there');
}
