/**
 * The local Event Hubs endpoint as clients we did not write see it, over AMQPS with the local CA:
 * - the Python azure-eventhub 5.11 client (Debian python3-azure; its pure-Python AMQP stack reads
 *   performatives by position: azure/eventhub/_pyamqp), producer and consumer, via azure_eventhub_client.py;
 * - a raw Qpid Proton receiver (Debian python3-qpid-proton), via qpid_proton_receiver.py.
 * What they check against: the clients' own sources (_client_base.py `_get_eventhub_properties` /
 * `_get_partition_properties`, _common.py EventData, proton.reactor.Selector) and the service's behaviour
 * as the JS SDK's managementClient.ts and eventPosition.ts describe it.
 */
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEventHubsEndpoint, type LocalEventHubsEndpoint } from "../../../devhost/eventhubs";
import { missingPythonModule, runPythonScript } from "./python";

const AZURE_EVENTHUB_MISSING = missingPythonModule("azure.eventhub", "python3-azure");
const PROTON_MISSING = missingPythonModule("proton", "python3-qpid-proton");
const HUB = "flows";
const PARTITIONS = 3;
/** Each Python run starts a TLS connection, CBS and links: seconds on a busy machine. */
const PYTHON_TIMEOUT_IN_MS = 120_000;

interface SentEvent {
  body: string;
  partition_id?: string;
  partition_key?: string;
  properties?: Record<string, string>;
}
interface ReceivedEvent {
  partition_id: string;
  body: string;
  sequence_number: number;
  offset: string;
  enqueued_time: string;
  partition_key: string | null;
  properties: Record<string, string>;
}
interface ClientError {
  error?: { type: string; message: string };
}

let eh: LocalEventHubsEndpoint;

/** The Python producer sends str bodies as bytes (a data section that is not JSON): read them as text. */
function textOf(body: unknown): unknown {
  return Buffer.isBuffer(body) ? body.toString("utf8") : body;
}

/** Python's datetime.isoformat() of a UTC time (microseconds, left out when zero). */
function pythonIso(time: Date): string {
  const iso = time.toISOString();
  return time.getUTCMilliseconds() === 0 ? iso.replace(".000Z", "+00:00") : iso.replace("Z", "000+00:00");
}

/** A request of azure_eventhub_client.py against `eh` over AMQPS, with SAS and the local CA. */
function azureEventHub<T>(request: object): Promise<T & ClientError> {
  return runPythonScript("azure_eventhub_client.py", {
    connection_string: eh.tlsConnectionString(HUB),
    hub: HUB,
    ca_file: eh.caFile,
    amqps_port: eh.tlsPort,
    ...request,
  });
}

