/**
 * Bench work in child processes, so that what is measured has its own CPU and heap: the Event Hubs
 * endpoint runs apart like the remote service it stands for, and the ingestion's peak RSS is its own
 * process's (`resourceUsage().maxRSS`), not the bench's (which holds Azurite's in-memory blobs).
 * One request at a time over IPC: `{ id, request }` in, `{ id, reply }` or `{ id, error }` out.
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";

interface ReplyMessage {
  id: number;
  reply?: unknown;
  error?: string;
}

export interface BenchChild<Request, Reply> {
  readonly pid: number | undefined;
  request(request: Request): Promise<Reply>;
  /** Asks the child to exit and waits for it (kills it by pid after `graceInMs`). */
  stop(graceInMs?: number): Promise<void>;
}

/** Forks `scriptPath` (a compiled bench/*Process.js) with extra Node flags; resolves once it is connected. */
export function forkBenchChild<Request, Reply>(
  scriptPath: string,
  execArgv: readonly string[] = [],
): BenchChild<Request, Reply> {
  const child: ChildProcess = fork(scriptPath, [], {
    execArgv: [...execArgv],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let nextId = 0;
  const waiting = new Map<number, { resolve: (reply: unknown) => void; reject: (error: Error) => void }>();
  child.on("message", (message: ReplyMessage) => {
    const waiter = waiting.get(message.id);
    if (!waiter) return;
    waiting.delete(message.id);
    if (message.error !== undefined) waiter.reject(new Error(`${scriptPath}: ${message.error}`));
    else waiter.resolve(message.reply);
  });
  child.on("exit", (code, signal) => {
    for (const waiter of waiting.values())
      waiter.reject(new Error(`${scriptPath} exited (code ${code}, signal ${signal}) before replying`));
    waiting.clear();
  });
  return {
    pid: child.pid,
    request(request: Request): Promise<Reply> {
      const id = ++nextId;
      return new Promise<Reply>((resolve, reject) => {
        waiting.set(id, { resolve: (reply) => resolve(reply as Reply), reject });
        child.send({ id, request });
      });
    },
    async stop(graceInMs = 5000): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.disconnect();
      const timer = setTimeout(() => child.kill("SIGKILL"), graceInMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The child side: answers each request with `handle`, exits when the parent disconnects. */
export function serveBenchRequests<Request, Reply>(
  handle: (request: Request) => Promise<Reply>,
  onDisconnect: () => Promise<void> = async () => undefined,
): void {
  process.on("message", (message: { id: number; request: Request }) => {
    handle(message.request).then(
      (reply) => process.send?.({ id: message.id, reply }),
      (error: unknown) =>
        process.send?.({
          id: message.id,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        }),
    );
  });
  process.on("disconnect", () => {
    void onDisconnect().finally(() => process.exit(0));
  });
}
