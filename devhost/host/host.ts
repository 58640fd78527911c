/**
 * The local Functions host: a development and test runtime for the flowtap app.
 *
 * NOT A PRODUCTION RUNTIME. In Azure the Functions host and the Durable Task extension run
 * the app. This host loads the same app module, records its registrations, and drives the
 * orchestrations through durable-functions' own replay engine, so that the app runs on one
 * machine and in tests. It leans on durable-functions 3.5.0 internals (pinned).
 */
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient } from "durable-functions";
import { configurationError, ValidationError } from "../../src/errors";
import { logFailure, logger } from "../../src/logger";
import { RealClock, VirtualClock } from "./clock";
import { handleDurableApi, instanceStatus, type ApiResponse } from "./durableApi";
import { DurableEngine, entitySchedulerId, isTerminal } from "./engine";
import { FaultInjector } from "./faults";
import { parseSchedule } from "./ncrontab";
import {
  defaultAppModulePath,
  functionsModule,
  loadApp,
  runAppHooks,
  summarizeRegistrations,
  type AppSource,
  type FunctionRegistration,
  type LoadedApp,
  type RegistrationSummary,
} from "./registry";
import { MemoryStore, type HostStore, type InstanceRecord, type RuntimeStatus } from "./store";
import { WORKER_PROCESS_COUNT_SETTING, workerProcessCount } from "./workers/count";
import { createInvocationContext, InProcessInvoker, type FunctionInvoker } from "./workers/invocations";
import { WorkerPool } from "./workers/pool";

export type ClockOptions = { mode: "real" } | { mode: "virtual"; startTime?: Date; autoAdvance?: boolean };

export interface LocalHostOptions {
  /** Where the app's registrations come from (default: package.json `main` under `rootDir`). */
  app?: AppSource;
  /** Directory of the app's package.json (default: process.cwd()). */
  rootDir?: string;
  /** HTTP port on 127.0.0.1 (default 7071; use 0 in tests). */
  port?: number;
  /** App settings set on process.env while the host runs, restored at stop. */
  settings?: Record<string, string>;
  /** Instance and entity store (default: a new MemoryStore). */
  store?: HostStore;
  /** Time source (default real; tests use virtual). */
  clock?: ClockOptions;
  /** Activities running at once (default 8). */
  maxConcurrentActivities?: number;
  /** Access keys (default: random). */
  keys?: Partial<HostKeys>;
  /** Durable task hub name reported to the client (default "flowtap"). */
  taskHubName?: string;
  /** Start timer triggers on their schedules (default true). */
  enableTimerTriggers?: boolean;
  /**
   * Worker processes running the activity, orchestrator and entity functions (0: the host process runs them).
   * Default: the FUNCTIONS_WORKER_PROCESS_COUNT setting, else one per core; 0 for a `register` app or a virtual
   * clock (workers/count.ts).
   */
  workerProcessCount?: number;
}

export interface HostKeys {
  /** Admin-level key (`authLevel: "admin"`, and any other level). */
  master: string;
  /** Function-level key valid for every function. */
  host: string;
  /** Key of the Durable and Event Grid webhooks under /runtime/webhooks. */
  system: string;
}

export interface WaitForInstanceOptions {
  /** Give up after this long (default 10 000 ms); the error names the current status. */
  timeoutInMs?: number;
}

/** What `waitForInstance` and `getInstance` return. */
export interface InstanceStatus {
  instanceId: string;
  name: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  /** Set when runtimeStatus is Failed: the real error's type and message. */
  failure?: InstanceRecord["failure"];
  createdTime: string;
  lastUpdatedTime: string;
}

/** The Functions route prefix. */
const routePrefix = "/api/";
const durableRpcPrefix = "/durabletask/";
const durableWebhookPrefix = "/runtime/webhooks/durabletask/";
const eventGridWebhookPath = "/runtime/webhooks/eventgrid";

interface RouteMatch {
  registration: FunctionRegistration;
  params: Record<string, string>;
}

