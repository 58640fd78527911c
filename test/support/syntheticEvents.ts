/** Flow events from a synthetic NSG v2 flow log (no fixture needed), each tuple distinct. */
import { eventsOf, flattenFlowLog, type FlowEvent } from "../../src/core";

const NSG_ID =
  "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG1/PROVIDERS/" +
  "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1";

/** `count` events of one record, one tuple each second from 2024-01-01T00:00:00Z, alternating allow and deny. */
export function syntheticEvents(count: number, blobPath = "synthetic/PT1H.json"): FlowEvent[] {
  const start = Date.parse("2024-01-01T00:00:00Z") / 1000;
  const tuples = Array.from({ length: count }, (_, index) => {
    const decision = index % 2 === 0 ? "A" : "D";
    const counters = decision === "A" ? `${index % 50},${index * 100},${index % 7},${index * 30}` : ",,,";
    const addresses = `10.0.${index % 250}.4,203.0.113.${index % 200},${40000 + (index % 20000)},443`;
    return `${start + index},${addresses},T,O,${decision},B,${counters}`;
  });
  const record = {
    time: "2024-01-01T00:00:00.0000000Z",
    resourceId: NSG_ID,
    properties: {
      Version: 2,
      flows: [{ rule: "DefaultRule_AllowInternetOutBound", flows: [{ mac: "000D3AF87856", flowTuples: tuples }] }],
    },
  };
  return eventsOf(flattenFlowLog(JSON.stringify({ records: [record] }), { blobPath }));
}
