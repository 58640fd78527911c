/**
 * A local Azure Monitor Logs Ingestion endpoint over https for the real `@azure/monitor-ingestion`
 * client. It follows the REST spec Azure/azure-rest-api-specs
 * specification/monitor/data-plane/ingestion/stable/2023-01-01/DataCollectionRules.json:
 * `POST /dataCollectionRules/{ruleId}/streams/{stream}?api-version=...`, a JSON array body
 * (optionally `Content-Encoding: gzip`), an OAuth2 bearer token for https://monitor.azure.com, 204 on
 * success and an `ErrorResponse` (`{"error":{"code","message"}}`, header x-ms-error-code) otherwise.
 * Limits as the service documents them (Azure Monitor service limits, Logs Ingestion API): at most
 * 1 MB per call, compressed and uncompressed. Tokens are minted and checked against a local Entra
 * tenant (devhost/entra.ts) with jose. Accepted rows are kept in memory for read-back; a fault
 * switch answers the next calls with 429 (Retry-After), 503 or 413. Differences: devhost/README.md.
 */
import { createServer } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { DEFAULT_DCR_ALERTS_STREAM } from "../../src/core/alertsTable";
import { DEFAULT_DCR_STREAM } from "../../src/core/asim/networkSessionColumns";
import { close, listen } from "../arm/http";
import { createSelfSignedCertificate } from "../arm/certificate";
import { startLocalEntra, type LocalEntra } from "../entra";

/** The service's limit per call (Azure Monitor service limits: 1 MB, for compressed and uncompressed data). */
export const MAX_CALL_BYTES = 1024 * 1024;
/** The audience of the tokens the client requests (scope https://monitor.azure.com/.default). */
export const MONITOR_AUDIENCE = "https://monitor.azure.com";
/** The api-versions of the spec (stable and the preview before it). */
const API_VERSIONS = new Set(["2023-01-01", "2021-11-01-preview"]);
/** The immutable id of the one DCR the endpoint knows unless told otherwise. */
export const LOCAL_DCR_IMMUTABLE_ID = "dcr-00000000000000000000000000f10a7a";

export interface LogsIngestionFault {
  statusCode: 429 | 503 | 413 | 500;
  /** Sent as Retry-After (default 1 for 429 and 503). */
  retryAfterInSeconds?: number;
  /** How many calls fail (default 1). */
  count?: number;
  /** Calls that pass before the first that fails (default 0: the next one fails). */
  afterCalls?: number;
  /** Only calls to this stream count and fail (default: every stream's). */
  stream?: string;
}

/** One call as the endpoint saw it. */
export interface RecordedIngestionCall {
  ruleId: string;
  stream: string;
  statusCode: number;
  /** Bytes on the wire, and after gunzip. */
  bodyBytes: number;
  decodedBytes: number;
  gzip: boolean;
  rows: number;
  /** Milliseconds since the epoch when the call arrived. */
  receivedAt: number;
}

export interface StartLogsIngestionEndpointOptions {
  port?: number;
  /**
   * The DCRs and their streams (default: LOCAL_DCR_IMMUTABLE_ID with DEFAULT_DCR_STREAM and DEFAULT_DCR_ALERTS_STREAM,
   * as the template's rule). The first rule's first stream takes flow events, its second (if any) the alerts.
   */
  rules?: Record<string, readonly string[]>;
  /** Keep accepted rows for read-back (default true; the bench counts them only). */
  keepRows?: boolean;
}

