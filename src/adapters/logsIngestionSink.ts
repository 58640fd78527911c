/**
 * The Log Analytics side of ingestion: maps flow events to ASIM Network Session rows
 * (src/core/asim) and uploads them to a DCR stream with `@azure/monitor-ingestion`.
 *
 * What the SDK (1.2.0) does, read in its source: `upload` cuts the rows into chunks whose JSON
 * stays under 1,000,000 bytes (utils/splitDataToChunksHelper.js), gzips each request body
 * (gZippingPolicy.js, so a call is far below the service's 1 MB), posts up to `maxConcurrency`
 * chunks at once, and throws an AggregateLogsUploadError listing each failed chunk's rows; its
 * pipeline's default retry policy retries 429 and 503 after their Retry-After (throttlingRetryStrategy
 * of @typespec/ts-http-runtime) and other 5xx/408/network errors with exponential backoff, 3 times.
 *
 * On top of that this sink: refuses a row with a field over 64 KB before sending anything (the
 * service would truncate it); re-sends only the rows of failed chunks, after the largest of the
 * failure's Retry-After and its own doubling delay, a bounded number of times; and reports the
 * leading rows every chunk of which was accepted (`onAcknowledged`), so the caller commits exactly
 * the blocks that arrived. Rows after a failed chunk that were accepted are sent again when the
 * range is retried: consumers deduplicate by EventOriginalUid (the flowtap event id, docs/events.md).
 */
import type { TokenCredential } from "@azure/core-auth";
import { isRestError } from "@azure/core-rest-pipeline";
import { isAggregateLogsUploadError, LogsIngestionClient, type LogsUploadFailure } from "@azure/monitor-ingestion";
import { setTimeout as sleep } from "node:timers/promises";
import { isLoopbackEndpoint, type LogsIngestionSettings } from "../config";
import { ALERTS_COLUMNS, toAlertsRow, type AlertsHubEvent } from "../core/alertsTable";
import { backoffDelayInMs } from "../core/backoff";
import {
  NETWORK_SESSION_COLUMNS,
  oversizedFieldOf,
  toNetworkSessionRow,
  MAX_FIELD_BYTES,
  type RowValue,
} from "../core/asim";
import type { FlowEvent } from "../core/event";
import { configurationError, ServiceError, ValidationError } from "../errors";
import { logger } from "../logger";
import { credentialFor } from "./credentials";

export interface LogsSendOptions {
  /** Called after each upload round with the number of leading rows accepted so far. */
  onAcknowledged?: (acknowledgedCount: number) => void;
  /** Sent only after this settles, and not at all if it rejects (the caller's previous send). */
  after?: Promise<unknown>;
}

export interface LogsSendTotals {
  rowsSent: number;
  /** Rows sent again after their chunk failed (each re-send counted). */
  rowsResent: number;
}

export interface LogsRetryOptions {
  /** Upload rounds per send, the first included, on top of the SDK's own retries; default 3. */
  maxAttempts?: number;
  /** Delay before the second round, doubled for each further one (at least the Retry-After); default the setting's. */
  delayInMs?: number;
  maxDelayInMs?: number;
}

export interface CreateLogsIngestionSinkOptions {
  /** The SDK pipeline's retries (`maxRetries`, `retryDelayInMs`, `maxRetryDelayInMs`). */
  retryOptions?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  sendRetryOptions?: LogsRetryOptions;
  /** Chunks posted at once by the SDK (default 5, the SDK's). */
  maxConcurrency?: number;
  /** Replaces the credential the settings name (tests, the bench). */
  credential?: TokenCredential;
}

/** Uploads items as rows of one DCR stream. */
export interface LogsRowsSink<Item> {
  readonly streamName: string;
  /** Uploads the items' rows; resolves once all were accepted, else throws (ServiceError or ValidationError). */
  send(items: readonly Item[], options?: LogsSendOptions): Promise<LogsSendTotals>;
  readonly totals: Readonly<LogsSendTotals>;
}