describe.skipIf(AZURE_EVENTHUB_MISSING !== undefined)(
  `Python azure-eventhub 5.11 over AMQPS${AZURE_EVENTHUB_MISSING ? ` (skipped: ${AZURE_EVENTHUB_MISSING})` : ""}`,
  () => {
    const sent: SentEvent[] = [
      { body: "to-0-a", partition_id: "0", properties: { kind: "by-id" } },
      { body: "to-0-b", partition_id: "0" },
      { body: "to-0-c", partition_id: "0" },
      { body: "to-1", partition_id: "1" },
      { body: "to-2", partition_id: "2" },
      { body: "keyed", partition_key: "nic-7" },
    ];

    beforeAll(async () => {
      eh = await startEventHubsEndpoint({ hubs: [{ name: HUB, partitionCount: PARTITIONS }] });
      const answer = await azureEventHub<{ sent: number }>({ action: "send", events: sent });
      expect(answer.error).toBeUndefined();
    }, PYTHON_TIMEOUT_IN_MS);
    afterAll(() => eh?.stop());

    // Checks against: _producer_client.py send_batch / create_batch(partition_id | partition_key).
    it(
      "sends: every event is stored in the partition asked for (by id, or by the key's hash)",
      () => {
        // Assess (the sends ran in beforeAll)
        const stored = eh.events(HUB);
        expect(stored.map((event) => [event.partitionId, textOf(event.body)])).toEqual(
          expect.arrayContaining([
            ["0", "to-0-a"],
            ["0", "to-0-b"],
            ["0", "to-0-c"],
            ["1", "to-1"],
            ["2", "to-2"],
          ]),
        );
        const keyed = stored.find((event) => textOf(event.body) === "keyed");
        expect(keyed?.partitionKey).toBe("nic-7");
        expect(stored.find((event) => textOf(event.body) === "to-0-a")?.properties).toEqual({ kind: "by-id" });
      },
      PYTHON_TIMEOUT_IN_MS,
    );

    // Checks against: _client_base.py _get_eventhub_properties / _get_partition_properties (names, types).
    it(
      "reads hub and partition properties with the service's field names and types",
      async () => {
        // Act
        const answer = await azureEventHub<{
          hub: { eventhub_name: string; created_at: string; partition_ids: string[] };
          partitions: Array<Record<string, unknown>>;
        }>({ action: "properties" });

        // Assess: what the client made of the READ replies (created_at and enqueued times are timestamps).
        expect(answer.error).toBeUndefined();
        expect(answer.hub).toMatchObject({ eventhub_name: HUB, partition_ids: ["0", "1", "2"] });
        expect(Number.isNaN(Date.parse(answer.hub.created_at))).toBe(false);
        const zero = eh.events(HUB, "0");
        expect(answer.partitions[0]).toEqual({
          eventhub_name: HUB,
          id: "0",
          beginning_sequence_number: 0,
          last_enqueued_sequence_number: 2,
          last_enqueued_offset: zero[2].offset,
          is_empty: false,
          last_enqueued_time_utc: pythonIso(zero[2].enqueuedTimeUtc),
        });
      },
      PYTHON_TIMEOUT_IN_MS,
    );

    // Checks against: _consumer_client.py receive(starting_position="-1") and _common.py EventData annotations.
    it(
      "receives every partition from the start, with the service's sequence numbers, offsets and times",
      async () => {
        // Act
        const answers = await Promise.all(
          ["0", "1", "2"].map((partitionId) =>
            azureEventHub<{ events: ReceivedEvent[]; errors: string[] }>({
              action: "receive",
              partition_id: partitionId,
              count: eh.eventCount(HUB, partitionId),
            }),
          ),
        );

        // Assess
        answers.forEach((answer, partition) => {
          expect(answer.errors).toEqual([]);
          const expected = eh.events(HUB, String(partition)).map((event) => ({
            partition_id: String(partition),
            body: textOf(event.body),
            sequence_number: event.sequenceNumber,
            offset: event.offset,
            enqueued_time: pythonIso(event.enqueuedTimeUtc),
            partition_key: event.partitionKey ?? null,
            properties: event.properties,
          }));
          expect(answer.events).toEqual(expected);
        });
      },
      PYTHON_TIMEOUT_IN_MS,
    );

    // Checks against: _consumer.py starting_position (int: sequence number) and starting_position_inclusive.
    it(
      "receives from a sequence number, inclusive and exclusive",
      async () => {
        // Act
        const [inclusive, exclusive] = await Promise.all(
          [true, false].map((isInclusive) =>
            azureEventHub<{ events: ReceivedEvent[]; errors: string[] }>({
              action: "receive",
              partition_id: "0",
              from_sequence_number: 1,
              inclusive: isInclusive,
              count: isInclusive ? 2 : 1,
            }),
          ),
        );

        // Assess
        expect(inclusive.events.map((event) => [event.sequence_number, event.body])).toEqual([
          [1, "to-0-b"],
          [2, "to-0-c"],
        ]);
        expect(exclusive.events.map((event) => [event.sequence_number, event.body])).toEqual([[2, "to-0-c"]]);
      },
      PYTHON_TIMEOUT_IN_MS,
    );

    // Checks against: _transport/_pyamqp_transport.py get_error (status 404 -> NotFound).
    it(
      "gets NotFound (management status 404) for a hub the namespace does not have",
      async () => {
        // Act
        const answer = await azureEventHub<object>({
          action: "properties",
          retry_total: 0,
          hub: "no-such-hub",
          connection_string: eh.tlsConnectionString(HUB).replace(`EntityPath=${HUB}`, "EntityPath=no-such-hub"),
        });

        // Assess
        expect(answer.error?.message).toMatch(/NotFound[\s\S]*Status code: 404/);
      },
      PYTHON_TIMEOUT_IN_MS,
    );
  },
);

