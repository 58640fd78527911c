import { randomUUID } from "node:crypto";
import { createServer } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { logFailure } from "../../src/logger";
import { ValidationError } from "../../src/errors";
import { ArmHttpError } from "./armHttpError";
import { AsyncOperations, type PollingHeaders } from "./asyncOperations";
import { PacketCaptureService, type CapturePath } from "./captureService";
import { createSelfSignedCertificate } from "./certificate";
import { ArmClock } from "./clock";
import { ARM_FAILURE_MODES, ArmErrorCodes, FaultQueue, type ArmFailureMode, type ArmFault } from "./faults";
import { answerOf, close, listen, ok, parseJsonOrThrow, readBody, type ArmResponse, type RequestContext } from "./http";
import { parseJsonOrText } from "./json";
import type { PacketCaptureErrorCode } from "./packetCaptures";
import { toWatcherResource } from "./resources";
import { validateArmSeed, type ArmSeed } from "./seed";
import { ArmTopology } from "./topology";

/**
 * A local Azure Resource Manager endpoint over https for the real `NetworkManagementClient`:
 * network watchers, network interfaces, virtual machines (GET) and Network Watcher packet
 * captures with long-running operations (Azure-AsyncOperation and Location polling), a fault
 * switch for the documented failure modes, and a record of every request.
 */

/** Error code for a packet capture on a VM without the Network Watcher agent extension (unconfirmed, see README). */
export const AGENT_NOT_INSTALLED_CODE = ArmErrorCodes.agentNotInstalled;

/** The documented limit: 10,000 parallel packet capture sessions per region per subscription. */
export const MAX_SESSIONS_PER_REGION = 10000;

export interface StartArmEndpointOptions {
  seed: ArmSeed;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** How many polls of a long-running operation answer InProgress (or 202) before it ends. Default 1. */
  pollsBeforeOperationSucceeds?: number;
  /** Items per page of list answers (the rest follows by `nextLink`); all on one page when omitted. */
  listPageSize?: number;
  /** Polling headers of 201/202 answers (default both, as the Network RP sends them). */
  pollingHeaders?: PollingHeaders;
  /** Running packet capture sessions allowed per region and subscription (default MAX_SESSIONS_PER_REGION). */
  maxSessionsPerRegion?: number;
}

export interface RecordedArmRequest {
  method: string;
  /** Path without the query string, as sent. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, the raw text if it was not JSON, or undefined when empty. */
  body: unknown;
  /** Status code the endpoint answered with (0: the connection was dropped). */
  statusCode: number;
}

/** Where an injected failure applies. */
export interface ArmFailureTarget {
  method?: string;
  path: RegExp | string;
  /** Default 1. */
  count?: number;
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
  /** Makes the next matching requests fail with one of the documented failure modes. */
  injectFailure(mode: ArmFailureMode, target: ArmFailureTarget): void;
  /**
   * Makes a packet capture (by name or full id) report packetCaptureStatus Error with these
   * errors (InternalError, AgentStopped, CaptureFailed, LocalFileFailed, StorageFailed).
   */
  failPacketCapture(nameOrId: string, errors?: PacketCaptureErrorCode[]): void;
  stop(): Promise<void>;
}

/** Starts the endpoint; resolves once it listens. */
export async function startArmEndpoint(options: StartArmEndpointOptions): Promise<ArmEndpoint> {
  validateOptions(options);
  const certificate = createSelfSignedCertificate();
  const state = new ArmServer(options);
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
  state.setEndpoint(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return {
    endpoint: state.endpoint,
    caCertificatePem: certificate.certificatePem,
    clock: state.clock,
    requests: state.requests,
    injectFaults: (...faults) => state.faults.add(faults),
    injectFailure: (mode, { count = 1, ...where }) =>
      state.faults.add([{ ...ARM_FAILURE_MODES[mode], ...where, count }]),
    failPacketCapture: (nameOrId, errors = ["CaptureFailed"]) => state.captures.fail(nameOrId, errors),
    stop: () => close(server),
  };
}

function validateOptions(options: StartArmEndpointOptions): void {
  validateArmSeed(options.seed);
  const polls = options.pollsBeforeOperationSucceeds;
  if (polls !== undefined && (!Number.isInteger(polls) || polls < 0)) {
    throw new ValidationError(`startArmEndpoint: pollsBeforeOperationSucceeds must be an integer >= 0, got ${polls}`);
  }
  for (const name of ["listPageSize", "maxSessionsPerRegion"] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new ValidationError(`startArmEndpoint: ${name} must be an integer >= 1, got ${value}`);
    }
  }
}

type Handler = (context: RequestContext, params: string[]) => ArmResponse;

interface Route {
  method: string;
  pattern: RegExp;
  handle: Handler;
}

const SUBSCRIPTION = "^/subscriptions/([^/]+)";
const GROUP = `${SUBSCRIPTION}/resourceGroups/([^/]+)`;
const NETWORK = "/providers/Microsoft\\.Network";
const COMPUTE = "/providers/Microsoft\\.Compute";
/** Routes match case-insensitively: @azure/arm-network sends `microsoft.Compute/virtualMachineScaleSets`. */
const SCALE_SET = `${GROUP}${COMPUTE}/virtualMachineScaleSets/([^/]+)`;
const WATCHER = `${GROUP}${NETWORK}/networkWatchers/([^/]+)`;
const CAPTURE = `${WATCHER}/packetCaptures/([^/]+)`;

