/**
 * A worker process of the local host (the stand-in for a Node language worker of the Functions host): it loads
 * the app module, runs its appStart hooks, then runs each invocation the host sends and answers with the
 * function's return value or error. It holds no durable state: the host process keeps the engine and the store.
 * Its `@azure/logger` output goes to the host (as the language worker's RpcLog messages do); it exits when the
 * host asks it to stop or the channel to the host closes.
 */
import { AzureLogger, setLogLevel, type AzureLogLevel } from "@azure/logger";
import { format } from "node:util";
import { loadApp, runAppHooks, type LoadedApp } from "../registry";
import { createInvocationContext, InProcessInvoker, type EntityBatchInput, type FunctionInvoker } from "./invocations";
import {
  toWorkerError,
  type HostToWorker,
  type WorkerInit,
  type WorkerInvocation,
  type WorkerToHost,
} from "./protocol";

function send(message: WorkerToHost): void {
  process.send?.(message);
}

let app: LoadedApp | undefined;
let invoker: FunctionInvoker | undefined;

async function initialize(init: WorkerInit): Promise<void> {
  if (init.logLevel) setLogLevel(init.logLevel as AzureLogLevel);
  AzureLogger.log = (...args: unknown[]) => send({ type: "log", text: format(...args) });
  try {
    app = await loadApp({ modulePath: init.modulePath });
    await runAppHooks(app.appStartHooks, "start");
    invoker = new InProcessInvoker(app.registrations, (registration) =>
      createInvocationContext(registration, () => init.durableClientData),
    );
    send({ type: "ready" });
  } catch (error) {
    send({ type: "initFailed", error: toWorkerError(error) });
  }
}

async function invoke(invocation: WorkerInvocation): Promise<void> {
  try {
    if (!invoker) throw new Error("the worker process has not loaded the app yet");
    const { kind, name, payload } = invocation;
    const value: unknown =
      kind === "activity"
        ? await invoker.activity(name, payload as string | undefined)
        : kind === "orchestrator"
          ? await invoker.orchestrator(name, payload as Record<string, unknown>)
          : await invoker.entity(name, payload as EntityBatchInput);
    send({ type: "result", id: invocation.id, value });
  } catch (error) {
    send({ type: "error", id: invocation.id, error: toWorkerError(error) });
  }
}

async function stop(): Promise<void> {
  await runAppHooks(app?.appTerminateHooks ?? [], "terminate").catch((error: unknown) =>
    send({ type: "log", text: `local host worker ${process.pid}: an appTerminate hook failed: ${String(error)}` }),
  );
  send({ type: "stopped" });
  process.exit(0);
}

process.on("message", (message: HostToWorker) => {
  if (message.type === "init") void initialize(message);
  else if (message.type === "invoke") void invoke(message);
  else void stop();
});
// The host went away (stopped or crashed): nothing can reach this worker any more.
process.on("disconnect", () => process.exit(0));
