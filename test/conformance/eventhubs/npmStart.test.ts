/**
 * The Event Hubs endpoint as `npm start` wires it (startDemoSystem, the local system with the app running),
 * reached by clients we did not write through what `npm start` writes to `.flowtap/endpoints.json`:
 * Python azure-eventhub 5.11 (_producer_client.py, _client_base.py) and a raw Qpid Proton receiver.
 * Ports are free ones here; `npm start` itself binds AMQPS on 5671.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoSystem, type LocalDemoSystem } from "../../../devhost/demo/localSystem";
import { readEndpointsFile, writeEndpointsFile, type FlowtapEndpoints } from "../../../devhost/endpointsFile";
import { missingPythonModule, runPythonScript } from "./python";

const MISSING =
  missingPythonModule("azure.eventhub", "python3-azure") ?? missingPythonModule("proton", "python3-qpid-proton");
const TIMEOUT_IN_MS = 120_000;

describe.skipIf(MISSING !== undefined)(
  `npm start's Event Hubs endpoint from .flowtap/endpoints.json${MISSING ? ` (skipped: ${MISSING})` : ""}`,
  () => {
    let system: LocalDemoSystem;
    let folder: string;
    let entries: FlowtapEndpoints;

    beforeAll(async () => {
      system = await startDemoSystem({
        port: 0,
        armSeed: { subscriptions: [] },
        startTime: new Date("2026-01-01T00:00:00Z"),
        eventHubsTlsPort: 0,
      });
      folder = mkdtempSync(join(tmpdir(), "flowtap-npm-start-"));
      await writeEndpointsFile(system.endpoints, folder);
      entries = (await readEndpointsFile(folder))!;
    }, TIMEOUT_IN_MS);
    afterAll(async () => {
      await system?.stop();
      if (folder) rmSync(folder, { recursive: true, force: true });
    });

    it(
      "a Python producer sends to the flows hub and a Qpid Proton receiver reads it back, both over AMQPS",
      async () => {
        // Prepare
        const tls = entries.eventHubsTlsConnectionString!;
        const amqpsPort = Number(/^Endpoint=sb:\/\/localhost:(\d+)\//.exec(tls)?.[1]);

        // Act
        const sent = await runPythonScript<{ sent?: number; error?: unknown }>("azure_eventhub_client.py", {
          connection_string: tls,
          hub: "flows",
          ca_file: entries.eventHubsCaFile,
          amqps_port: amqpsPort,
          action: "send",
          events: [{ body: "from-python", partition_id: "3" }],
        });
        const read = await runPythonScript<{ messages: Array<{ body: string; sequence_number: number }> }>(
          "qpid_proton_receiver.py",
          {
            host: "localhost",
            port: amqpsPort,
            ca_file: entries.eventHubsCaFile,
            key_name: "RootManageSharedAccessKey",
            key: "local",
            hub: "flows",
            partition_id: "3",
            from_sequence_number: 0,
            count: 1,
          },
        );

        // Assess
        expect(sent).toMatchObject({ sent: 1 });
        expect(read.messages).toEqual([expect.objectContaining({ body: "from-python", sequence_number: 0 })]);
        expect(entries.eventHubsConnectionString).toMatch(/;UseDevelopmentEmulator=true/);
        expect(entries.hubs).toEqual({ events: "flows", alerts: "alerts", captures: "alerts" });
      },
      TIMEOUT_IN_MS,
    );
  },
);