export interface LogsIngestionEndpoint {
  /** `https://127.0.0.1:PORT` (the DCE's logs ingestion URL). */
  readonly endpoint: string;
  readonly caCertificatePem: string;
  readonly ruleId: string;
  readonly streamName: string;
  /** The stream the app settings send alerts to (undefined: the rule has one stream, alerts are not sent here). */
  readonly alertsStreamName: string | undefined;
  /** A token for the monitor audience from the local tenant, valid for `expiresInSeconds` (default 7 days). */
  mintToken(expiresInSeconds?: number): Promise<string>;
  /** FLOWTAP_SINKS and FLOWTAP_LOGS_INGESTION_* / FLOWTAP_DCR_* settings that send here. */
  appSettings(sinks?: "loganalytics" | "both"): Promise<Record<string, string>>;
  /** Accepted rows of a stream, in arrival order. */
  rows(streamName?: string, ruleId?: string): readonly Record<string, unknown>[];
  readonly calls: readonly RecordedIngestionCall[];
  /** Makes the next calls fail (queued after earlier faults). */
  injectFault(fault: LogsIngestionFault): void;
  /** Drops the faults not used up yet. */
  clearFaults(): void;
  stop(): Promise<void>;
}

interface Answer {
  statusCode: number;
  code?: string;
  message?: string;
  headers?: Record<string, string>;
  /** A JSON body (the read-back route). */
  json?: unknown;
}

/** The read-back route (not part of the service, whose data is read with Log Analytics queries). */
export const READ_BACK_PATH = "/flowtap/rows";

const errorAnswer = (statusCode: number, code: string, message: string, headers?: Record<string, string>): Answer => ({
  statusCode,
  code,
  message,
  ...(headers && { headers }),
});

const FAULT_CODES: Record<LogsIngestionFault["statusCode"], string> = {
  429: "TooManyRequests",
  503: "ServiceUnavailable",
  413: "ContentLengthLimitExceeded",
  500: "InternalServerError",
};

function faultAnswer(fault: LogsIngestionFault): Answer {
  const retryAfter = fault.retryAfterInSeconds ?? (fault.statusCode === 429 || fault.statusCode === 503 ? 1 : null);
  return errorAnswer(
    fault.statusCode,
    FAULT_CODES[fault.statusCode],
    `Injected fault ${fault.statusCode}.`,
    retryAfter === null ? undefined : { "Retry-After": String(retryAfter) },
  );
}

function readBytes(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function send(response: ServerResponse, answer: Answer): void {
  const headers: Record<string, string> = { ...answer.headers };
  if (answer.json !== undefined) {
    response.writeHead(answer.statusCode, { ...headers, "Content-Type": "application/json" });
    response.end(JSON.stringify(answer.json));
    return;
  }
  if (answer.code === undefined) {
    response.writeHead(answer.statusCode, headers).end();
    return;
  }
  const body = JSON.stringify({ error: { code: answer.code, message: answer.message } });
  headers["Content-Type"] = "application/json";
  headers["x-ms-error-code"] = answer.code;
  response.writeHead(answer.statusCode, headers).end(body);
}

export async function startLogsIngestionEndpoint(
  options: StartLogsIngestionEndpointOptions = {},
): Promise<LogsIngestionEndpoint> {
  const rules = options.rules ?? { [LOCAL_DCR_IMMUTABLE_ID]: [DEFAULT_DCR_STREAM, DEFAULT_DCR_ALERTS_STREAM] };
  const [ruleId, streams] = Object.entries(rules)[0] ?? [LOCAL_DCR_IMMUTABLE_ID, [DEFAULT_DCR_STREAM]];
  const entra: LocalEntra = await startLocalEntra();
  const state = new IngestionState(entra, rules, options.keepRows ?? true);
  const certificate = createSelfSignedCertificate();
  const server = createServer({ cert: certificate.certificatePem, key: certificate.privateKeyPem }, (req, res) => {
    state.handle(req).then(
      (answer) => send(res, answer),
      (error: unknown) => send(res, errorAnswer(500, "InternalServerError", String(error))),
    );
  });
  await listen(server, options.port ?? 0);
  const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const mintToken = (expiresInSeconds = 7 * 24 * 3600): Promise<string> =>
    entra.mintToken({ audience: MONITOR_AUDIENCE, roles: [], expiresInSeconds });
  return {
    endpoint,
    caCertificatePem: certificate.certificatePem,
    ruleId,
    streamName: streams[0] ?? DEFAULT_DCR_STREAM,
    alertsStreamName: streams[1],
    mintToken,
    appSettings: async (sinks = "loganalytics") => ({
      FLOWTAP_SINKS: sinks,
      FLOWTAP_LOGS_INGESTION_ENDPOINT: endpoint,
      FLOWTAP_DCR_IMMUTABLE_ID: ruleId,
      FLOWTAP_DCR_STREAM: streams[0] ?? DEFAULT_DCR_STREAM,
      FLOWTAP_DCR_ALERTS_STREAM: streams[1] ?? "none",
      FLOWTAP_LOGS_INGESTION_DEV_TOKEN: await mintToken(),
      FLOWTAP_LOGS_INGESTION_CA_CERT: certificate.certificatePem,
    }),
    rows: (streamName = streams[0] ?? DEFAULT_DCR_STREAM, rule = ruleId) => state.rowsOf(rule, streamName),
    calls: state.calls,
    injectFault: (fault) => state.faults.push({ ...fault, count: fault.count ?? 1, afterCalls: fault.afterCalls ?? 0 }),
    clearFaults: () => state.faults.splice(0),
    stop: async () => {
      await close(server);
      await entra.stop();
    },
  };
}

const ROUTE = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)$/;

