/**
 * Running one invocation of an activity, an orchestrator or an entity, the same way wherever it runs: in the host
 * process (in-process mode) or in a worker process (workers/workerMain.ts). The host process keeps the durable
 * engine and the store; what crosses to a worker is what crosses the Functions host's RPC channel to a language
 * worker: the trigger payload in, the function's return value (or its error) out.
 */
import type { InvocationContext } from "@azure/functions";
import { randomBytes } from "node:crypto";
import { logger } from "../../../src/logger";
import { toFailureDetails, toJson, type FailureDetailsPayload } from "../history";
import { functionsModule, type FunctionRegistration } from "../registry";

/** The state durable-functions' Orchestrator returns (or carries in a thrown OrchestrationFailureError). */
export interface LibraryOrchestratorState {
  isDone: boolean;
  actions: unknown[];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  failureDetails?: FailureDetailsPayload;
}

/** One orchestrator episode's outcome: the library's state, and the failure when the orchestrator threw. */
export interface OrchestratorOutcome {
  state: LibraryOrchestratorState;
  failure?: FailureDetailsPayload;
}

/** What the extension hands an entity function (durable-functions' out-of-proc entity batch). */
export interface EntityBatchInput {
  self: { name: string; key: string };
  exists: boolean;
  state: string | undefined;
  batch: { id: string; name: string; signal: boolean; input: string | undefined }[];
}

export interface EntityOperationResult {
  isError: boolean;
  result?: string;
}

export interface EntitySignal {
  target: { name: string; key: string };
  name: string;
  input: string;
}

/** What an entity function returns for a batch. */
export interface EntityBatchResult {
  entityExists: boolean;
  entityState?: string;
  results: EntityOperationResult[];
  signals: EntitySignal[];
}

/** Runs the durable invocations; the engine holds one (in-process, or the worker pool). */
export interface FunctionInvoker {
  /** Activity `name` on its JSON input: resolves with its JSON result, rejects with its error. */
  activity(name: string, input: string | undefined): Promise<string>;
  /** One episode of orchestrator `name` on the extension's binding input. */
  orchestrator(name: string, bindingInput: Record<string, unknown>): Promise<OrchestratorOutcome>;
  /** One batch of entity `name`. */
  entity(name: string, batch: EntityBatchInput): Promise<EntityBatchResult>;
}

export type InvocationKind = keyof FunctionInvoker;

const triggerOf: Record<InvocationKind, string> = {
  activity: "activityTrigger",
  orchestrator: "orchestrationTrigger",
  entity: "entityTrigger",
};

/**
 * A fresh InvocationContext for one invocation: its log goes to the host's logger, and a durable client input is
 * filled with the client binding data (what the extension puts in a durableClient input).
 */
export function createInvocationContext(
  registration: FunctionRegistration,
  durableClientData: () => Record<string, unknown>,
): InvocationContext {
  const { InvocationContext: Context } = functionsModule();
  const context = new Context({
    functionName: registration.name,
    invocationId: randomBytes(8).toString("hex"),
    options: {
      trigger: registration.trigger,
      extraInputs: registration.extraInputs,
      extraOutputs: registration.extraOutputs,
      return: registration.return,
    },
    logHandler: (level, ...args) => logger.verbose(`[${registration.name}] ${level}: ${args.map(String).join(" ")}`),
  });
  for (const input of registration.extraInputs) {
    if (input.type === "durableClient" || input.type === "orchestrationClient")
      context.extraInputs.set(input, durableClientData());
  }
  return context;
}

const outOfProcDataLabel = "\n\n$OutOfProcData$:";

/** The state inside a thrown OrchestrationFailureError, after "$OutOfProcData$:" (OutOfProcExceptionHelpers). */
export function stateFromFailure(error: unknown): LibraryOrchestratorState {
  const message = error instanceof Error ? error.message : String(error);
  const at = message.indexOf(outOfProcDataLabel);
  if (at >= 0) {
    try {
      return JSON.parse(message.substring(at + outOfProcDataLabel.length)) as LibraryOrchestratorState;
    } catch {
      // Fall through: the error is reported as it is.
    }
  }
  return { isDone: false, actions: [[]], error: message };
}

/** The library's executor of the episode that ran with `context` (set by the Orchestrator on context.df). */
function executorException(context: InvocationContext): unknown {
  return (context as unknown as { df?: { taskOrchestratorExecutor?: { exception?: unknown } } }).df
    ?.taskOrchestratorExecutor?.exception;
}

/**
 * The orchestrator's real error. durable-functions 3.5.0 throws an OrchestrationFailureError
 * built from a boolean (its message is "false..."), so the error is read from the executor.
 */
function failureOf(state: LibraryOrchestratorState, thrown: unknown, context: InvocationContext) {
  if (state.failureDetails) return state.failureDetails;
  const exception = executorException(context);
  if (exception !== undefined) return toFailureDetails(exception);
  const details = toFailureDetails(thrown);
  return { ...details, ErrorMessage: state.error ?? details.ErrorMessage };
}

/** Runs the app's functions in this process: the registrations loaded here, a fresh context per invocation. */
export class InProcessInvoker implements FunctionInvoker {
  private readonly byKey: ReadonlyMap<string, FunctionRegistration>;

  constructor(
    registrations: readonly FunctionRegistration[],
    private readonly createContext: (registration: FunctionRegistration) => InvocationContext,
  ) {
    this.byKey = new Map(registrations.map((r) => [`${r.triggerType}\u0000${r.name.toLowerCase()}`, r]));
  }

  private registration(kind: InvocationKind, name: string): FunctionRegistration {
    const registration = this.byKey.get(`${triggerOf[kind]}\u0000${name.toLowerCase()}`);
    if (!registration) throw new Error(`no ${kind} function named "${name}" is registered`);
    return registration;
  }

  async activity(name: string, input: string | undefined): Promise<string> {
    const registration = this.registration("activity", name);
    const parsed = input === undefined || input === "" ? undefined : (JSON.parse(input) as unknown);
    return toJson(await registration.handler(parsed, this.createContext(registration)));
  }

  async orchestrator(name: string, bindingInput: Record<string, unknown>): Promise<OrchestratorOutcome> {
    const registration = this.registration("orchestrator", name);
    const context = this.createContext(registration);
    try {
      return { state: (await registration.handler(bindingInput, context)) as LibraryOrchestratorState };
    } catch (error) {
      const state = stateFromFailure(error);
      return { state, failure: failureOf(state, error, context) };
    }
  }

  async entity(name: string, batch: EntityBatchInput): Promise<EntityBatchResult> {
    const registration = this.registration("entity", name);
    return (await registration.handler(batch, this.createContext(registration))) as EntityBatchResult;
  }
}