/** Compiles a Functions route template (`items/{id}`, `{id:int?}`, `{*rest}`) into a matcher. */
function compileRoute(template: string): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = template
    .replace(/^\/+|\/+$/g, "")
    .split("/")
    .map((segment) => {
      const parameter = /^\{(\*?)([A-Za-z_][\w]*)(?::[^}?]+)?(\?)?\}$/.exec(segment);
      if (!parameter) return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
      names.push(parameter[2]);
      const body = parameter[1] ? "(.*)" : "([^/]+)";
      return parameter[3] || parameter[1] ? `(?:/${body})?` : `/${body}`;
    })
    .join("");
  const regex = new RegExp(`^${pattern}/?$`, "i");
  return (path) => {
    const match = regex.exec(`/${path.replace(/^\/+/, "")}`);
    if (!match) return undefined;
    const params: Record<string, string> = {};
    names.forEach((name, i) => {
      if (match[i + 1] !== undefined) params[name] = decodeLeniently(match[i + 1]);
    });
    return params;
  };
}

/**
 * Percent-decodes what decodes and leaves malformed escapes (`%ZZ`, a lone `%`) as they came, as
 * ASP.NET Core's request-line decoder does (dotnet/aspnetcore src/Shared/UrlDecoder/UrlDecoder.cs):
 * the function sees them and can name them, rather than the host failing the request.
 */
const SYSTEM_KEY_WANTED = "the system key (or the master key)";

function decodeLeniently(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) => {
    try {
      return decodeURIComponent(escapes);
    } catch {
      return escapes;
    }
  });
}

