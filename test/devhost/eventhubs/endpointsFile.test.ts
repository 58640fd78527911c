import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startEventHubsEndpoint } from "../../../devhost/eventhubs";
import { eventHubsEndpointEntries, writeEndpointEntries } from "../../../devhost/eventhubs/endpointsFile";

describe("the Event Hubs entries of .flowtap/endpoints.json", () => {
  const folders: string[] = [];
  afterEach(() => {
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  it("names both connection strings and the CA file, and keeps the file's other fields", async () => {
    // Prepare
    const folder = mkdtempSync(join(tmpdir(), "flowtap-endpoints-"));
    folders.push(folder);
    const file = join(folder, ".flowtap", "endpoints.json");
    const eh = await startEventHubsEndpoint({ hubs: [{ name: "flows", partitionCount: 1 }] });
    try {
      await writeEndpointEntries(file, { armEndpoint: "https://127.0.0.1:1" });

      // Act
      await writeEndpointEntries(file, eventHubsEndpointEntries(eh, "flows"));

      // Assess
      const written = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
      expect(written).toEqual({
        armEndpoint: "https://127.0.0.1:1",
        eventHubsConnectionString:
          `Endpoint=sb://127.0.0.1:${eh.port};SharedAccessKeyName=RootManageSharedAccessKey;` +
          "SharedAccessKey=local;EntityPath=flows;UseDevelopmentEmulator=true",
        eventHubsTlsConnectionString:
          `Endpoint=sb://localhost:${eh.tlsPort}/;SharedAccessKeyName=RootManageSharedAccessKey;` +
          "SharedAccessKey=local;EntityPath=flows",
        eventHubsCaFile: eh.caFile,
      });
      expect(readFileSync(written.eventHubsCaFile, "utf8")).toBe(eh.caPem);
      expect(eh.caPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    } finally {
      await eh.stop();
    }
    expect(existsSync(eh.caFile)).toBe(false);
  });

  it("replaces a file that is not JSON, and refuses one that holds something else than an object", async () => {
    // Prepare
    const folder = mkdtempSync(join(tmpdir(), "flowtap-endpoints-"));
    folders.push(folder);
    const broken = join(folder, "broken.json");
    const list = join(folder, "list.json");
    writeFileSync(broken, "{ not json");
    writeFileSync(list, "[1]");

    // Act
    await writeEndpointEntries(broken, { eventHubsCaFile: "/ca.pem" });

    // Assess
    expect(JSON.parse(readFileSync(broken, "utf8"))).toEqual({ eventHubsCaFile: "/ca.pem" });
    await expect(writeEndpointEntries(list, {})).rejects.toThrow(/list\.json: expected a JSON object/);
  });
});
