import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { generate as generateCertificate } from "selfsigned";
import { logFailure } from "../../src/logger";
import { ValidationError } from "../../src/errors";
import { ArmClock } from "./clock";
import { parseJsonOrText } from "./json";
import { ArmHttpError, childResourceNotFound, resourceNotFound } from "./armHttpError";
import {
  INVALID_REQUEST_CODE,
  PACKET_CAPTURE_ERROR_CODES,
  refreshSessionStatus,
  toPacketCaptureResource,
  toQueryStatusResult,
  validatePacketCaptureBody,
  type PacketCaptureErrorCode,
  type PacketCaptureRecord,
} from "./packetCaptures";
import {
  parseResourceId,
  resourceKey,
  validateArmSeed,
  type ArmSeed,
  type NetworkInterfaceSeed,
  type VirtualMachineSeed,
} from "./seed";

/**
 * A local Azure Resource Manager endpoint over https for the real `NetworkManagementClient`:
 * network watchers, network interfaces, virtual machines (GET) and Network Watcher packet
 * captures with long-running operations (Azure-AsyncOperation polling), fault injection and
 * a record of every request.
 */

/**
 * Error code for a packet capture on a VM without the Network Watcher agent extension.
 * Not confirmed against the live service (no public sample found); the ARM body shape is standard.
 */
export const AGENT_NOT_INSTALLED_CODE = "PacketCaptureAgentNotInstalled";

export interface StartArmEndpointOptions {
  seed: ArmSeed;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** How many status polls of a long-running operation answer InProgress before Succeeded. Default 1. */
  pollsBeforeOperationSucceeds?: number;
  /** Items per page of list answers (the rest follows by `nextLink`); all on one page when omitted. */
  listPageSize?: number;
}

/** Makes the next `count` requests matching `method` and `path` fail with `statusCode`. */
export interface ArmFault {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /** Path to match: a RegExp, or a case-insensitive substring of the request path. */
  path: RegExp | string;
  statusCode: number;
  /** How many matching requests fail. */
  count: number;
  /** Sent as `Retry-After` (default 1 for 429, none otherwise). */
  retryAfterInSeconds?: number;
  /** ARM error code (defaults: 429 TooManyRequests, 409 AnotherOperationInProgress, 5xx InternalServerError). */
  code?: string;
  message?: string;
}

export interface RecordedArmRequest {
  method: string;
  /** Path without the query string, as sent. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, the raw text if it was not JSON, or undefined when empty. */
  body: unknown;
  /** Status code the endpoint answered with. */
  statusCode: number;
}

export interface ArmEndpoint {
  /** Base URL, e.g. `https://127.0.0.1:53123`. */
  readonly endpoint: string;
  /** The self-signed certificate to trust (PEM). */
  readonly caCertificatePem: string;
  readonly clock: ArmClock;
  /** Every request received, in order (faulted ones included). */
  readonly requests: RecordedArmRequest[];
  injectFaults(...faults: ArmFault[]): void;
  /**
   * Makes a packet capture (by name or full id) report packetCaptureStatus Error with these
   * errors (InternalError, AgentStopped, CaptureFailed, LocalFileFailed, StorageFailed).
   */
  failPacketCapture(nameOrId: string, errors?: PacketCaptureErrorCode[]): void;
  stop(): Promise<void>;
}

interface AsyncOperation {
  id: string;
  subscriptionId: string;
  location: string;
  /** Key of the resource it acts on, so reads of that resource settle it first. */
  resourceKey: string;
  pollsRemaining: number;
  status: "InProgress" | "Succeeded";
  startTime: string;
  endTime?: string;
  complete: () => unknown;
  result?: unknown;
}

interface RequestContext {
  method: string;
  url: URL;
  body: unknown;
  apiVersion: string;
}