/** The 401 message: which key `what` wants, and whether none came or which one did. */
function unauthorizedMessage(what: string, wants: string, key: string | undefined, keys: HostKeys): string {
  const where = "in ?code= or the x-functions-key header";
  if (key === undefined || key === "") return `${what} wants ${wants} ${where}; none came`;
  const known = key === keys.host ? "the function key" : key === keys.system ? "the system key" : undefined;
  return `${what} wants ${wants} ${where}; ${known ?? "a key that is none of this host's keys"} came`;
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function sendJson(response: http.ServerResponse, result: ApiResponse): void {
  const body = result.body === undefined ? "" : JSON.stringify(result.body);
  response.writeHead(result.status, { ...(body ? { "Content-Type": "application/json" } : {}), ...result.headers });
  response.end(body);
}

export class LocalHost {
  /** Every function the app registered. */
  readonly registrations: readonly FunctionRegistration[];
  readonly keys: HostKeys;
  readonly faults = new FaultInjector();
  /** The host's clock: narrow on `kind`, or use `virtualClock` in tests. */
  readonly clock: RealClock | VirtualClock;
  readonly store: HostStore;
  private readonly engine: DurableEngine;
  private readonly server: http.Server;
  private readonly httpRoutes: {
    registration: FunctionRegistration;
    match: (path: string) => Record<string, string> | undefined;
    methods: string[];
  }[];
  private readonly savedEnv = new Map<string, string | undefined>();
  private readonly timerCancels: (() => void)[] = [];
  private readonly taskHubName: string;
  private portNumber = 0;
  private stopping: Promise<void> | undefined;
  /** Runs the durable functions: in this process, or the worker processes once they started. */
  private invoker: FunctionInvoker;
  private workers: WorkerPool | undefined;

  private constructor(
    options: LocalHostOptions,
    private readonly app: LoadedApp,
  ) {
    const registrations = app.registrations;
    this.registrations = registrations;
    this.invoker = new InProcessInvoker(registrations, (registration) => this.createContext(registration));
    this.keys = {
      master: options.keys?.master ?? randomBytes(16).toString("hex"),
      host: options.keys?.host ?? randomBytes(16).toString("hex"),
      system: options.keys?.system ?? randomBytes(16).toString("hex"),
    };
    this.taskHubName = options.taskHubName ?? "flowtap";
    this.store = options.store ?? new MemoryStore();
    const clockOptions = options.clock ?? { mode: "real" };
    this.clock =
      clockOptions.mode === "virtual"
        ? new VirtualClock(clockOptions.startTime, clockOptions.autoAdvance ?? true)
        : new RealClock();
    const maxConcurrentActivities = options.maxConcurrentActivities ?? 8;
    if (!Number.isInteger(maxConcurrentActivities) || maxConcurrentActivities < 1) {
      throw configurationError(
        `startLocalHost: maxConcurrentActivities must be an integer >= 1, got ${maxConcurrentActivities}`,
      );
    }
    this.engine = new DurableEngine({
      registrations,
      store: this.store,
      clock: this.clock,
      maxConcurrentActivities,
      invoker: {
        activity: (name, input) => this.invoker.activity(name, input),
        orchestrator: (name, bindingInput) => this.invoker.orchestrator(name, bindingInput),
        entity: (name, batch) => this.invoker.entity(name, batch),
      },
      faults: this.faults,
      onCrash: (crashed) => void this.stop().then(crashed),
    });
    this.httpRoutes = registrations
      .filter((r) => r.triggerType === "httpTrigger")
      .map((registration) => {
        const trigger = registration.trigger as { route?: string; methods?: string[] };
        return {
          registration,
          match: compileRoute(trigger.route ?? registration.name),
          methods: (trigger.methods ?? ["GET", "POST"]).map((m) => m.toUpperCase()),
        };
      });
    this.server = http.createServer((request, response) => {
      this.handleRequest(request, response).catch((error: unknown) => {
        logFailure("local host: request failed", error);
        if (!response.headersSent)
          sendJson(response, {
            status: 500,
            body: { message: error instanceof Error ? error.message : String(error) },
          });
        else response.end();
      });
    });
  }

  /** Loads the app, resumes the store, and serves HTTP. See `startLocalHost`. */
  static async start(options: LocalHostOptions = {}): Promise<LocalHost> {
    const saved = new Map<string, string | undefined>();
    for (const [name, value] of Object.entries(options.settings ?? {})) {
      saved.set(name, process.env[name]);
      process.env[name] = value;
    }
    let host: LocalHost;
    const app = options.app ?? { modulePath: defaultAppModulePath(options.rootDir ?? process.cwd()) };
    let workerCount: number;
    try {
      workerCount = workerProcessCount({
        option: options.workerProcessCount,
        setting: process.env[WORKER_PROCESS_COUNT_SETTING],
        appIsModule: "modulePath" in app,
        virtualClock: options.clock?.mode === "virtual",
      });
      host = new LocalHost(options, await loadApp(app));
    } catch (error) {
      restoreEnv(saved);
      throw error;
    }
    saved.forEach((value, name) => host.savedEnv.set(name, value));
    try {
      await runAppHooks(host.app.appStartHooks, "start");
      await host.listen(options.port ?? 7071);
      if (workerCount > 0 && "modulePath" in app) await host.startWorkers(workerCount, app.modulePath);
      await host.engine.resume();
      if (options.enableTimerTriggers ?? true) host.startTimerTriggers();
    } catch (error) {
      await host.stop();
      throw error;
    }
    logger.info(
      `local host: ${host.registrations.length} functions on ${host.baseUrl} (store: ${host.store.description}, ` +
        `${workerCount === 0 ? "in the host process" : `${workerCount} worker processes`})`,
    );
    return host;
  }

  /** Starts the worker processes (after listen: their environment and durable clients name this host's address). */
  private async startWorkers(count: number, modulePath: string): Promise<void> {
    this.workers = await WorkerPool.start({
      count,
      modulePath: path.resolve(modulePath),
      durableClientData: this.durableClientData(),
    });
    this.invoker = this.workers;
  }

  /** Process ids of the worker processes (empty when the host process runs the functions). */
  get workerPids(): number[] {
    return this.workers?.pids ?? [];
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.portNumber = (this.server.address() as AddressInfo).port;
    // durable-functions rewrites client URLs to localhost:7071 unless WEBSITE_HOSTNAME is set.
    this.setEnv("WEBSITE_HOSTNAME", `127.0.0.1:${this.portNumber}`);
  }

  private setEnv(name: string, value: string): void {
    if (!this.savedEnv.has(name)) this.savedEnv.set(name, process.env[name]);
    process.env[name] = value;
  }

  /** The port HTTP functions are served on. */
  get port(): number {
    return this.portNumber;
  }

  /** `http://127.0.0.1:<port>` */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  /** The virtual clock (advance, advanceTo, advanceToNextTimer, autoAdvance); throws on a real-clock host. */
  get virtualClock(): VirtualClock {
    if (!(this.clock instanceof VirtualClock))
      throw configurationError('this local host runs on the real clock: start it with clock: { mode: "virtual" }');
    return this.clock;
  }

  /** A handler-free summary of the registrations, sorted by name (for exact assertions). */
  describeRegistrations(): RegistrationSummary[] {
    return summarizeRegistrations(this.registrations);
  }

  // ---- invocation ----------------------------------------------------------------------------

  /** The durable client binding data (what the extension puts in a durableClient input). */
  durableClientData(): Record<string, unknown> {
    const webhookBase = `${this.baseUrl}${durableWebhookPrefix.replace(/\/$/, "")}`;
    const createUri = `${webhookBase}/orchestrators/{functionName}[/{instanceId}]`;
    const waitQuery = "timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}";
    return {
      taskHubName: this.taskHubName,
      creationUrls: {
        createNewInstancePostUri: `${createUri}?code=${this.keys.system}`,
        createAndWaitOnNewInstancePostUri: `${createUri}?${waitQuery}&code=${this.keys.system}`,
      },
      managementUrls: this.managementUrls("INSTANCEID", "INSTANCEID"),
      baseUrl: webhookBase,
      requiredQueryStringParameters: `code=${this.keys.system}`,
      rpcBaseUrl: `${this.baseUrl}${durableRpcPrefix}`,
    };
  }

  private managementUrls(id: string, instanceId: string): Record<string, string> {
    const base = `${this.baseUrl}${durableWebhookPrefix}instances/${encodeURIComponent(instanceId)}`;
    const common = `taskHub=${this.taskHubName}&connection=Storage&code=${this.keys.system}`;
    return {
      id,
      statusQueryGetUri: `${base}?${common}`,
      sendEventPostUri: `${base}/raiseEvent/{eventName}?${common}`,
      terminatePostUri: `${base}/terminate?reason={text}&${common}`,
      rewindPostUri: `${base}/rewind?reason={text}&${common}`,
      purgeHistoryDeleteUri: `${base}?${common}`,
      restartPostUri: `${base}/restart?${common}`,
      suspendPostUri: `${base}/suspend?reason={text}&${common}`,
      resumePostUri: `${base}/resume?reason={text}&${common}`,
    };
  }

  /**
   * A durable client bound to this host, as `df.getClient(context)` returns inside a function:
   * for tests and tools that drive orchestrations without an HTTP trigger.
   */
  getClient(): DurableClient {
    const clientInput = df.input.durableClient();
    const context = this.createContext({
      name: "localHostClient",
      triggerType: "localHost",
      trigger: { type: "localHost", name: "localHost" },
      extraInputs: [clientInput],
      extraOutputs: [],
      handler: () => undefined,
    });
    return df.getClient(context);
  }

  /** A fresh InvocationContext for one invocation, with the durable client input filled in. */
  private createContext(registration: FunctionRegistration): InvocationContext {
    return createInvocationContext(registration, () => this.durableClientData());
  }

  private registration(name: string, triggerType: string): FunctionRegistration {
    const registration = this.registrations.find((r) => r.name === name);
    if (!registration) throw new ValidationError(`no function named "${name}" is registered`);
    if (registration.triggerType !== triggerType) {
      throw new ValidationError(`function "${name}" has a ${registration.triggerType}, not a ${triggerType}`);
    }
    return registration;
  }

  /**
   * Invokes an Event Grid function with one event (Event Grid schema or CloudEvents 1.0) or a
   * batch; each event is delivered `faults.deliveryCount(name)` times. Returns the handler results.
   */
  async invokeEventGrid(name: string, events: unknown): Promise<unknown[]> {
    const registration = this.registration(name, "eventGridTrigger");
    const list = Array.isArray(events) ? events : [events];
    const results: unknown[] = [];
    for (const [index, event] of list.entries()) {
      const record = event as Record<string, unknown> | null;
      if (
        typeof record !== "object" ||
        record === null ||
        typeof record.id !== "string" ||
        (typeof record.eventType !== "string" && typeof record.type !== "string")
      ) {
        throw new ValidationError(
          `invokeEventGrid(${name}): event #${index} is neither ` +
            "an Event Grid event (id, eventType) nor a CloudEvent (id, type)",
        );
      }
      for (let delivery = 0; delivery < this.faults.deliveryCount(name); delivery++) {
        results.push(await registration.handler(structuredClone(event), this.createContext(registration)));
      }
    }
    return results;
  }

  /** Runs a timer function now (as if its schedule fired). */
  async invokeTimer(name: string, options: { isPastDue?: boolean } = {}): Promise<void> {
    const registration = this.registration(name, "timerTrigger");
    const schedule = parseSchedule((registration.trigger as { schedule?: string }).schedule ?? "");
    const now = this.clock.now();
    for (let delivery = 0; delivery < this.faults.deliveryCount(name); delivery++) {
      const timer = {
        isPastDue: options.isPastDue ?? false,
        schedule: { adjustForDST: false },
        scheduleStatus: {
          last: now.toISOString(),
          next: schedule.nextAfter(now).toISOString(),
          lastUpdated: now.toISOString(),
        },
      };
      await registration.handler(timer, this.createContext(registration));
    }
  }

  /**
   * Arms each timer function on its schedule. Like the Functions host after downtime, a clock
   * jump over several occurrences runs the function once, with `isPastDue`.
   */
  private startTimerTriggers(): void {
    for (const registration of this.registrations.filter((r) => r.triggerType === "timerTrigger")) {
      const trigger = registration.trigger as { schedule?: string; runOnStartup?: boolean };
      const schedule = parseSchedule(trigger.schedule ?? "");
      const run = (isPastDue: boolean): void => {
        void this.engine.track(() => this.invokeTimer(registration.name, { isPastDue }));
      };
      const arm = (after: Date): void => {
        const due = schedule.nextAfter(after);
        this.timerCancels.push(
          this.clock.schedule(due, () => {
            const now = this.clock.now();
            arm(now);
            run(schedule.nextAfter(due) <= now);
          }),
        );
      };
      arm(this.clock.now());
      if (trigger.runOnStartup) run(false);
    }
  }

  // ---- HTTP serving --------------------------------------------------------------------------

  private async handleRequest(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", this.baseUrl);
    const method = (request.method ?? "GET").toUpperCase();
    const body = await readBody(request);
    const providedKey = url.searchParams.get("code") ?? (request.headers["x-functions-key"] as string | undefined);

    if (url.pathname.startsWith(durableRpcPrefix) || url.pathname.startsWith(durableWebhookPrefix)) {
      const isWebhook = url.pathname.startsWith(durableWebhookPrefix);
      if (isWebhook && providedKey !== this.keys.system && providedKey !== this.keys.master) {
        const message = unauthorizedMessage("the durable webhooks", SYSTEM_KEY_WANTED, providedKey, this.keys);
        sendJson(response, { status: 401, body: { message } });
        return;
      }
      const prefix = isWebhook ? durableWebhookPrefix : durableRpcPrefix;
      const segments = url.pathname.substring(prefix.length).split("/").filter(Boolean).map(decodeURIComponent);
      const result = await handleDurableApi(
        this.engine,
        { method, segments, query: url.searchParams, body: body.toString("utf8") },
        (id) => this.managementUrls(id, id),
      );
      sendJson(response, result);
      return;
    }
    if (url.pathname === eventGridWebhookPath) {
      await this.handleEventGridWebhook(request, response, url, method, body, providedKey);
      return;
    }
    if (url.pathname.startsWith(routePrefix)) {
      await this.handleHttpTrigger(request, response, url, method, body, providedKey);
      return;
    }
    sendJson(response, { status: 404, body: { message: `nothing is served at ${url.pathname}` } });
  }

  private async handleEventGridWebhook(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    url: URL,
    method: string,
    body: Buffer,
    key: string | undefined,
  ): Promise<void> {
    if (key !== this.keys.system && key !== this.keys.master) {
      const message = unauthorizedMessage("the Event Grid webhook", SYSTEM_KEY_WANTED, key, this.keys);
      sendJson(response, { status: 401, body: { message } });
      return;
    }
    if (method === "OPTIONS") {
      // CloudEvents webhook validation handshake.
      response.writeHead(200, { "WebHook-Allowed-Origin": String(request.headers["webhook-request-origin"] ?? "*") });
      response.end();
      return;
    }
    const functionName = url.searchParams.get("functionName") ?? "";
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8") || "null");
    } catch {
      sendJson(response, { status: 400, body: { message: "the Event Grid webhook body is not JSON" } });
      return;
    }
    if (request.headers["aeg-event-type"] === "SubscriptionValidation") {
      const first = (Array.isArray(parsed) ? parsed[0] : parsed) as { data?: { validationCode?: string } } | undefined;
      sendJson(response, { status: 200, body: { validationResponse: first?.data?.validationCode } });
      return;
    }
    try {
      await this.invokeEventGrid(functionName, parsed);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      sendJson(response, { status: 400, body: { message: error.message } });
      return;
    }
    sendJson(response, { status: 202 });
  }

  private authorized(registration: FunctionRegistration, key: string | undefined): boolean {
    const level = (registration.trigger as { authLevel?: string }).authLevel ?? "anonymous";
    if (level === "anonymous") return true;
    if (key === this.keys.master) return true;
    return level === "function" && (key === this.keys.host || key === this.keys.system);
  }

  private async handleHttpTrigger(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    url: URL,
    method: string,
    body: Buffer,
    key: string | undefined,
  ): Promise<void> {
    const path = url.pathname.substring(routePrefix.length);
    let found: RouteMatch | undefined;
    for (const route of this.httpRoutes) {
      const params = route.match(path);
      if (params && route.methods.includes(method)) {
        found = { registration: route.registration, params };
        break;
      }
    }
    if (!found) {
      sendJson(response, { status: 404, body: { message: `no HTTP function for ${method} ${url.pathname}` } });
      return;
    }
    if (!this.authorized(found.registration, key)) {
      const admin = (found.registration.trigger as { authLevel?: string }).authLevel === "admin";
      const wants = admin ? "the master key (authLevel admin)" : "the function key or the master key";
      const message = unauthorizedMessage(`function "${found.registration.name}"`, wants, key, this.keys);
      sendJson(response, { status: 401, body: { message } });
      return;
    }
    const functions = functionsModule();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const httpRequest: HttpRequest = new functions.HttpRequest({
      method,
      url: url.href,
      headers,
      params: found.params,
      body: { bytes: body },
    });
    const result = (await found.registration.handler(httpRequest, this.createContext(found.registration))) as
      HttpResponseInit | InstanceType<typeof functions.HttpResponse> | undefined;
    if (result === undefined) {
      response.writeHead(204);
      response.end();
      return;
    }
    const normalized = result instanceof functions.HttpResponse ? result : new functions.HttpResponse(result);
    const responseHeaders: Record<string, string> = {};
    normalized.headers.forEach((value, name) => (responseHeaders[name] = value));
    const payload = Buffer.from(await normalized.arrayBuffer());
    response.writeHead(normalized.status, responseHeaders);
    response.end(payload);
  }

  // ---- test helpers --------------------------------------------------------------------------

  /** Starts an orchestration directly (as `client.startNew`); refuses a running instance id. */
  async startOrchestration(name: string, options: { instanceId?: string; input?: unknown } = {}): Promise<string> {
    const input = options.input === undefined ? undefined : JSON.stringify(options.input);
    const outcome = await this.engine.startOrchestration(name, options.instanceId, input);
    if (outcome.started) return outcome.instanceId;
    throw new ValidationError(
      outcome.reason === "alreadyRunning"
        ? `instance "${options.instanceId}" is already running`
        : `no orchestration function named "${name}" is registered`,
    );
  }

  /** Raises an external event on a running instance. */
  async raiseEvent(instanceId: string, eventName: string, data?: unknown): Promise<void> {
    const outcome = await this.engine.raiseEvent(
      instanceId,
      eventName,
      data === undefined ? undefined : JSON.stringify(data),
    );
    if (outcome !== "accepted")
      throw new ValidationError(
        `raiseEvent: instance "${instanceId}" ${outcome === "notFound" ? "does not exist" : "is not running"}`,
      );
  }

  /** Signals an entity (one-way operation). */
  async signalEntity(name: string, key: string, operation: string, input?: unknown): Promise<void> {
    await this.engine.signalEntity(name, key, operation, input === undefined ? undefined : JSON.stringify(input));
  }

  /**
   * Instance ids whose start was refused because they were running: in Azure each is an exception the extension
   * logs as an error (a 500 of the durable API). Code that asks getStatus first leaves this empty.
   */
  refusedStarts(): string[] {
    return [...this.engine.refusedStarts];
  }

  /** The instance's status, or undefined when there is no such instance. */
  getInstance(instanceId: string): InstanceStatus | undefined {
    const record = this.engine.instances.get(instanceId);
    return record ? toInstanceStatus(record) : undefined;
  }

  /** Every instance's status. */
  listInstances(): InstanceStatus[] {
    return [...this.engine.instances.values()].map(toInstanceStatus);
  }

  /** The raw history of an instance's current generation (durable-functions wire shape). */
  getHistory(instanceId: string): InstanceRecord["history"] {
    return structuredClone(this.engine.instances.get(instanceId)?.history ?? []);
  }

  /** An entity's state, or undefined when it does not exist. */
  getEntityState<T = unknown>(name: string, key: string): T | undefined {
    const entity = this.engine.entities.get(entitySchedulerId(name, key));
    return entity?.exists && entity.state !== undefined ? (JSON.parse(entity.state) as T) : undefined;
  }

  /** Resolves with the final status (Completed, Failed or Terminated). */
  async waitForInstance(instanceId: string, options: WaitForInstanceOptions = {}): Promise<InstanceStatus> {
    const timeoutInMs = options.timeoutInMs ?? 10_000;
    const waiting = this.engine.whenInstance(instanceId, (record) => record !== undefined && isTerminal(record.status));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        waiting.cancel();
        const status = this.engine.instances.get(instanceId)?.status ?? "not found";
        reject(new Error(`waitForInstance(${instanceId}): still ${status} after ${timeoutInMs} ms`));
      }, timeoutInMs);
    });
    try {
      const record = (await Promise.race([waiting.promise, timeout])) as InstanceRecord;
      return toInstanceStatus(record);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once nothing can run (with a virtual auto-advancing clock: and no durable timer is pending). */
  waitForIdle(): Promise<void> {
    return this.engine.whenIdle();
  }

  /** The durable status JSON the HTTP API returns (with history), for debugging tests. */
  describeInstance(instanceId: string): Record<string, unknown> | undefined {
    const record = this.engine.instances.get(instanceId);
    return record ? instanceStatus(record, { showHistory: true, showHistoryOutput: true }) : undefined;
  }

  /** Stops serving, cancels timers, abandons running work, restores process.env. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const cancel of this.timerCancels.splice(0)) cancel();
      await this.engine.stop();
      await this.workers?.stop();
      await runAppHooks(this.app.appTerminateHooks, "terminate").catch((error: unknown) =>
        logFailure("local host: an appTerminate hook failed", error),
      );
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
      restoreEnv(this.savedEnv);
    })();
    return this.stopping;
  }
}

function restoreEnv(saved: Map<string, string | undefined>): void {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

function toInstanceStatus(record: InstanceRecord): InstanceStatus {
  const status = instanceStatus(record) as Omit<InstanceStatus, "failure">;
  return record.failure ? { ...status, failure: { ...record.failure } } : status;
}

/**
 * Starts the local host (a development and test runtime, not production): loads the app,
 * resumes instances from the store, serves HTTP functions and the durable API on 127.0.0.1.
 */
export function startLocalHost(options: LocalHostOptions = {}): Promise<LocalHost> {
  return LocalHost.start(options);
}
