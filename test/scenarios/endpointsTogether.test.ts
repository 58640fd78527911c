/**
 * Issue 4's promise in one test: Azurite, the Event Hubs endpoint and the ARM endpoint run side by
 * side; a growing flow log is written and read, its events go through Event Hubs and come back,
 * and a packet capture runs its lifecycle — all through the real SDK clients.
 */
import { BlobServiceClient } from "@azure/storage-blob";
import {
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  type ReceivedEventData,
} from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flattenFlowLog, eventsOf, encodeEvent } from "../../src/core";
import { buildTopology, blobPathFor, generateRecords } from "../../devhost/generate";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";
import { FlowLogBlobWriter } from "../../devhost/flowLogWriter";
import { startEventHubsEndpoint, type LocalEventHubsEndpoint } from "../../devhost/eventhubs";
import {
  createLocalNetworkClient,
  LOCAL_LRO_UPDATE_INTERVAL_IN_MS,
  startArmEndpoint,
  type ArmEndpoint,
} from "../../devhost/arm";

const subscriptionId = "11111111-2222-3333-4444-555555555555";
const vmId = `/subscriptions/${subscriptionId}/resourceGroups/app-rg/providers/Microsoft.Compute/virtualMachines/web-1`;
const hour = "2026-11-22T10:00:00Z";

describe("the local endpoints together", () => {
  let azurite: AzuriteInstance;
  let eventHubs: LocalEventHubsEndpoint;
  let arm: ArmEndpoint;

  beforeAll(async () => {
    [azurite, eventHubs, arm] = await Promise.all([
      startAzurite(),
      startEventHubsEndpoint({ hubs: [{ name: "flows", partitionCount: 2 }] }),
      startArmEndpoint({
        seed: {
          subscriptions: [{ id: subscriptionId }],
          virtualMachines: [
            {
              id: vmId,
              location: "eastus",
              networkWatcherExtension: true,
              nics: [
                {
                  id: `${vmId.replace("Microsoft.Compute/virtualMachines", "Microsoft.Network/networkInterfaces")}-nic`,
                  mac: "00-0D-3A-1B-2C-3D",
                  privateIp: "10.0.0.4",
                },
              ],
            },
          ],
          networkWatchers: [{ subscriptionId, location: "eastus" }],
        },
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([azurite?.stop(), eventHubs?.stop(), arm?.stop()]);
  });

  it("writes a growing flow log, streams its events through Event Hubs and back", async () => {
    // Prepare: three minutes of one generated NIC, appended minute by minute.
    const topology = buildTopology({ seed: 7, nics: 1 });
    const nic = topology.nics[0]!;
    const { container, path } = blobPathFor(nic, hour);
    const containerClient = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
      container,
    );
    const writer = new FlowLogBlobWriter(containerClient, path);
    for (const record of generateRecords({
      topology,
      nic,
      hourIso: hour,
      minutes: { first: 0, last: 2 },
      tuplesPerMinute: 5,
    })) {
      await writer.append(record);
    }
    const blobText = (await containerClient.getBlobClient(path).downloadToBuffer()).toString("utf8");
    const expected = eventsOf(flattenFlowLog(blobText, { blobPath: path }));

    // Act: send every event, then read them all back.
    const producer = new EventHubProducerClient(eventHubs.connectionString("flows"));
    const batch = await producer.createBatch({ partitionKey: nic.macAddress });
    for (const event of expected)
      expect(batch.tryAdd({ body: Buffer.from(encodeEvent(event)), messageId: event.id })).toBe(true);
    await producer.sendBatch(batch);
    await producer.close();
    const received = await readAll(eventHubs.connectionString("flows"), expected.length);

    // Assess: the same events, once each, in order.
    expect(JSON.parse(blobText)).toHaveProperty("records");
    expect(received.map((e) => e.messageId)).toEqual(expected.map((e) => e.id));
    // The SDK decodes a JSON data body into the value it holds.
    expect(received.map((e) => e.body as unknown)).toEqual(expected);
  });

  it("runs a packet capture from creation to its time limit", async () => {
    const client = createLocalNetworkClient(arm.endpoint, subscriptionId, { caCertificatePem: arm.caCertificatePem });
    const lro = { updateIntervalInMs: LOCAL_LRO_UPDATE_INTERVAL_IN_MS };
    const storageId =
      `/subscriptions/${subscriptionId}/resourceGroups/app-rg/providers/Microsoft.Storage/` +
      `storageAccounts/captures`;

    await client.packetCaptures.beginCreateAndWait(
      "NetworkWatcherRG",
      "NetworkWatcher_eastus",
      "pc-1",
      {
        target: vmId,
        timeLimitInSeconds: 60,
        storageLocation: { storageId, storagePath: "https://captures.blob.core.windows.net/pcaps/pc-1.cap" },
      },
      lro,
    );
    const running = await client.packetCaptures.beginGetStatusAndWait(
      "NetworkWatcherRG",
      "NetworkWatcher_eastus",
      "pc-1",
      lro,
    );
    arm.clock.advanceBy(61_000);
    const stopped = await client.packetCaptures.beginGetStatusAndWait(
      "NetworkWatcherRG",
      "NetworkWatcher_eastus",
      "pc-1",
      lro,
    );

    expect(running.packetCaptureStatus).toBe("Running");
    expect(stopped).toMatchObject({ packetCaptureStatus: "Stopped", stopReason: "TimeExceeded" });
  });
});

async function readAll(connectionString: string, count: number): Promise<ReceivedEventData[]> {
  const consumer = new EventHubConsumerClient("$Default", connectionString);
  const received: ReceivedEventData[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const subscription = consumer.subscribe(
        {
          processEvents: async (events) => {
            received.push(...events);
            if (received.length >= count) resolve();
          },
          processError: async (error) => reject(error),
        },
        { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1 },
      );
      void subscription;
    });
  } finally {
    await consumer.close();
  }
  return received;
}