interface ArmResponse {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (context: RequestContext, params: string[]) => ArmResponse;

interface Route {
  method: string;
  pattern: RegExp;
  handle: Handler;
}

interface Watcher {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
}

interface PendingFault extends ArmFault {
  remaining: number;
}

const SUBSCRIPTION = "^/subscriptions/([^/]+)";
const GROUP = `${SUBSCRIPTION}/resourceGroups/([^/]+)`;
const NETWORK = "/providers/Microsoft\\.Network";
const WATCHER = `${GROUP}${NETWORK}/networkWatchers/([^/]+)`;
const CAPTURE = `${WATCHER}/packetCaptures/([^/]+)`;

/** Starts the endpoint; resolves once it listens. */
export async function startArmEndpoint(options: StartArmEndpointOptions): Promise<ArmEndpoint> {
  validateArmSeed(options.seed);
  const pollsBeforeOperationSucceeds = options.pollsBeforeOperationSucceeds ?? 1;
  if (!Number.isInteger(pollsBeforeOperationSucceeds) || pollsBeforeOperationSucceeds < 0) {
    throw new ValidationError(
      `startArmEndpoint: pollsBeforeOperationSucceeds must be an integer >= 0, got ${pollsBeforeOperationSucceeds}`,
    );
  }
  if (options.listPageSize !== undefined && (!Number.isInteger(options.listPageSize) || options.listPageSize < 1)) {
    throw new ValidationError(`startArmEndpoint: listPageSize must be an integer >= 1, got ${options.listPageSize}`);
  }
  const certificate = createSelfSignedCertificate();
  const state = new ArmState(options.seed, new ArmClock(), pollsBeforeOperationSucceeds, options.listPageSize);
  const server = createServer(
    { key: certificate.privateKeyPem, cert: certificate.certificatePem },
    (request, response) => {
      state.serve(request, response).catch((error: unknown) => {
        logFailure("local ARM endpoint: request failed", error);
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    },
  );
  await listen(server, options.port ?? 0);
  const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.endpoint = endpoint;
  return {
    endpoint,
    caCertificatePem: certificate.certificatePem,
    clock: state.clock,
    requests: state.requests,
    injectFaults: (...faults) => state.injectFaults(faults),
    failPacketCapture: (nameOrId, errors = ["CaptureFailed"]) => state.failPacketCapture(nameOrId, errors),
    stop: () => close(server),
  };
}

class ArmState {
  endpoint = "";
  readonly requests: RecordedArmRequest[] = [];
  private readonly faults: PendingFault[] = [];
  /** Resource group names by subscription key, each keyed by lower-cased name. */
  private readonly resourceGroups = new Map<string, Map<string, string>>();
  private readonly watchers = new Map<string, Watcher>();
  private readonly virtualMachines = new Map<string, VirtualMachineSeed>();
  private readonly nics = new Map<string, { nic: NetworkInterfaceSeed; vm: VirtualMachineSeed }>();
  private readonly captures = new Map<string, PacketCaptureRecord>();
  private readonly operations = new Map<string, AsyncOperation>();
  private readonly routes: Route[];

  constructor(
    seed: ArmSeed,
    readonly clock: ArmClock,
    private readonly pollsBeforeOperationSucceeds: number,
    private readonly listPageSize: number | undefined,
  ) {
    for (const subscription of seed.subscriptions) {
      const groups = new Map<string, string>();
      for (const group of subscription.resourceGroups ?? []) groups.set(resourceKey(group), group);
      this.resourceGroups.set(resourceKey(subscription.id), groups);
    }
    for (const vm of seed.virtualMachines ?? []) {
      this.addResourceGroupOf(vm.id);
      this.virtualMachines.set(resourceKey(vm.id), vm);
      for (const nic of vm.nics) {
        this.addResourceGroupOf(nic.id);
        this.nics.set(resourceKey(nic.id), { nic, vm });
      }
    }
    for (const seedWatcher of seed.networkWatchers ?? []) {
      const name = seedWatcher.name ?? `NetworkWatcher_${seedWatcher.location}`;
      const resourceGroup = seedWatcher.resourceGroup ?? "NetworkWatcherRG";
      const id = resourceIdOf(seedWatcher.subscriptionId, resourceGroup, "Microsoft.Network/networkWatchers", name);
      this.addResourceGroupOf(id);
      this.watchers.set(resourceKey(id), {
        id,
        name,
        resourceGroup,
        subscriptionId: seedWatcher.subscriptionId,
        location: seedWatcher.location,
      });
    }
    this.routes = this.buildRoutes();
  }

  injectFaults(faults: ArmFault[]): void {
    for (const fault of faults) {
      if (!Number.isInteger(fault.count) || fault.count < 1) {
        throw new ValidationError(`injectFaults: count must be an integer >= 1, got ${fault.count}`);
      }
      if (!Number.isInteger(fault.statusCode) || fault.statusCode < 400 || fault.statusCode > 599) {
        throw new ValidationError(
          `injectFaults: statusCode must be an HTTP error status (400-599), got ${fault.statusCode}`,
        );
      }
      this.faults.push({ ...fault, remaining: fault.count });
    }
  }

  failPacketCapture(nameOrId: string, errors: PacketCaptureErrorCode[]): void {
    const wanted = resourceKey(nameOrId);
    const matches = [...this.captures.entries()].filter(
      ([key, record]) => key === wanted || resourceKey(record.name) === wanted,
    );
    const [match, ...others] = matches;
    if (!match || others.length > 0) {
      throw new ValidationError(
        `failPacketCapture: expected exactly one packet capture named '${nameOrId}', found ${matches.length}`,
      );
    }
    if (errors.length === 0 || errors.some((error) => !PACKET_CAPTURE_ERROR_CODES.includes(error))) {
      const allowed = PACKET_CAPTURE_ERROR_CODES.join(", ");
      throw new ValidationError(
        `failPacketCapture: errors must be a non-empty list of ${allowed}, got ${JSON.stringify(errors)}`,
      );
    }
    this.settle(...match).errors = [...errors];
  }

  async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await readBody(request);
    const method = request.method ?? "GET";
    const url = new URL(request.url ?? "/", this.endpoint);
    const query = Object.fromEntries(url.searchParams);
    const recorded: RecordedArmRequest = {
      method,
      path: url.pathname,
      query,
      body: parseJsonOrText(text),
      statusCode: 0,
    };
    this.requests.push(recorded);
    const answer = this.answer(request, method, url, text);
    recorded.statusCode = answer.statusCode;
    const payload = answer.body === undefined ? "" : JSON.stringify(answer.body);
    response.writeHead(answer.statusCode, {
      ...(payload && { "Content-Type": "application/json; charset=utf-8" }),
      "x-ms-request-id": randomUUID(),
      "x-ms-correlation-request-id": randomUUID(),
      ...answer.headers,
    });
    response.end(payload);
  }

  private answer(request: IncomingMessage, method: string, url: URL, text: string): ArmResponse {
    try {
      if (!/^Bearer \S+/.test(request.headers.authorization ?? "")) {
        throw new ArmHttpError(
          401,
          "AuthenticationFailed",
          "Authentication failed. The 'Authorization' header is missing.",
        );
      }
      this.throwInjectedFault(method, url.pathname);
      const apiVersion = url.searchParams.get("api-version");
      if (!apiVersion) {
        throw new ArmHttpError(
          400,
          "MissingApiVersionParameter",
          "The api-version query parameter (?api-version=) is required for all requests.",
        );
      }
      const route = this.routes.find(
        (candidate) => candidate.method === method && candidate.pattern.test(url.pathname),
      );
      if (!route)
        throw new ArmHttpError(404, "NotFound", `The local ARM endpoint does not serve ${method} ${url.pathname}.`);
      const params = (route.pattern.exec(url.pathname) ?? []).slice(1).map(decodeURIComponent);
      const body = text.length === 0 ? undefined : parseJsonOrThrow(text);
      return route.handle({ method, url, body, apiVersion }, params);
    } catch (error) {
      if (error instanceof ArmHttpError) {
        return { statusCode: error.statusCode, body: error.toBody(), headers: error.headers };
      }
      logFailure(`local ARM endpoint: ${method} ${url.pathname}`, error);
      return { statusCode: 500, body: { error: { code: "InternalServerError", message: "An error occurred." } } };
    }
  }

  private throwInjectedFault(method: string, path: string): void {
    const fault = this.faults.find(
      (candidate) =>
        candidate.remaining > 0 &&
        (candidate.method === undefined || candidate.method.toUpperCase() === method) &&
        (typeof candidate.path === "string"
          ? path.toLowerCase().includes(candidate.path.toLowerCase())
          : candidate.path.test(path)),
    );
    if (!fault) return;
    fault.remaining -= 1;
    const retryAfterInSeconds = fault.retryAfterInSeconds ?? (fault.statusCode === 429 ? 1 : undefined);
    const headers: Record<string, string> =
      retryAfterInSeconds === undefined ? {} : { "Retry-After": String(retryAfterInSeconds) };
    const defaultCode =
      fault.statusCode === 429
        ? "TooManyRequests"
        : fault.statusCode === 409
          ? "AnotherOperationInProgress"
          : "InternalServerError";
    const message = fault.message ?? `Injected fault ${fault.statusCode} for ${method} ${path}.`;
    throw new ArmHttpError(fault.statusCode, fault.code ?? defaultCode, message, [], headers);
  }

  private buildRoutes(): Route[] {
    const route = (method: string, pattern: string, handle: Handler): Route => ({
      method,
      pattern: new RegExp(`${pattern}$`, "i"),
      handle,
    });
    return [
      route("GET", `${SUBSCRIPTION}${NETWORK}/networkWatchers`, (context, [s]) => this.listWatchers(context, s!)),
      route("GET", `${GROUP}${NETWORK}/networkWatchers`, (context, [s, g]) => this.listWatchers(context, s!, g)),
      route("GET", WATCHER, (_, [s, g, w]) => ok(toWatcherResource(this.watcher(s!, g!, w!)))),
      route("GET", `${SUBSCRIPTION}${NETWORK}/networkInterfaces`, (context, [s]) => this.listNics(context, s!)),
      route("GET", `${GROUP}${NETWORK}/networkInterfaces`, (context, [s, g]) => this.listNics(context, s!, g)),
      route("GET", `${GROUP}${NETWORK}/networkInterfaces/([^/]+)`, (_, [s, g, n]) => this.getNic(s!, g!, n!)),
      // VirtualMachines_ListAll (Compute spec 2024-07-01, virtualMachine.json): log alerts name computers.
      route("GET", `${SUBSCRIPTION}/providers/Microsoft\\.Compute/virtualMachines`, (context, [s]) =>
        this.listVirtualMachines(context, s!),
      ),
      route("GET", `${GROUP}/providers/Microsoft\\.Compute/virtualMachines/([^/]+)`, (context, [s, g, v]) =>
        this.getVirtualMachine(context, s!, g!, v!),
      ),
      route("GET", `${WATCHER}/packetCaptures`, (context, [s, g, w]) => this.listCaptures(context, s!, g!, w!)),
      route("PUT", CAPTURE, (context, [s, g, w, c]) => this.createCapture(context, s!, g!, w!, c!)),
      route("GET", CAPTURE, (_, [s, g, w, c]) => ok(toPacketCaptureResource(this.capture(s!, g!, w!, c!)))),
      route("DELETE", CAPTURE, (context, [s, g, w, c]) => this.deleteCapture(context, s!, g!, w!, c!)),
      route("POST", `${CAPTURE}/stop`, (context, [s, g, w, c]) => this.stopCapture(context, s!, g!, w!, c!)),
      route("POST", `${CAPTURE}/queryStatus`, (context, [s, g, w, c]) =>
        this.queryCaptureStatus(context, s!, g!, w!, c!),
      ),
      route("GET", `${SUBSCRIPTION}${NETWORK}/locations/([^/]+)/operations/([^/]+)`, (_, [s, , o]) =>
        this.pollOperation(s!, o!),
      ),
      route("GET", `${SUBSCRIPTION}${NETWORK}/locations/([^/]+)/operationResults/([^/]+)`, (context, [s, , o]) =>
        this.operationResult(context, s!, o!),
      ),
    ];
  }

  /** A list answer; with `listPageSize`, one page plus a `nextLink` carrying `$skiptoken`. */
  private page(context: RequestContext, values: unknown[]): ArmResponse {
    if (this.listPageSize === undefined) return ok({ value: values });
    const skipToken = context.url.searchParams.get("$skiptoken") ?? "0";
    if (!/^\d+$/.test(skipToken))
      throw new ArmHttpError(400, "InvalidSkipToken", `The $skiptoken '${skipToken}' is not valid.`);
    const start = Number(skipToken);
    const end = start + this.listPageSize;
    const nextLink = new URL(context.url.href);
    nextLink.searchParams.set("$skiptoken", String(end));
    return ok({ value: values.slice(start, end), ...(end < values.length && { nextLink: nextLink.href }) });
  }

  private addResourceGroupOf(id: string): void {
    const parsed = parseResourceId(id);
    const groups = parsed && this.resourceGroups.get(resourceKey(parsed.subscriptionId));
    if (parsed && groups && !groups.has(resourceKey(parsed.resourceGroup)))
      groups.set(resourceKey(parsed.resourceGroup), parsed.resourceGroup);
  }

  private requireScope(subscriptionId: string, resourceGroup?: string): void {
    const groups = this.resourceGroups.get(resourceKey(subscriptionId));
    if (!groups)
      throw new ArmHttpError(404, "SubscriptionNotFound", `The subscription '${subscriptionId}' could not be found.`);
    if (resourceGroup !== undefined && !groups.has(resourceKey(resourceGroup))) {
      throw new ArmHttpError(404, "ResourceGroupNotFound", `Resource group '${resourceGroup}' could not be found.`);
    }
  }

  private listWatchers(context: RequestContext, subscriptionId: string, resourceGroup?: string): ArmResponse {
    this.requireScope(subscriptionId, resourceGroup);
    const prefix = scopePrefix(subscriptionId, resourceGroup);
    return this.page(
      context,
      [...this.watchers.values()]
        .filter((watcher) => resourceKey(watcher.id).startsWith(prefix))
        .map(toWatcherResource),
    );
  }

  private watcher(subscriptionId: string, resourceGroup: string, name: string): Watcher {
    this.requireScope(subscriptionId, resourceGroup);
    const watcher = this.watchers.get(
      resourceKey(resourceIdOf(subscriptionId, resourceGroup, "Microsoft.Network/networkWatchers", name)),
    );
    if (!watcher) throw resourceNotFound("Microsoft.Network/networkWatchers", name, resourceGroup);
    return watcher;
  }

  private listNics(context: RequestContext, subscriptionId: string, resourceGroup?: string): ArmResponse {
    this.requireScope(subscriptionId, resourceGroup);
    const prefix = scopePrefix(subscriptionId, resourceGroup);
    const entries = [...this.nics.values()].filter(({ nic }) => resourceKey(nic.id).startsWith(prefix));
    return this.page(
      context,
      entries.map(({ nic, vm }) => toNicResource(nic, vm)),
    );
  }

  private getNic(subscriptionId: string, resourceGroup: string, name: string): ArmResponse {
    this.requireScope(subscriptionId, resourceGroup);
    const entry = this.nics.get(
      resourceKey(resourceIdOf(subscriptionId, resourceGroup, "Microsoft.Network/networkInterfaces", name)),
    );
    if (!entry) throw resourceNotFound("Microsoft.Network/networkInterfaces", name, resourceGroup);
    return ok(toNicResource(entry.nic, entry.vm));
  }

  private listVirtualMachines(context: RequestContext, subscriptionId: string): ArmResponse {
    this.requireScope(subscriptionId);
    const prefix = scopePrefix(subscriptionId);
    const machines = [...this.virtualMachines.values()].filter((vm) => resourceKey(vm.id).startsWith(prefix));
    return this.page(
      context,
      machines.map((vm) => toVirtualMachineResource(vm, false)),
    );
  }

  private getVirtualMachine(
    context: RequestContext,
    subscriptionId: string,
    resourceGroup: string,
    name: string,
  ): ArmResponse {
    this.requireScope(subscriptionId, resourceGroup);
    const vm = this.virtualMachines.get(
      resourceKey(resourceIdOf(subscriptionId, resourceGroup, "Microsoft.Compute/virtualMachines", name)),
    );
    if (!vm) throw resourceNotFound("Microsoft.Compute/virtualMachines", name, resourceGroup);
    const expand = (context.url.searchParams.get("$expand") ?? "").toLowerCase();
    return ok(toVirtualMachineResource(vm, expand === "instanceview"));
  }

  private listCaptures(
    context: RequestContext,
    subscriptionId: string,
    resourceGroup: string,
    watcherName: string,
  ): ArmResponse {
    const watcher = this.watcher(subscriptionId, resourceGroup, watcherName);
    const prefix = resourceKey(`${watcher.id}/packetCaptures/`);
    const records = [...this.captures.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, record]) => this.settle(key, record));
    return this.page(context, records.map(toPacketCaptureResource));
  }