class ArmServer {
  endpoint = "";
  readonly clock = new ArmClock();
  readonly requests: RecordedArmRequest[] = [];
  readonly faults = new FaultQueue();
  readonly captures: PacketCaptureService;
  private readonly topology: ArmTopology;
  private readonly operations: AsyncOperations;
  private readonly routes: Route[];

  constructor(options: StartArmEndpointOptions) {
    this.topology = new ArmTopology(options.seed, options.listPageSize);
    const pollingHeaders = options.pollingHeaders ?? "asyncOperationAndLocation";
    this.operations = new AsyncOperations(this.clock, options.pollsBeforeOperationSucceeds ?? 1, pollingHeaders);
    const maxSessions = options.maxSessionsPerRegion ?? MAX_SESSIONS_PER_REGION;
    this.captures = new PacketCaptureService(this.topology, this.operations, this.clock, this.faults, maxSessions);
    this.routes = this.buildRoutes();
  }

  setEndpoint(endpoint: string): void {
    this.endpoint = endpoint;
    this.operations.endpoint = endpoint;
  }

  async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await readBody(request);
    const method = request.method ?? "GET";
    const url = new URL(request.url ?? "/", this.endpoint);
    const recorded: RecordedArmRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: parseJsonOrText(text),
      statusCode: 0,
    };
    this.requests.push(recorded);
    const answer = this.answer(request, method, url, text);
    if (answer.reset) {
      request.socket.destroy();
      return;
    }
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
      const fault = this.faults.answerFor(method, url.pathname);
      if (fault) return fault;
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
      if (error instanceof ArmHttpError) return answerOf(error);
      logFailure(`local ARM endpoint: ${method} ${url.pathname}`, error);
      return answerOf(new ArmHttpError(500, ArmErrorCodes.internalServerError, "An error occurred."));
    }
  }

  private buildRoutes(): Route[] {
    const route = (method: string, pattern: string, handle: Handler): Route => ({
      method,
      pattern: new RegExp(`${pattern}$`, "i"),
      handle,
    });
    const { topology, captures, operations } = this;
    const capturePath = (params: string[]) => params as CapturePath;
    return [
      route("GET", `${SUBSCRIPTION}${NETWORK}/networkWatchers`, (context, [s]) => topology.listWatchers(context, s!)),
      route("GET", `${GROUP}${NETWORK}/networkWatchers`, (context, [s, g]) => topology.listWatchers(context, s!, g)),
      route("GET", WATCHER, (_, [s, g, w]) => ok(toWatcherResource(topology.watcher(s!, g!, w!)))),
      route("GET", `${SUBSCRIPTION}${NETWORK}/networkInterfaces`, (context, [s]) => topology.listNics(context, s!)),
      route("GET", `${GROUP}${NETWORK}/networkInterfaces`, (context, [s, g]) => topology.listNics(context, s!, g)),
      route("GET", `${GROUP}${NETWORK}/networkInterfaces/([^/]+)`, (_, [s, g, n]) => topology.getNic(s!, g!, n!)),
      // VirtualMachines_ListAll (Compute spec 2024-07-01, virtualMachine.json): log alerts name computers.
      route("GET", `${SUBSCRIPTION}/providers/Microsoft\\.Compute/virtualMachines`, (context, [s]) =>
        topology.listVirtualMachines(context, s!),
      ),
      route("GET", `${GROUP}/providers/Microsoft\\.Compute/virtualMachines/([^/]+)`, (context, [s, g, v]) =>
        topology.getVirtualMachine(context, s!, g!, v!),
      ),
      route("GET", `${SUBSCRIPTION}${COMPUTE}/virtualMachineScaleSets`, (context, [s]) =>
        topology.listScaleSets(context, s!),
      ),
      route("GET", `${SCALE_SET}/virtualMachines/([^/]+)`, (context, [s, g, v, i]) =>
        topology.getScaleSetVm(context, [s!, g!, v!, i!]),
      ),
      route("GET", `${SCALE_SET}/networkInterfaces`, (context, [s, g, v]) =>
        topology.listScaleSetNics(context, [s!, g!, v!]),
      ),
      route("GET", `${WATCHER}/packetCaptures`, (context, [s, g, w]) => captures.list(context, s!, g!, w!)),
      route("PUT", CAPTURE, (context, params) => captures.create(context, capturePath(params))),
      route("GET", CAPTURE, (_, params) => captures.get(capturePath(params))),
      route("DELETE", CAPTURE, (context, params) => captures.delete(context, capturePath(params))),
      route("POST", `${CAPTURE}/stop`, (context, params) => captures.stop(context, capturePath(params))),
      route("POST", `${CAPTURE}/queryStatus`, (context, params) => captures.queryStatus(context, capturePath(params))),
      route("GET", `${SUBSCRIPTION}${NETWORK}/locations/([^/]+)/operations/([^/]+)`, (_, [s, , o]) =>
        operations.status(s!, o!),
      ),
      route("GET", `${SUBSCRIPTION}${NETWORK}/locations/([^/]+)/operationResults/([^/]+)`, (context, [s, , o]) =>
        operations.result(s!, o!, context.url.href),
      ),
    ];
  }
}