describe.skipIf(PROTON_MISSING !== undefined)(
  `raw Qpid Proton receiver over AMQPS${PROTON_MISSING ? ` (skipped: ${PROTON_MISSING})` : ""}`,
  () => {
    // Checks against: proton.reactor.Selector, proton.SSLDomain VERIFY_PEER_NAME, AMQP 1.0 attach (part 2.6.3).
    it(
      "reads a partition from a sequence number with SASL PLAIN, both termini echoed, annotations typed",
      async () => {
        // Prepare: three events in partition 1, sent by the JS SDK over plain AMQP.
        const endpoint = await startEventHubsEndpoint({ hubs: [{ name: HUB, partitionCount: 2 }] });
        try {
          const { EventHubProducerClient } = await import("@azure/event-hubs");
          const producer = new EventHubProducerClient(endpoint.connectionString(HUB));
          await producer.sendBatch([{ body: "p0" }, { body: "p1" }, { body: "p2" }], { partitionId: "1" });
          await producer.close();

          // Act
          const answer = await runPythonScript<{
            messages: Array<Record<string, unknown>>;
            remote_source: string;
            remote_target: string;
          }>("qpid_proton_receiver.py", {
            host: "localhost",
            port: endpoint.tlsPort,
            ca_file: endpoint.caFile,
            key_name: "RootManageSharedAccessKey",
            key: "local",
            hub: HUB,
            partition_id: "1",
            from_sequence_number: 1,
            count: 2,
          });

          // Assess: sequence numbers are longs, offsets strings, enqueued times AMQP timestamps.
          const stored = endpoint.events(HUB, "1");
          expect(answer.messages).toEqual(
            stored.slice(1).map((event) => ({
              body: JSON.stringify(event.body),
              sequence_number: event.sequenceNumber,
              sequence_number_type: "int",
              offset: event.offset,
              offset_type: "str",
              enqueued_time_type: "timestamp",
              enqueued_time_ms: event.enqueuedTimeUtc.getTime(),
            })),
          );
          expect(answer.remote_source).toBe(`${HUB}/ConsumerGroups/$Default/Partitions/1`);
          expect(answer.remote_target).toBeTruthy();
        } finally {
          await endpoint.stop();
        }
      },
      PYTHON_TIMEOUT_IN_MS,
    );
  },
);

describe.skipIf(AZURE_EVENTHUB_MISSING !== undefined)("Python azure-eventhub, unmodified, on port 5671", () => {
  // Checks against: _pyamqp/_connection.py (port dropped: always 5671) with _client_base.py's connection string.
  it(
    "sends and reads properties with the TLS connection string exactly as `npm start` writes it",
    async (context) => {
      // Prepare: this client always dials 5671 (its _pyamqp/_connection.py drops the port), so bind 5671.
      if (!(await portIsFree(5671))) context.skip("port 5671 is in use on this machine (CI's machine has it free)");
      const endpoint = await startEventHubsEndpoint({ hubs: [{ name: HUB, partitionCount: 2 }], tlsPort: 5671 });
      try {
        const request = {
          connection_string: endpoint.tlsConnectionString(HUB),
          hub: HUB,
          ca_file: endpoint.caFile,
        };

        // Act
        const sent = await runPythonScript<ClientError>("azure_eventhub_client.py", {
          ...request,
          action: "send",
          events: [{ body: "standard-port", partition_id: "1" }],
        });
        const properties = await runPythonScript<ClientError & { hub: { partition_ids: string[] } }>(
          "azure_eventhub_client.py",
          { ...request, action: "properties" },
        );

        // Assess
        expect(request.connection_string).toMatch(/^Endpoint=sb:\/\/localhost\/;/);
        expect(sent.error).toBeUndefined();
        expect(properties.hub.partition_ids).toEqual(["0", "1"]);
        expect(endpoint.events(HUB, "1").map((event) => textOf(event.body))).toEqual(["standard-port"]);
      } finally {
        await endpoint.stop();
      }
    },
    PYTHON_TIMEOUT_IN_MS,
  );
});

/** Whether 127.0.0.1:port can be bound now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}