  private capture(
    subscriptionId: string,
    resourceGroup: string,
    watcherName: string,
    name: string,
  ): PacketCaptureRecord {
    const watcher = this.watcher(subscriptionId, resourceGroup, watcherName);
    const id = `${watcher.id}/packetCaptures/${name}`;
    const record = this.captures.get(resourceKey(id));
    if (!record) throw childResourceNotFound(id);
    return this.settle(resourceKey(id), record);
  }

  /** Completes the resource's pending operations: a read after the work is done sees the outcome. */
  private settle(key: string, record: PacketCaptureRecord): PacketCaptureRecord {
    for (const operation of this.operations.values()) {
      if (operation.resourceKey === key && operation.status === "InProgress") this.completeOperation(operation);
    }
    return record;
  }

  private createCapture(
    context: RequestContext,
    subscriptionId: string,
    resourceGroup: string,
    watcherName: string,
    name: string,
  ): ArmResponse {
    const watcher = this.watcher(subscriptionId, resourceGroup, watcherName);
    const properties = validatePacketCaptureBody(context.body);
    const target = parseResourceId(properties.target);
    const vm = this.virtualMachines.get(resourceKey(properties.target));
    if (!target || !vm) {
      throw resourceNotFound(
        "Microsoft.Compute/virtualMachines",
        target?.name ?? properties.target,
        target?.resourceGroup ?? "(none)",
      );
    }
    if (vm.location.toLowerCase() !== watcher.location.toLowerCase()) {
      throw new ArmHttpError(
        400,
        INVALID_REQUEST_CODE,
        `Target ${vm.id} is in location '${vm.location}' but network watcher ${watcher.id} is in location '${watcher.location}'.`,
      );
    }
    if (!vm.networkWatcherExtension) {
      throw new ArmHttpError(
        400,
        AGENT_NOT_INSTALLED_CODE,
        `Network Watcher Agent not installed on virtual machine ${vm.id}. Install the ${agentExtensionType(vm)} VM extension and retry.`,
      );
    }
    const id = `${watcher.id}/packetCaptures/${name}`;
    const record: PacketCaptureRecord = { id, name, properties, provisioningState: "Updating" };
    this.captures.set(resourceKey(id), record);
    const headers = this.beginOperation(context, watcher, resourceKey(id), () => {
      record.provisioningState = "Succeeded";
      record.captureStartTimeInMs = this.clock.now();
      return undefined;
    });
    return { statusCode: 201, body: toPacketCaptureResource(record), headers };
  }