class IngestionState {
  readonly calls: RecordedIngestionCall[] = [];
  readonly faults: (LogsIngestionFault & { count: number; afterCalls: number })[] = [];
  private readonly stored = new Map<string, Record<string, unknown>[]>();
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    private readonly entra: LocalEntra,
    private readonly rules: Record<string, readonly string[]>,
    private readonly keepRows: boolean,
  ) {
    this.keys = createRemoteJWKSet(new URL(entra.jwksUrl));
  }

  rowsOf(ruleId: string, stream: string): readonly Record<string, unknown>[] {
    return this.stored.get(`${ruleId}/${stream}`) ?? [];
  }

  async handle(request: IncomingMessage): Promise<Answer> {
    const url = new URL(request.url ?? "/", "https://localhost");
    if (request.method === "GET" && url.pathname === READ_BACK_PATH) return this.readBack(request, url);
    const route = ROUTE.exec(url.pathname);
    if (request.method !== "POST" || !route) return errorAnswer(404, "NotFound", `No such operation: ${url.pathname}`);
    const [ruleId, stream] = [decodeURIComponent(route[1]!), decodeURIComponent(route[2]!)];
    const body = await readBytes(request);
    const record = (statusCode: number, decodedBytes: number, rows: number, gzip: boolean): void => {
      this.calls.push({
        ruleId,
        stream,
        statusCode,
        bodyBytes: body.length,
        decodedBytes,
        gzip,
        rows,
        receivedAt: Date.now(),
      });
    };
    const gzip = (request.headers["content-encoding"] ?? "").toLowerCase() === "gzip";
    const answer = await this.check(request, url, ruleId, stream, body, gzip);
    if ("statusCode" in answer) {
      record(answer.statusCode, 0, 0, gzip);
      return answer;
    }
    this.store(ruleId, stream, answer.rows);
    record(204, answer.decodedBytes, answer.rows.length, gzip);
    return { statusCode: 204 };
  }

  /** The call's rows, or the error answer the service would give. */
  private async check(
    request: IncomingMessage,
    url: URL,
    ruleId: string,
    stream: string,
    body: Buffer,
    gzip: boolean,
  ): Promise<Answer | { rows: Record<string, unknown>[]; decodedBytes: number }> {
    const apiVersion = url.searchParams.get("api-version");
    if (apiVersion === null || !API_VERSIONS.has(apiVersion))
      return errorAnswer(400, "InvalidApiVersion", `api-version '${apiVersion ?? ""}' is not supported.`);
    const authProblem = await this.authProblem(request.headers.authorization);
    if (authProblem) return errorAnswer(401, "InvalidToken", authProblem);
    if (!(ruleId in this.rules)) return errorAnswer(404, "NotFound", `Data collection rule '${ruleId}' not found.`);
    if (!this.rules[ruleId]!.includes(stream))
      return errorAnswer(400, "InvalidStream", `Stream '${stream}' is not declared by the data collection rule.`);
    const fault = this.takeFault(stream);
    if (fault) return faultAnswer(fault);
    if (body.length > MAX_CALL_BYTES) return tooLarge(body.length, "compressed");
    return decodeRows(body, gzip);
  }

  /** `GET /flowtap/rows?ruleId=&stream=&from=N`: the accepted rows from index N, and the index to ask from next. */
  private async readBack(request: IncomingMessage, url: URL): Promise<Answer> {
    const authProblem = await this.authProblem(request.headers.authorization);
    if (authProblem) return errorAnswer(401, "InvalidToken", authProblem);
    const from = Number(url.searchParams.get("from") ?? "0");
    if (!Number.isSafeInteger(from) || from < 0) return errorAnswer(400, "InvalidRequest", "from must be >= 0.");
    const rows = this.rowsOf(url.searchParams.get("ruleId") ?? "", url.searchParams.get("stream") ?? "");
    return { statusCode: 200, json: { rows: rows.slice(from), next: rows.length } };
  }

  private async authProblem(authorization: string | undefined): Promise<string | null> {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    if (!token) return "A bearer token is required.";
    try {
      await jwtVerify(token, this.keys, {
        issuer: this.entra.issuer,
        audience: [MONITOR_AUDIENCE, `${MONITOR_AUDIENCE}/`],
        algorithms: ["RS256"],
      });
      return null;
    } catch (error) {
      return `The token is not valid: ${(error as Error).message}`;
    }
  }

  /** The first queued fault for this stream's calls, if it is this call's turn to fail. */
  private takeFault(stream: string): LogsIngestionFault | undefined {
    const index = this.faults.findIndex((fault) => fault.stream === undefined || fault.stream === stream);
    const fault = this.faults[index];
    if (!fault) return undefined;
    if (fault.afterCalls > 0) {
      fault.afterCalls--;
      return undefined;
    }
    if (--fault.count <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private store(ruleId: string, stream: string, rows: Record<string, unknown>[]): void {
    if (!this.keepRows) return;
    const key = `${ruleId}/${stream}`;
    const stored = this.stored.get(key) ?? [];
    for (const row of rows) stored.push(row);
    this.stored.set(key, stored);
  }
}

function tooLarge(bytes: number, what: string): Answer {
  return errorAnswer(
    413,
    "ContentLengthLimitExceeded",
    `The ${what} payload is ${bytes} bytes, over the ${MAX_CALL_BYTES} bytes allowed per call.`,
  );
}

function decodeRows(body: Buffer, gzip: boolean): Answer | { rows: Record<string, unknown>[]; decodedBytes: number } {
  let decoded: Buffer;
  try {
    decoded = gzip ? gunzipSync(body, { maxOutputLength: MAX_CALL_BYTES + 1 }) : body;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE")
      return tooLarge(MAX_CALL_BYTES + 1, "decompressed");
    return errorAnswer(400, "InvalidContentEncoding", `The body is not gzip: ${(error as Error).message}`);
  }
  if (decoded.length > MAX_CALL_BYTES) return tooLarge(decoded.length, "decompressed");
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoded.toString("utf8"));
  } catch (error) {
    return errorAnswer(400, "InvalidPayload", `The body is not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((row) => typeof row === "object" && row !== null && !Array.isArray(row)))
    return errorAnswer(400, "InvalidPayload", "The body must be a JSON array of objects.");
  return { rows: parsed as Record<string, unknown>[], decodedBytes: decoded.length };
}
