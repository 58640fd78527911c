/**
 * The worker processes of the local host, as the Functions host runs FUNCTIONS_WORKER_PROCESS_COUNT language
 * workers (Azure/azure-functions-host, commit 89dc438):
 * - each invocation goes to the next initialized worker, round robin
 *   (src/WebJobs.Script/Workers/Rpc/FunctionRegistration/RpcFunctionInvocationDispatcherLoadBalancer.cs:
 *   `Interlocked.Increment(ref _counter) % currentNumberOfWorkers`, one worker: always it);
 * - a worker that exits fails every invocation it was running with the host's WorkerProcessExitException
 *   ("<file> exited with code N (0xN)", ProcessManagement/WorkerProcess.cs; GrpcWorkerChannel.TryFailExecutions),
 *   and is replaced by a new one (RpcFunctionInvocationDispatcher.DisposeAndRestartWorkerChannel), up to
 *   3 × the process count failures within 30 minutes (ErrorEventsThreshold,
 *   WorkerConstants.WorkerRestartErrorIntervalThresholdInMinutes); past that no more are started;
 * - a worker stops with the host: asked first, killed after 10 s (WorkerProcessCountOptions.ProcessShutdownTimeout).
 * Every worker gets the host process's environment, app settings included.
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { constants } from "node:os";
import { basename, extname, join } from "node:path";
import { AzureLogger, getLogLevel } from "@azure/logger";
import { logger } from "../../../src/logger";
import type {
  EntityBatchInput,
  EntityBatchResult,
  FunctionInvoker,
  InvocationKind,
  OrchestratorOutcome,
} from "./invocations";
import { fromWorkerError, type HostToWorker, type WorkerToHost } from "./protocol";

const STARTUP_TIMEOUT_IN_MS = 60_000;
const SHUTDOWN_TIMEOUT_IN_MS = 10_000;
const RESTART_ERROR_WINDOW_IN_MS = 30 * 60_000;

export interface WorkerPoolOptions {
  /** How many worker processes (>= 1). */
  count: number;
  /** The app module each worker loads. */
  modulePath: string;
  /** What a durable client input holds (the host's URLs and keys). */
  durableClientData: Record<string, unknown>;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** One worker process and the invocations it is running. */
interface Worker {
  child: ChildProcess;
  ready: boolean;
  running: Map<number, Pending>;
}

/** The host's WorkerProcessExitException: the worker died under its invocations. */
export class WorkerProcessExitError extends Error {
  override readonly name = "WorkerProcessExitException";
}

/**
 * The compiled worker (dist/...) when this file is compiled; otherwise (tests run the sources) the TypeScript
 * worker behind a bootstrap that compiles each .ts module as it is required (typescript's transpileModule).
 */
function workerEntry(): { script: string; execArgv: string[] } {
  if (extname(__filename) === ".js") return { script: join(__dirname, "workerMain.js"), execArgv: [] };
  const typescript = JSON.stringify(require.resolve("typescript"));
  const bootstrap = [
    `const ts = require(${typescript});`,
    `const fs = require("node:fs");`,
    `require.extensions[".ts"] = (module, filename) => {`,
    `  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022,`,
    `    esModuleInterop: true, inlineSourceMap: true };`,
    `  const output = ts.transpileModule(fs.readFileSync(filename, "utf8"), { fileName: filename, compilerOptions });`,
    `  module._compile(output.outputText, filename);`,
    `};`,
    `require(process.argv[1]);`,
  ].join("\n");
  return { script: join(__dirname, "workerMain.ts"), execArgv: ["-e", bootstrap] };
}

function exitMessage(code: number | null, signal: NodeJS.Signals | null): string {
  // A signal's exit code as a shell and .NET's Process.ExitCode report it on Linux: 128 + its number.
  const exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
  return `${basename(process.execPath)} exited with code ${exitCode} (0x${exitCode.toString(16).toUpperCase()})`;
}

export class WorkerPool implements FunctionInvoker {
  private readonly workers: Worker[] = [];
  private counter = 0;
  private nextInvocationId = 0;
  private stopping = false;
  private readonly exits: number[] = [];
  private readonly readyWaiters: (() => void)[] = [];

  private constructor(private readonly options: WorkerPoolOptions) {}