  private stopCapture(
    context: RequestContext,
    subscriptionId: string,
    resourceGroup: string,
    watcherName: string,
    name: string,
  ): ArmResponse {
    const record = this.capture(subscriptionId, resourceGroup, watcherName, name);
    const watcher = this.watcher(subscriptionId, resourceGroup, watcherName);
    const headers = this.beginOperation(context, watcher, resourceKey(record.id), () => {
      if (refreshSessionStatus(record, this.clock.now()) !== "Stopped") {
        record.stoppedAtInMs = this.clock.now();
        record.stopReason = "Manual";
      }
      return undefined;
    });
    return { statusCode: 202, headers };
  }

  private queryCaptureStatus(
    context: RequestContext,
    subscriptionId: string,
    resourceGroup: string,
    watcherName: string,
    name: string,
  ): ArmResponse {
    const record = this.capture(subscriptionId, resourceGroup, watcherName, name);
    const watcher = this.watcher(subscriptionId, resourceGroup, watcherName);
    const headers = this.beginOperation(context, watcher, resourceKey(record.id), () =>
      toQueryStatusResult(record, this.clock.now()),
    );
    return { statusCode: 202, headers };
  }

  private deleteCapture(
    context: RequestContext,
    subscriptionId: string,
    resourceGroup: string,
    watcherName: string,
    name: string,
  ): ArmResponse {
    const watcher = this.watcher(subscriptionId, resourceGroup, watcherName);
    const key = resourceKey(`${watcher.id}/packetCaptures/${name}`);
    const record = this.captures.get(key);
    // ARM answers 204 for a DELETE of something that is not there.
    if (!record) return { statusCode: 204 };
    this.settle(key, record);
    record.provisioningState = "Deleting";
    const headers = this.beginOperation(context, watcher, key, () => {
      this.captures.delete(key);
      return undefined;
    });
    return { statusCode: 202, headers };
  }

