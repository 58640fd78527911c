/**
 * The local Logs Ingestion endpoint as a client we did not write sees it: Debian's Python
 * azure-monitor-ingestion (python3-azure, 1.0.0b2: api-version 2021-11-01-preview, its own 1 MiB
 * chunking and gzip, azure-core's retry policy honouring Retry-After), via azure_monitor_ingestion_client.py.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_CALL_BYTES, startLogsIngestionEndpoint, type LogsIngestionEndpoint } from "../../../devhost/logsingestion";
import { missingPythonModule, runPythonScript } from "../eventhubs/python";

const MISSING = missingPythonModule("azure.monitor.ingestion", "python3-azure");
const SCRIPT = "../logsingestion/azure_monitor_ingestion_client.py";

interface Answer {
  failures: { status: number | null; rows: number }[];
}

let endpoint: LogsIngestionEndpoint;
let folder: string;
let base: Record<string, unknown>;

beforeAll(async () => {
  if (MISSING) return;
  endpoint = await startLogsIngestionEndpoint();
  folder = await mkdtemp(join(tmpdir(), "flowtap-logs-"));
  const caFile = join(folder, "ca.pem");
  await writeFile(caFile, endpoint.caCertificatePem);
  base = {
    endpoint: endpoint.endpoint,
    rule_id: endpoint.ruleId,
    stream: endpoint.streamName,
    token: await endpoint.mintToken(),
    ca_file: caFile,
  };
});
afterAll(async () => {
  if (MISSING) return;
  await endpoint.stop();
  await rm(folder, { recursive: true, force: true });
});

/** `count` rows of about 600 bytes of JSON, tagged so each test finds its own (the script builds the same). */
const rowsOf = (tag: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ tag, i, TimeGenerated: "2026-11-22T10:00:00.000Z", x: "y".repeat(560) }));
const storedOf = (tag: string) => endpoint.rows().filter((row) => row.tag === tag);

describe.skipIf(MISSING !== undefined)(`Python azure-monitor-ingestion client ${MISSING ?? ""}`, () => {
  it("uploads every row once, gzipped, in calls within 1 MB", async () => {
    // Prepare
    const rows = rowsOf("all", 5000);
    const start = endpoint.calls.length;
    // Act
    const answer = await runPythonScript<Answer>(SCRIPT, { ...base, tag: rows[0]!.tag, count: rows.length });
    // Assess
    expect(answer.failures).toEqual([]);
    expect(storedOf("all")).toEqual(rows);
    const calls = endpoint.calls.slice(start);
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) {
      expect(call).toMatchObject({ statusCode: 204, gzip: true });
      expect(call.decodedBytes).toBeLessThanOrEqual(MAX_CALL_BYTES);
    }
  });

  it("waits for Retry-After on 429 and 503 and then delivers", async () => {
    // Prepare
    const rows = rowsOf("throttled", 10);
    endpoint.injectFault({ statusCode: 429, retryAfterInSeconds: 1 });
    endpoint.injectFault({ statusCode: 503, retryAfterInSeconds: 1 });
    const start = endpoint.calls.length;
    // Act
    const answer = await runPythonScript<Answer>(SCRIPT, { ...base, tag: rows[0]!.tag, count: rows.length });
    // Assess
    expect(answer.failures).toEqual([]);
    expect(storedOf("throttled")).toEqual(rows);
    const [first, second, third] = endpoint.calls.slice(start);
    expect([first?.statusCode, second?.statusCode, third?.statusCode]).toEqual([429, 503, 204]);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1000);
  });

  it("reports a chunk refused with 413 to on_error, with its rows", async () => {
    // Prepare
    endpoint.injectFault({ statusCode: 413 });
    // Act
    const answer = await runPythonScript<Answer>(SCRIPT, { ...base, tag: "refused", count: 3 });
    // Assess
    expect(answer.failures).toEqual([{ status: 413, rows: 3 }]);
    expect(storedOf("refused")).toEqual([]);
  });
});
