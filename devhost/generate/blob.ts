/**
 * Where a generated PT1H.json lives and how its text is laid out: `{"records":[`, the records
 * separated by `,`, then `]}` — one chunk per committed block of the service's layout, so a
 * writer can stream a 1 GB blob or stage one block per record like the live service.
 */
import { buildBlobPath, containerForKind } from "../../src/core/blobPath";
import { FLOW_LOG_HEAD, FLOW_LOG_TAIL } from "../../src/core/blocks";
import type { FlowLogRecord } from "./records";
import { hoursFrom, parseHourIso } from "./time";
import type { Topology, TopologyNic } from "./topology";

export interface GeneratedBlobPath {
  container: string;
  /** Container-relative. */
  path: string;
}

export interface BlobPathForOptions {
  /** VNet only: the full ARM id form (default) or the `{sub}_{RG}/{WATCHER}_{NAME}` form. */
  vnetLayout?: "arm" | "underscore";
}

export function blobPathFor(nic: TopologyNic, hourIso: string, options: BlobPathForOptions = {}): GeneratedBlobPath {
  const hour = new Date(parseHourIso(hourIso));
  const time = {
    year: hour.getUTCFullYear(),
    month: hour.getUTCMonth() + 1,
    day: hour.getUTCDate(),
    hourOfDay: hour.getUTCHours(),
  };
  const path =
    nic.kind === "nsg"
      ? buildBlobPath({
          kind: "nsg",
          subscriptionId: nic.subscriptionId,
          resourceGroup: nic.resourceGroup,
          nsgName: nic.nsgName,
          mac: nic.macAddress,
          ...time,
        })
      : buildBlobPath(
          {
            kind: "vnet",
            subscriptionId: nic.subscriptionId,
            resourceGroup: "NetworkWatcherRG",
            networkWatcherName: `NetworkWatcher_${nic.region}`,
            flowLogName: nic.flowLogName,
            mac: nic.macAddress,
            ...time,
          },
          { vnetLayout: options.vnetLayout ?? "arm" },
        );
  return { container: containerForKind(nic.kind), path };
}

/** The blob's text as block-sized chunks: head, each record (`,`-prefixed after the first), tail. */
export function* serializeBlob(records: Iterable<FlowLogRecord>): Generator<string> {
  yield FLOW_LOG_HEAD;
  let first = true;
  for (const record of records) {
    yield first ? JSON.stringify(record) : `,${JSON.stringify(record)}`;
    first = false;
  }
  yield FLOW_LOG_TAIL;
}

export interface PlannedBlob extends GeneratedBlobPath {
  nic: TopologyNic;
  /** Start of the blob's hour, ISO-8601 UTC. */
  hourIso: string;
}

/** Every blob of `hours` hours from `startHourIso`, hour by hour, NIC by NIC. */
export function* planBlobs(
  topology: Topology,
  startHourIso: string,
  hours: number,
  options: BlobPathForOptions = {},
): Generator<PlannedBlob> {
  for (const hourIso of hoursFrom(startHourIso, hours)) {
    for (const nic of topology.nics) yield { nic, hourIso, ...blobPathFor(nic, hourIso, options) };
  }
}