  /** Registers a long-running operation; returns the Azure-AsyncOperation and Location headers. */
  private beginOperation(
    context: RequestContext,
    watcher: Watcher,
    key: string,
    complete: () => unknown,
  ): Record<string, string> {
    const id = randomUUID();
    this.operations.set(id, {
      id,
      subscriptionId: watcher.subscriptionId,
      location: watcher.location,
      resourceKey: key,
      pollsRemaining: this.pollsBeforeOperationSucceeds,
      status: "InProgress",
      startTime: new Date(this.clock.now()).toISOString(),
      complete,
    });
    const base = `${this.endpoint}/subscriptions/${watcher.subscriptionId}/providers/Microsoft.Network/locations/${watcher.location}`;
    const query = `?api-version=${encodeURIComponent(context.apiVersion)}`;
    return {
      "Azure-AsyncOperation": `${base}/operations/${id}${query}`,
      Location: `${base}/operationResults/${id}${query}`,
    };
  }

  private completeOperation(operation: AsyncOperation): void {
    operation.status = "Succeeded";
    operation.endTime = new Date(this.clock.now()).toISOString();
    operation.result = operation.complete();
  }

  private operation(subscriptionId: string, id: string): AsyncOperation {
    const operation = this.operations.get(id);
    if (!operation || resourceKey(operation.subscriptionId) !== resourceKey(subscriptionId)) {
      throw new ArmHttpError(404, "NotFound", `Operation ${id} not found.`);
    }
    return operation;
  }