/** Flow events as ASIM Network Session rows (FLOWTAP_DCR_STREAM). */
export type LogsIngestionSink = LogsRowsSink<FlowEvent>;
/** Events of the alerts hub as FlowtapAlerts_CL rows (FLOWTAP_DCR_ALERTS_STREAM). */
export type AlertsLogsSink = LogsRowsSink<AlertsHubEvent>;

type Row = Readonly<Record<string, RowValue>>;

/** What makes a sink of one stream: its name, how an item becomes a row, and the row's columns (the 64 KB check). */
interface RowStream<Item> {
  streamName: string;
  toRow: (item: Item) => Row;
  columns: readonly { readonly name: string }[];
}

/** A fixed token for a loopback endpoint (FLOWTAP_LOGS_INGESTION_DEV_TOKEN); never sent anywhere else. */
function devTokenCredential(token: string): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 60 * 60 * 1000, tokenType: "Bearer" }) };
}

function credentialOf(settings: LogsIngestionSettings): TokenCredential {
  if (settings.credential.kind === "devToken") {
    // Checked at start too; again here so no code path sends the token off the machine.
    if (!isLoopbackEndpoint(settings.endpoint))
      throw configurationError("FLOWTAP_LOGS_INGESTION_DEV_TOKEN is only for a loopback endpoint.");
    return devTokenCredential(settings.credential.token);
  }
  const { clientId } = settings.credential;
  return credentialFor({ kind: "identity", uri: settings.endpoint, ...(clientId !== undefined && { clientId }) });
}

export function createLogsIngestionClient(
  settings: LogsIngestionSettings,
  options: Pick<CreateLogsIngestionSinkOptions, "retryOptions" | "credential"> = {},
): LogsIngestionClient {
  logger.verbose(`Logs Ingestion client for ${settings.endpoint}, DCR ${settings.ruleId} ${settings.streamName}`);
  return new LogsIngestionClient(settings.endpoint, options.credential ?? credentialOf(settings), {
    ...(options.retryOptions && { retryOptions: options.retryOptions }),
    ...(settings.caCertificatePem !== undefined && { tlsOptions: { ca: settings.caCertificatePem } }),
  });
}

export function createLogsIngestionSink(
  settings: LogsIngestionSettings,
  options: CreateLogsIngestionSinkOptions = {},
): LogsIngestionSink {
  const stream = { streamName: settings.streamName, toRow: toNetworkSessionRow, columns: NETWORK_SESSION_COLUMNS };
  return new UploadingSink(createLogsIngestionClient(settings, options), settings, stream, options);
}

/**
 * The alerts hub's events to the alerts stream (FLOWTAP_DCR_ALERTS_STREAM), through the same upload, retries and
 * checks as flow events; undefined when that stream is turned off (`none`).
 */
export function createAlertsLogsSink(
  settings: LogsIngestionSettings,
  options: CreateLogsIngestionSinkOptions = {},
): AlertsLogsSink | undefined {
  if (settings.alertsStreamName === undefined) return undefined;
  const stream = { streamName: settings.alertsStreamName, toRow: toAlertsRow, columns: ALERTS_COLUMNS };
  return new UploadingSink(createLogsIngestionClient(settings, options), settings, stream, options);
}

/** Refuses (ValidationError) the first row with a field Log Analytics would truncate, naming it and its event. */
export function refuseOversizedFields(
  rows: readonly Row[],
  columns: readonly { readonly name: string }[] = NETWORK_SESSION_COLUMNS,
): void {
  for (const row of rows) {
    const oversized = oversizedFieldOf(row, columns);
    if (oversized)
      throw new ValidationError(
        `Event ${String(row.EventOriginalUid ?? row.EventId)}: field ${oversized.column} is ${oversized.bytes} ` +
          `bytes, over the ` +
          `${MAX_FIELD_BYTES} bytes Log Analytics keeps per field; the event is not sent to Log Analytics.`,
      );
  }
}

/** The status a failed chunk got (undefined: no answer, e.g. a network error). */
function statusOf(cause: Error): number | undefined {
  return isRestError(cause) ? cause.statusCode : undefined;
}

