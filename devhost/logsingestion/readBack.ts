/**
 * Reads what a running local Logs Ingestion endpoint accepted (its read-back route), for `flowtap tail`
 * in another process than the endpoint's. Over https with the endpoint's CA and its bearer token.
 */
import { request } from "node:https";
import { configurationError } from "../../src/errors";
import { READ_BACK_PATH } from "./endpoint";

/** How to reach the endpoint (as `.flowtap/endpoints.json` holds it). */
export interface LogsIngestionConnection {
  endpoint: string;
  ruleId: string;
  streamName: string;
  /** A bearer token of the local tenant for https://monitor.azure.com. */
  token: string;
  caCertificatePem: string;
}

export interface RowsPage {
  rows: Record<string, unknown>[];
  /** The index to read from next. */
  next: number;
}

/** The stream's accepted rows from index `from`. */
export function readAcceptedRows(connection: LogsIngestionConnection, from: number): Promise<RowsPage> {
  const url = new URL(READ_BACK_PATH, connection.endpoint);
  url.search = new URLSearchParams({
    ruleId: connection.ruleId,
    stream: connection.streamName,
    from: String(from),
  }).toString();
  return new Promise((resolve, reject) => {
    const call = request(
      url,
      { method: "GET", ca: connection.caCertificatePem, headers: { Authorization: `Bearer ${connection.token}` } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (response.statusCode !== 200)
            reject(configurationError(`Logs Ingestion read-back ${url.origin}: HTTP ${response.statusCode}: ${text}`));
          else resolve(JSON.parse(text) as RowsPage);
        });
        response.on("error", reject);
      },
    );
    call.on("error", reject);
    call.end();
  });
}
