/** Shared setup of the ingestion tests: the local system on a virtual clock, generated blobs, read-back. */
import * as path from "node:path";
import { expect } from "vitest";
import { encodeEvent } from "../../../src/core/encode";
import { TriggerNames } from "../../../src/contracts/names";
import { eventsOf, flattenFlowLog } from "../../../src/core/flatten";
import { blobPathFor, buildTopology, generateRecords, type TopologyNic } from "../../../devhost/generate";
import { FlowLogBlobWriter, type FlowLogCommitResult } from "../../../devhost/flowLogWriter";
import {
  FLOWS_HUB,
  readHubEvents,
  startLocalSystem,
  type HubMessage,
  type LocalSystem,
  type StartLocalSystemOptions,
} from "../../../devhost/system";

export const HOUR_ISO = "2026-11-22T10:00:00Z";
export const APP_MODULE = path.join(__dirname, "../../../src/app.ts");
export const topology = buildTopology({ seed: 7, nics: 4 });
export const nsgNic = topology.nics.find((nic) => nic.kind === "nsg")!;
export const vnetNic = topology.nics.find((nic) => nic.kind === "vnet")!;

/** Short retries and no waiting: tests take seconds. */
export const FAST_SETTINGS: Record<string, string> = {
  FLOWTAP_ACTIVITY_RETRY_INTERVAL_MS: "10",
  FLOWTAP_ACTIVITY_MAX_ATTEMPTS: "3",
  FLOWTAP_EVENTHUB_RETRY_DELAY_MS: "10",
  FLOWTAP_LOGS_INGESTION_RETRY_DELAY_MS: "10",
  FLOWTAP_CLAIM_RETRY_SECONDS: "5",
};

/** One block per range, so a blob of a few minutes takes several ranges. */
export const ONE_BLOCK_PER_RANGE = { FLOWTAP_MAX_RANGE_BYTES: "1" };

/** Delivers the BlobCreated event of the last commit (the blob as it is now) to the Event Grid trigger. */
export async function deliverLatest(system: LocalSystem, commits: { events: { eventGrid: unknown } }[]): Promise<void> {
  await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commits.at(-1)!.events.eventGrid);
}

export function startTestSystem(options: StartLocalSystemOptions = {}): Promise<LocalSystem> {
  return startLocalSystem({
    app: { modulePath: APP_MODULE },
    port: 0,
    clock: { mode: "virtual", startTime: new Date("2026-11-22T10:30:00Z") },
    enableTimerTriggers: false,
    ...options,
    settings: { ...FAST_SETTINGS, ...options.settings },
  });
}

/** A blob written minute by minute the way the service writes it. */
export class GrowingBlob {
  readonly container: string;
  readonly path: string;
  readonly writer: FlowLogBlobWriter;
  private nextMinute = 0;

  constructor(
    system: LocalSystem,
    readonly nic: TopologyNic,
    private readonly tuplesPerMinute = 4,
  ) {
    ({ container: this.container, path: this.path } = blobPathFor(nic, HOUR_ISO));
    this.writer = new FlowLogBlobWriter(system.blobService.getContainerClient(this.container), this.path);
  }

  /** Appends the next `minutes` minutes, one commit per minute; returns each commit's events. */
  async appendMinutes(minutes = 1): Promise<FlowLogCommitResult[]> {
    const commits: FlowLogCommitResult[] = [];
    for (let i = 0; i < minutes; i++, this.nextMinute++) {
      const records = [
        ...generateRecords({
          topology,
          nic: this.nic,
          hourIso: HOUR_ISO,
          minutes: { first: this.nextMinute, last: this.nextMinute },
          tuplesPerMinute: this.tuplesPerMinute,
        }),
      ];
      commits.push(await this.writer.append(...records));
    }
    return commits;
  }
}

/** Encoded events of the blob's current content, as `flowtap flatten` gives them. */
export async function expectedEvents(
  system: LocalSystem,
  blob: { container: string; path: string },
): Promise<Map<string, string>> {
  const bytes = await system.blobService.getContainerClient(blob.container).getBlobClient(blob.path).downloadToBuffer();
  const events = eventsOf(flattenFlowLog(bytes, { blobPath: `${blob.container}/${blob.path}` }));
  return new Map(events.map((event) => [event.id, encodeEvent(event)]));
}

export interface DeliveryFigures {
  tuplesIn: number;
  messagesOut: number;
  distinctOut: number;
  duplicates: number;
  lost: number;
}

/** Prints a scenario's delivery figures (the closing notes quote them). */
export function reportDelivery(
  area: string,
  scenario: string,
  figures: Pick<DeliveryFigures, "tuplesIn" | "distinctOut" | "duplicates" | "lost">,
): void {
  console.log(
    `[${area}] ${scenario}: tuples in ${figures.tuplesIn}, distinct ids ` +
      `out ${figures.distinctOut}, duplicates ${figures.duplicates}, lost ${figures.lost}`,
  );
}

/** Reads the flows hub back and compares with the blobs' flattened content, field by field. */
export async function readBack(
  system: LocalSystem,
  blobs: readonly { container: string; path: string }[],
  options: { allowDuplicates?: boolean; packed?: boolean } = {},
): Promise<DeliveryFigures & { messages: HubMessage[] }> {
  const expected = new Map<string, string>();
  for (const blob of blobs) for (const [id, body] of await expectedEvents(system, blob)) expected.set(id, body);
  const messages = await readHubEvents(system.eventHubsConnectionString, FLOWS_HUB, {
    ...(!options.packed && { expectedCount: expected.size }),
    quietPeriodInMs: 300,
    timeoutInMs: 5_000,
  });
  const seen = new Map<string, string>();
  let duplicates = 0;
  for (const message of messages) {
    // One event per message, or (FLOWTAP_EVENTS_PER_MESSAGE > 1) a JSON array of events.
    const parsed = JSON.parse(message.bodyText) as unknown;
    const bodies = Array.isArray(parsed) ? parsed.map((event) => JSON.stringify(event)) : [message.bodyText];
    for (const body of bodies) {
      const id = (JSON.parse(body) as { id: string }).id;
      const previous = seen.get(id);
      if (previous !== undefined) {
        duplicates++;
        expect(body, `duplicate ${id} is byte-identical`).toBe(previous);
      }
      seen.set(id, body);
    }
  }
  for (const [id, body] of seen)
    expect(JSON.parse(body), `event ${id}`).toEqual(JSON.parse(expected.get(id) ?? "null"));
  const lost = [...expected.keys()].filter((id) => !seen.has(id)).length;
  const figures = {
    tuplesIn: expected.size,
    messagesOut: messages.length,
    distinctOut: seen.size,
    duplicates,
    lost,
    messages,
  };
  expect(lost, "events lost").toBe(0);
  expect(seen.size, "no event that is not in the blobs").toBe(expected.size);
  if (!options.allowDuplicates) expect(duplicates, "duplicates").toBe(0);
  return figures;
}
