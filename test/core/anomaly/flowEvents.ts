import type { FlowEvent } from "../../../src/core/event";

export const TARGET_MAC = "000D3A1B2C3D";
export const TARGET_IP = "10.0.0.4";
export const NSG_ID =
  "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.NETWORK/" +
  "NETWORKSECURITYGROUPS/NSG-WEB";

let sequence = 0;

/** A realistic NSG v2 flow event to the target; override what the test is about. */
export function flowEvent(overrides: Partial<FlowEvent> = {}): FlowEvent {
  sequence++;
  return {
    id: `event-${sequence}`,
    time: "2026-11-22T12:00:10.000Z",
    recordTime: "2026-11-22T12:01:00.000Z",
    sourceKind: "nsg",
    flowLogVersion: 2,
    subscriptionId: "00000000-0000-0000-0000-000000000001",
    resourceGroup: "RG1",
    nsgName: "NSG-WEB",
    flowLogName: null,
    targetResourceId: NSG_ID,
    aclId: null,
    rule: "DefaultRule_DenyAllInBound",
    mac: TARGET_MAC,
    srcIp: "203.0.114.7",
    dstIp: TARGET_IP,
    srcPort: 51000,
    dstPort: 443,
    protocol: "TCP",
    direction: "inbound",
    decision: "deny",
    flowState: "begin",
    encryption: null,
    packetsSrcToDst: null,
    bytesSrcToDst: null,
    packetsDstToSrc: null,
    bytesDstToSrc: null,
    blob: "insights-logs-networksecuritygroupflowevent/resourceId=.../PT1H.json",
    ...overrides,
  };
}

/** `count` events spread over one minute starting at `minuteIso`, built by `make(index)`. */
export function eventsInMinute(
  minuteIso: string,
  count: number,
  make: (index: number) => Partial<FlowEvent>,
): FlowEvent[] {
  const start = Date.parse(minuteIso);
  return Array.from({ length: count }, (_, index) =>
    flowEvent({
      time: new Date(start + Math.floor((index * 60_000) / Math.max(count, 1))).toISOString(),
      ...make(index),
    }),
  );
}