  /** Starts `count` workers and resolves once each has loaded the app (or rejects naming why one could not). */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    try {
      await Promise.all(Array.from({ length: options.count }, () => pool.startWorker()));
    } catch (error) {
      await pool.stop();
      throw error;
    }
    return pool;
  }

  /** Process ids of the running workers. */
  get pids(): number[] {
    return this.workers.flatMap((worker) => (worker.child.pid === undefined ? [] : [worker.child.pid]));
  }

  activity(name: string, input: string | undefined): Promise<string> {
    return this.dispatch("activity", name, input) as Promise<string>;
  }

  orchestrator(name: string, bindingInput: Record<string, unknown>): Promise<OrchestratorOutcome> {
    return this.dispatch("orchestrator", name, bindingInput) as Promise<OrchestratorOutcome>;
  }

  entity(name: string, batch: EntityBatchInput): Promise<EntityBatchResult> {
    return this.dispatch("entity", name, batch) as Promise<EntityBatchResult>;
  }

  private async dispatch(kind: InvocationKind, name: string, payload: unknown): Promise<unknown> {
    const worker = await this.nextWorker();
    const id = ++this.nextInvocationId;
    return new Promise((resolve, reject) => {
      worker.running.set(id, { resolve, reject });
      this.send(worker, { type: "invoke", id, kind, name, payload });
    });
  }

  /** RpcFunctionInvocationDispatcherLoadBalancer: round robin over the initialized workers; waits for one. */
  private async nextWorker(): Promise<Worker> {
    for (;;) {
      if (this.stopping) throw new Error("the local host is stopping: no worker process takes invocations");
      const ready = this.workers.filter((worker) => worker.ready);
      if (ready.length === 1) return ready[0]!;
      if (ready.length > 1) return ready[++this.counter % ready.length]!;
      if (this.workers.length === 0) throw new Error("no worker process is left (too many exited)");
      await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    }
  }

  private send(worker: Worker, message: HostToWorker): void {
    worker.child.send(message, (error) => {
      // The channel closed under the message: the exit handler fails what the worker was running.
      if (error) logger.verbose(`local host: message to worker ${worker.child.pid} not sent: ${error.message}`);
    });
  }

  private startWorker(): Promise<void> {
    const { script, execArgv } = workerEntry();
    const child = fork(script, [], { execArgv, serialization: "advanced", stdio: "inherit", env: process.env });
    const worker: Worker = { child, ready: false, running: new Map() };
    this.workers.push(worker);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`local host: worker ${child.pid} did not load ${this.options.modulePath} within 60 s`));
        child.kill("SIGKILL");
      }, STARTUP_TIMEOUT_IN_MS);
      const started = (error?: Error): void => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      child.on("message", (message: WorkerToHost) => this.onMessage(worker, message, started));
      child.once("exit", (code, signal) => {
        started(new Error(`local host: worker ${child.pid} ${exitMessage(code, signal)} while loading the app`));
        this.onExit(worker, code, signal);
      });
      this.send(worker, {
        type: "init",
        modulePath: this.options.modulePath,
        durableClientData: this.options.durableClientData,
        logLevel: getLogLevel(),
      });
    });
  }

  private onMessage(worker: Worker, message: WorkerToHost, started: (error?: Error) => void): void {
    switch (message.type) {
      case "ready":
        worker.ready = true;
        started();
        for (const wake of this.readyWaiters.splice(0)) wake();
        return;
      case "initFailed":
        started(new Error(`local host: a worker could not load ${this.options.modulePath}: ${message.error.message}`));
        return;
      case "log":
        AzureLogger.log(message.text);
        return;
      case "result":
      case "error": {
        const pending = worker.running.get(message.id);
        worker.running.delete(message.id);
        if (message.type === "result") pending?.resolve(message.value);
        else pending?.reject(fromWorkerError(message.error));
        return;
      }
      case "stopped":
        return;
    }
  }

  private onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    this.workers.splice(this.workers.indexOf(worker), 1);
    const error = new WorkerProcessExitError(exitMessage(code, signal));
    for (const pending of worker.running.values()) pending.reject(error);
    worker.running.clear();
    if (this.stopping || !worker.ready) return;
    logger.warning(`local host: worker process ${worker.child.pid} ${error.message}; starting another`);
    this.restart();
  }

  /** DisposeAndRestartWorkerChannel: a new worker, unless too many exited lately (then the rest carry on). */
  private restart(): void {
    const now = Date.now();
    this.exits.push(now);
    while (this.exits.length > 0 && now - this.exits[0]! > RESTART_ERROR_WINDOW_IN_MS) this.exits.shift();
    if (this.exits.length > 3 * this.options.count) {
      logger.error(`local host: ${this.exits.length} worker processes exited within 30 minutes; none is restarted`);
      for (const wake of this.readyWaiters.splice(0)) wake();
      return;
    }
    this.startWorker().catch((error: unknown) => {
      logger.error(`local host: a restarted worker failed: ${String(error)}`);
      for (const wake of this.readyWaiters.splice(0)) wake();
    });
  }

  /** Asks every worker to stop (it runs the appTerminate hooks), kills those still running after 10 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.readyWaiters.splice(0)) wake();
    await Promise.all(
      [...this.workers].map(async (worker) => {
        const { child } = worker;
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, "exit");
        if (child.connected) this.send(worker, { type: "stop" });
        const timer = setTimeout(() => child.kill("SIGKILL"), SHUTDOWN_TIMEOUT_IN_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
