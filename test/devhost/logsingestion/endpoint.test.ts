/**
 * The local Logs Ingestion endpoint's own rules, with raw https calls where the real client would
 * never break them (its upload stays within the limits; see test/adapters/logsIngestionSink.test.ts).
 */
import { request } from "node:https";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_CALL_BYTES, startLogsIngestionEndpoint, type LogsIngestionEndpoint } from "../../../devhost/logsingestion";

let endpoint: LogsIngestionEndpoint;
let token: string;

beforeAll(async () => {
  endpoint = await startLogsIngestionEndpoint();
  token = await endpoint.mintToken();
});
afterAll(() => endpoint.stop());

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function post(
  body: Buffer,
  options: { gzip?: boolean; token?: string; path?: string; apiVersion?: string } = {},
): Promise<Answer> {
  const path = options.path ?? `/dataCollectionRules/${endpoint.ruleId}/streams/${endpoint.streamName}`;
  const url = new URL(`${path}?api-version=${options.apiVersion ?? "2023-01-01"}`, endpoint.endpoint);
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (options.gzip) headers["Content-Encoding"] = "gzip";
  if (options.token !== "") headers.Authorization = `Bearer ${options.token ?? token}`;
  return new Promise((resolve, reject) => {
    const call = request(url, { method: "POST", ca: endpoint.caCertificatePem, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          headers: response.headers,
        }),
      );
    });
    call.on("error", reject);
    call.end(body);
  });
}

const json = (rows: unknown[]) => Buffer.from(JSON.stringify(rows));
/** Rows of about `bytes` bytes of JSON in all (one long, compressible field each). */
const rowsOf = (bytes: number) =>
  Array.from({ length: Math.ceil(bytes / 10_000) }, (_, i) => ({ i, x: "a".repeat(10_000) }));

describe("local Logs Ingestion endpoint", () => {
  it("stores plain and gzipped JSON arrays and answers 204", async () => {
    // Act
    const plain = await post(json([{ a: 1 }]));
    const zipped = await post(gzipSync(json([{ a: 2 }, { a: 3 }])), { gzip: true });
    // Assess
    expect([plain.status, zipped.status]).toEqual([204, 204]);
    expect(endpoint.rows().slice(-3)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  it("refuses more than 1 MB per call, compressed or once decompressed, with 413", async () => {
    // Prepare: a gzip body far below 1 MB that decompresses past it, and an uncompressed one past it.
    const inflating = gzipSync(json(rowsOf(MAX_CALL_BYTES + 50_000)));
    expect(inflating.length).toBeLessThan(MAX_CALL_BYTES / 10);
    // Act
    const compressed = await post(inflating, { gzip: true });
    const plain = await post(json(rowsOf(MAX_CALL_BYTES + 50_000)));
    const within = await post(gzipSync(json(rowsOf(MAX_CALL_BYTES - 20_000))), { gzip: true });
    // Assess
    expect([compressed.status, plain.status, within.status]).toEqual([413, 413, 204]);
    expect(JSON.parse(plain.body)).toMatchObject({ error: { code: "ContentLengthLimitExceeded" } });
    expect(plain.headers["x-ms-error-code"]).toBe("ContentLengthLimitExceeded");
  });

  it("checks the bearer token, the api-version, the DCR and its stream", async () => {
    // Act
    const statuses = [
      await post(json([{}]), { token: "" }),
      await post(json([{}]), { token: "not-a-jwt" }),
      await post(json([{}]), { apiVersion: "1999-01-01" }),
      await post(json([{}]), { path: `/dataCollectionRules/dcr-unknown/streams/${endpoint.streamName}` }),
      await post(json([{}]), { path: `/dataCollectionRules/${endpoint.ruleId}/streams/Custom-Other` }),
      await post(Buffer.from("{not json")),
    ].map((answer) => answer.status);
    // Assess
    expect(statuses).toEqual([401, 401, 400, 404, 400, 400]);
  });

  it("answers injected faults in order, with Retry-After for 429 and 503", async () => {
    // Prepare
    endpoint.injectFault({ statusCode: 429, retryAfterInSeconds: 7 });
    endpoint.injectFault({ statusCode: 503 });
    endpoint.injectFault({ statusCode: 413 });
    // Act
    const answers = [await post(json([{}])), await post(json([{}])), await post(json([{}])), await post(json([{}]))];
    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([429, 503, 413, 204]);
    expect(answers.map((answer) => answer.headers["retry-after"])).toEqual(["7", "1", undefined, undefined]);
  });

  it("declares the template's alerts stream beside the flows one; a stream's fault spares the other", async () => {
    // Prepare
    const alertsPath = `/dataCollectionRules/${endpoint.ruleId}/streams/${endpoint.alertsStreamName!}`;
    const settings = await endpoint.appSettings();
    endpoint.injectFault({ statusCode: 503, stream: endpoint.alertsStreamName! });
    // Act
    const flows = await post(json([{ flows: 1 }]));
    const refused = await post(json([{ alerts: 1 }]), { path: alertsPath });
    const accepted = await post(json([{ alerts: 2 }]), { path: alertsPath });
    // Assess
    expect(endpoint.alertsStreamName).toBe("Custom-FlowtapAlerts");
    expect(settings.FLOWTAP_DCR_ALERTS_STREAM).toBe("Custom-FlowtapAlerts");
    expect([flows.status, refused.status, accepted.status]).toEqual([204, 503, 204]);
    expect(endpoint.rows(endpoint.alertsStreamName)).toEqual([{ alerts: 2 }]);
  });

  it("a rule of one stream: the app settings keep alerts off Log Analytics", async () => {
    // Prepare
    const single = await startLogsIngestionEndpoint({ rules: { [endpoint.ruleId]: [endpoint.streamName] } });
    try {
      // Act
      const settings = await single.appSettings("both");
      // Assess
      expect(single.alertsStreamName).toBeUndefined();
      expect(settings.FLOWTAP_DCR_ALERTS_STREAM).toBe("none");
    } finally {
      await single.stop();
    }
  });
});