  private pollOperation(subscriptionId: string, id: string): ArmResponse {
    const operation = this.operation(subscriptionId, id);
    if (operation.status === "InProgress") {
      if (operation.pollsRemaining > 0) operation.pollsRemaining -= 1;
      else this.completeOperation(operation);
    }
    const { status, startTime, endTime } = operation;
    const operationId = `/subscriptions/${operation.subscriptionId}/providers/Microsoft.Network/locations/${operation.location}/operations/${id}`;
    return ok({ id: operationId, name: id, status, startTime, ...(endTime && { endTime }) });
  }

  private operationResult(context: RequestContext, subscriptionId: string, id: string): ArmResponse {
    const operation = this.operation(subscriptionId, id);
    if (operation.status === "InProgress") return { statusCode: 202, headers: { Location: context.url.href } };
    return operation.result === undefined ? { statusCode: 204 } : ok(operation.result);
  }
}

function scopePrefix(subscriptionId: string, resourceGroup?: string): string {
  const subscription = `/subscriptions/${subscriptionId}/`;
  return resourceKey(resourceGroup === undefined ? subscription : `${subscription}resourceGroups/${resourceGroup}/`);
}

/** `typePath` is "{namespace}/{type}", e.g. "Microsoft.Network/networkWatchers". */
function resourceIdOf(subscriptionId: string, resourceGroup: string, typePath: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${typePath}/${name}`;
}

function ok(body: unknown): ArmResponse {
  return { statusCode: 200, body };
}

function toWatcherResource(watcher: Watcher): Record<string, unknown> {
  return {
    id: watcher.id,
    name: watcher.name,
    type: "Microsoft.Network/networkWatchers",
    location: watcher.location,
    etag: 'W/"00000000-0000-0000-0000-000000000001"',
    properties: { provisioningState: "Succeeded" },
  };
}

function toNicResource(nic: NetworkInterfaceSeed, vm: VirtualMachineSeed): Record<string, unknown> {
  const name = parseResourceId(nic.id)?.name ?? nic.id;
  return {
    id: nic.id,
    name,
    type: "Microsoft.Network/networkInterfaces",
    location: vm.location,
    etag: 'W/"00000000-0000-0000-0000-000000000001"',
    properties: {
      provisioningState: "Succeeded",
      macAddress: nic.mac.toUpperCase(),
      primary: vm.nics[0] === nic,
      enableAcceleratedNetworking: false,
      enableIPForwarding: false,
      ipConfigurations: [
        {
          id: `${nic.id}/ipConfigurations/ipconfig1`,
          name: "ipconfig1",
          type: "Microsoft.Network/networkInterfaces/ipConfigurations",
          properties: {
            provisioningState: "Succeeded",
            privateIPAddress: nic.privateIp,
            privateIPAllocationMethod: "Dynamic",
            privateIPAddressVersion: "IPv4",
            primary: true,
          },
        },
      ],
      virtualMachine: { id: vm.id },
    },
  };
}

function agentExtensionType(vm: VirtualMachineSeed): string {
  return vm.osType === "Windows" ? "NetworkWatcherAgentWindows" : "NetworkWatcherAgentLinux";
}

/** The Compute RP's VM GET shape (api-version 2024-07-01): extensions appear under `resources`. */
function toVirtualMachineResource(vm: VirtualMachineSeed, withInstanceView: boolean): Record<string, unknown> {
  const name = parseResourceId(vm.id)?.name ?? vm.id;
  const succeeded = { code: "ProvisioningState/succeeded", level: "Info", displayStatus: "Provisioning succeeded" };
  const extensionName = "AzureNetworkWatcherExtension";
  const extensionType = agentExtensionType(vm);
  return {
    id: vm.id,
    name,
    type: "Microsoft.Compute/virtualMachines",
    location: vm.location,
    properties: {
      provisioningState: "Succeeded",
      hardwareProfile: { vmSize: "Standard_D2s_v3" },
      osProfile: { computerName: vm.computerName ?? name },
      storageProfile: { osDisk: { osType: vm.osType ?? "Linux", createOption: "FromImage" } },
      networkProfile: {
        networkInterfaces: vm.nics.map((nic, index) => ({ id: nic.id, properties: { primary: index === 0 } })),
      },
      ...(withInstanceView && {
        instanceView: {
          ...(vm.networkWatcherExtension && {
            extensions: [
              {
                name: extensionName,
                type: `Microsoft.Azure.NetworkWatcher.${extensionType}`,
                typeHandlerVersion: "1.4.3422.1",
                statuses: [succeeded],
              },
            ],
          }),
          statuses: [succeeded, { code: "PowerState/running", level: "Info", displayStatus: "VM running" }],
        },
      }),
    },
    ...(vm.networkWatcherExtension && {
      resources: [
        {
          id: `${vm.id}/extensions/${extensionName}`,
          name: extensionName,
          type: "Microsoft.Compute/virtualMachines/extensions",
          location: vm.location,
          properties: {
            publisher: "Microsoft.Azure.NetworkWatcher",
            type: extensionType,
            typeHandlerVersion: "1.4",
            autoUpgradeMinorVersion: true,
            provisioningState: "Succeeded",
          },
        },
      ],
    }),
  };
}

interface SelfSignedCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

/**
 * RSA key generation dominates start-up (~0.3 s), so endpoints of one process share a key; each gets its own
 * certificate.
 */
let processKeyPair: { publicKey: string; privateKey: string } | undefined;

/** A certificate for 127.0.0.1 and localhost; the key comes from node:crypto (fast) rather than node-forge. */
function createSelfSignedCertificate(): SelfSignedCertificate {
  processKeyPair ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  const keyPair = processKeyPair;
  // `keyPair` is a documented selfsigned 2.x option missing from its type declarations.
  const options: Parameters<typeof generateCertificate>[1] & { keyPair: { privateKey: string; publicKey: string } } = {
    days: 7,
    algorithm: "sha256",
    keyPair,
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", keyCertSign: true, digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 2, value: "localhost" },
        ],
      },
    ],
  };
  const generated = generateCertificate([{ name: "commonName", value: "flowtap local ARM" }], options);
  return { certificatePem: generated.cert, privateKeyPem: keyPair.privateKey };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function parseJsonOrThrow(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ArmHttpError(
      400,
      INVALID_REQUEST_CODE,
      `Cannot parse the request: the body is not valid JSON (${(error as Error).message}).`,
    );
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Clients keep sockets alive; close them so stop() does not wait for their idle timeout.
    server.closeAllConnections();
  });
}