/** 400 (rows the DCR refuses) and 413 (too large) fail the same way every time; the rest may pass later. */
function isRetryable(cause: Error): boolean {
  const status = statusOf(cause);
  return status !== 400 && status !== 413;
}

/** The failure's Retry-After in milliseconds (seconds or an HTTP date), or 0. */
export function retryAfterInMsOf(cause: Error, now = Date.now()): number {
  const value = isRestError(cause) ? cause.response?.headers.get("retry-after") : undefined;
  if (value === undefined) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : 0;
}

class UploadingSink<Item> implements LogsRowsSink<Item> {
  readonly streamName: string;
  readonly totals: LogsSendTotals = { rowsSent: 0, rowsResent: 0 };
  private readonly retry: Required<LogsRetryOptions>;

  constructor(
    private readonly client: LogsIngestionClient,
    private readonly settings: LogsIngestionSettings,
    private readonly stream: RowStream<Item>,
    private readonly options: CreateLogsIngestionSinkOptions,
  ) {
    this.streamName = stream.streamName;
    const delayInMs = options.sendRetryOptions?.delayInMs ?? settings.retryDelayInMs;
    this.retry = {
      maxAttempts: options.sendRetryOptions?.maxAttempts ?? 3,
      delayInMs,
      maxDelayInMs: options.sendRetryOptions?.maxDelayInMs ?? delayInMs * 30,
    };
  }

  async send(items: readonly Item[], options: LogsSendOptions = {}): Promise<LogsSendTotals> {
    const rows = items.map(this.stream.toRow);
    refuseOversizedFields(rows, this.stream.columns);
    if (options.after) await options.after;
    const sent: LogsSendTotals = { rowsSent: 0, rowsResent: 0 };
    let pending = rows.map((row, index) => ({ row, index }));
    for (let attempt = 1; ; attempt++) {
      const failures = await this.uploadOnce(pending.map(({ row }) => row));
      sent.rowsSent += pending.length;
      if (attempt > 1) sent.rowsResent += pending.length;
      const failedRows = new Set(failures.flatMap((failure) => failure.failedLogs));
      pending = pending.filter(({ row }) => failedRows.has(row));
      options.onAcknowledged?.(pending[0]?.index ?? rows.length);
      if (pending.length === 0) break;
      const causes = failures.map((failure) => failure.cause);
      if (attempt >= this.retry.maxAttempts || !causes.every(isRetryable)) {
        this.add(sent);
        throw this.failure(pending.length, rows.length, attempt, causes);
      }
      const backoff = backoffDelayInMs(attempt, this.retry.delayInMs, this.retry.maxDelayInMs);
      const wait = Math.max(backoff, ...causes.map((cause) => retryAfterInMsOf(cause)));
      logger.warning(
        `Logs Ingestion: ${pending.length} of ${rows.length} rows not accepted (${causes[0]!.message}); ` +
          `sending them again in ${wait} ms`,
      );
      await sleep(wait);
    }
    this.add(sent);
    return sent;
  }

  /** One SDK upload; the failed chunks (their rows are the objects given). */
  private async uploadOnce(rows: Row[]): Promise<LogsUploadFailure[]> {
    try {
      await this.client.upload(this.settings.ruleId, this.streamName, rows, {
        ...(this.options.maxConcurrency !== undefined && { maxConcurrency: this.options.maxConcurrency }),
      });
      return [];
    } catch (error) {
      if (isAggregateLogsUploadError(error)) return error.errors;
      throw error;
    }
  }

  private failure(pending: number, total: number, attempts: number, causes: Error[]): ServiceError {
    const status = statusOf(causes[0]!);
    return new ServiceError(
      `Logs Ingestion: ${pending} of ${total} rows not accepted by DCR ${this.settings.ruleId} stream ` +
        `${this.streamName} after ${attempts} attempt(s)` +
        `${status === undefined ? "" : ` (HTTP ${status})`}: ${causes[0]!.message}`,
      { retryable: causes.every(isRetryable), cause: causes[0] },
    );
  }

  private add(sent: LogsSendTotals): void {
    this.totals.rowsSent += sent.rowsSent;
    this.totals.rowsResent += sent.rowsResent;
  }
}
