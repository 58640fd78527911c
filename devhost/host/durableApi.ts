/**
 * The Durable Functions extension's HTTP API, served by the local host: the RPC API the
 * durable client (`df.getClient`) calls at `rpcBaseUrl`, and the same routes as management
 * webhooks under `/runtime/webhooks/durabletask/` (the URLs of `createCheckStatusResponse`).
 * Routes and status codes follow durable-functions 3.5.0 lib/src/durableClient/DurableClient.js.
 */
import { entitySchedulerId, isTerminal, type DurableEngine } from "./engine";
import { HistoryEventType, type HistoryEvent } from "./history";
import type { InstanceRecord, RuntimeStatus } from "./store";

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiRequest {
  method: string;
  /** Path segments after the API base, already URI-decoded. */
  segments: string[];
  query: URLSearchParams;
  /** The raw request body ("" when none). */
  body: string;
}

/** Builds the management URLs for an instance (what `createHttpManagementPayload` returns). */
export interface ManagementUrlBuilder {
  (instanceId: string): Record<string, string>;
}

const historyEventNames = Object.fromEntries(
  Object.entries(HistoryEventType).map(([name, value]) => [value, name]),
) as Record<number, string>;

function parseJsonOrNull(text: string | undefined): unknown {
  if (text === undefined || text === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The history in the shape of the extension's `showHistory` output (a readable summary). */
function describeHistory(record: InstanceRecord, withOutput: boolean): Record<string, unknown>[] {
  const scheduled = new Map<number, HistoryEvent>();
  const described: Record<string, unknown>[] = [];
  for (const event of record.history) {
    if (event.EventId >= 0) scheduled.set(event.EventId, event);
    const type = historyEventNames[event.EventType] ?? String(event.EventType);
    if (
      type === "OrchestratorStarted" ||
      type === "OrchestratorCompleted" ||
      type === "TaskScheduled" ||
      type === "SubOrchestrationInstanceCreated"
    )
      continue;
    const entry: Record<string, unknown> = { EventType: type, Timestamp: event.Timestamp };
    const origin = scheduled.get(event.TaskScheduledId ?? event.TimerId ?? -1);
    const functionName = event.Name ?? origin?.Name;
    if (functionName) entry.FunctionName = functionName;
    if (origin) entry.ScheduledTime = origin.Timestamp;
    if (event.FireAt) entry.FireAt = event.FireAt;
    if (event.Reason) entry.Reason = event.Reason;
    if (withOutput && event.Result !== undefined) entry.Result = parseJsonOrNull(event.Result);
    if (withOutput && event.Input !== undefined && type !== "EventSent") entry.Input = parseJsonOrNull(event.Input);
    described.push(entry);
  }
  if (isTerminal(record.status)) {
    described.push({
      EventType: "ExecutionCompleted",
      OrchestrationStatus: record.status,
      Result: withOutput ? record.output : undefined,
      Timestamp: record.lastUpdatedTime,
    });
  }
  return described;
}

export function instanceStatus(
  record: InstanceRecord,
  options: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean } = {},
): Record<string, unknown> {
  const status: Record<string, unknown> = {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.status,
    input: options.showInput === false ? null : parseJsonOrNull(record.input),
    customStatus: record.customStatus ?? null,
    output: record.output ?? null,
    createdTime: record.createdTime,
    lastUpdatedTime: record.lastUpdatedTime,
  };
  if (options.showHistory) status.history = describeHistory(record, options.showHistoryOutput === true);
  return status;
}

const statusCodeByRuntimeStatus: Record<RuntimeStatus, number> = {
  Pending: 202,
  Running: 202,
  ContinuedAsNew: 202,
  Completed: 200,
  Failed: 400,
  Terminated: 400,
};

function filterInstances(engine: DurableEngine, query: URLSearchParams): InstanceRecord[] {
  const from = query.get("createdTimeFrom");
  const to = query.get("createdTimeTo");
  const statuses = query.get("runtimeStatus")?.split(",").filter(Boolean);
  return [...engine.instances.values()].filter(
    (r) =>
      (!from || r.createdTime >= new Date(from).toISOString()) &&
      (!to || r.createdTime <= new Date(to).toISOString()) &&
      (!statuses || statuses.includes(r.status)),
  );
}

/** POST orchestrators/{name}/{id?}: HttpApiHandler.HandleStartOrchestratorRequestAsync. */
async function startResponse(
  engine: DurableEngine,
  name: string,
  instanceId: string | undefined,
  body: string,
  managementUrls: ManagementUrlBuilder,
): Promise<ApiResponse> {
  const outcome = await engine.startOrchestration(name, instanceId, body === "" ? undefined : body);
  if (outcome.started) {
    const urls = managementUrls(outcome.instanceId);
    return { status: 202, body: urls, headers: { Location: urls.statusQueryGetUri } };
  }
  // DurableClient.StartNewAsync refuses a running id (OverridableExistingInstanceStates defaults to
  // NonRunningStates) by throwing OrchestrationAlreadyExistsException, which HttpApiHandler.cs does not catch:
  // the Functions host answers 500.
  if (outcome.reason === "alreadyRunning")
    return { status: 500, body: { message: "An Orchestration instance with the status Running already exists." } };
  const message = `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`;
  return { status: 400, body: { message } };
}

/** Answers one durable API request. */
export async function handleDurableApi(
  engine: DurableEngine,
  request: ApiRequest,
  managementUrls: ManagementUrlBuilder,
): Promise<ApiResponse> {
  const { method, segments, query, body } = request;
  const [collection, first, second, action] = segments;
  const flag = (name: string): boolean => query.get(name) === "true";

  if (collection === "orchestrators" && method === "POST" && first) {
    return startResponse(engine, first, second || undefined, body, managementUrls);
  }

  if (collection === "instances") {
    if (!first) {
      if (method === "GET")
        return {
          status: 200,
          body: filterInstances(engine, query).map((r) =>
            instanceStatus(r, { showInput: !query.has("showInput") || flag("showInput") }),
          ),
        };
      if (method === "DELETE") {
        let deleted = 0;
        for (const record of filterInstances(engine, query)) deleted += await engine.purge(record.instanceId);
        return deleted > 0 ? { status: 200, body: { instancesDeleted: deleted } } : { status: 404 };
      }
    }
    const record = engine.instances.get(first);
    if (!second) {
      if (method === "GET") {
        if (!record) return { status: 404, body: { message: `No instance with ID '${first}' found.` } };
        const status = instanceStatus(record, {
          showHistory: flag("showHistory"),
          showHistoryOutput: flag("showHistoryOutput"),
          showInput: !query.has("showInput") || flag("showInput"),
        });
        return { status: statusCodeByRuntimeStatus[record.status], body: status };
      }
      if (method === "DELETE") {
        const deleted = await engine.purge(first);
        return deleted > 0 ? { status: 200, body: { instancesDeleted: deleted } } : { status: 404 };
      }
    }
    if (method === "POST" && second === "raiseEvent" && action) {
      return outcomeResponse(await engine.raiseEvent(first, action, body === "" ? undefined : body), first);
    }
    if (method === "POST" && second === "terminate") {
      return outcomeResponse(await engine.terminate(first, query.get("reason") ?? ""), first);
    }
    if (method === "POST" && (second === "suspend" || second === "resume" || second === "rewind")) {
      return { status: 501, body: { message: `${second} is not supported by the local host` } };
    }
  }

  if (collection === "entities" && first && second) {
    if (method === "GET") {
      const entity = engine.entities.get(entitySchedulerId(first, second));
      if (!entity?.exists) return { status: 404 };
      return { status: 200, body: parseJsonOrNull(entity.state) };
    }
    if (method === "POST") {
      const operation = query.get("op") ?? "";
      await engine.signalEntity(first, second, operation, body === "" ? undefined : body);
      return { status: 202 };
    }
  }
  return { status: 404, body: { message: `no durable API route for ${method} /${segments.join("/")}` } };
}

function outcomeResponse(outcome: "accepted" | "notFound" | "notRunning", instanceId: string): ApiResponse {
  if (outcome === "notFound") return { status: 404, body: { message: `No instance with ID '${instanceId}' found.` } };
  if (outcome === "notRunning") return { status: 410, body: { message: `Instance '${instanceId}' is not running.` } };
  return { status: 202 };
}
