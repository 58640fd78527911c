/**
 * A sample Functions app exercising every feature of the local host. Tests register it with
 * `startLocalHost({ app: { register: registerSampleApp } })`.
 */
import { app, type HttpRequest, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { EntityContext, OrchestrationContext, OrchestrationHandler } from "durable-functions";

/** Lets a test change orchestrator code between replays (to provoke non-determinism). */
export const sampleSwitches = { divergentActivity: false };

/** Holds the `gated` activity until the test opens it. */
export const gate = createGate();

function createGate() {
  let open: () => void = () => undefined;
  let entered: () => void = () => undefined;
  const state = {
    opened: new Promise<void>((resolve) => (open = resolve)),
    entered: new Promise<void>((resolve) => (entered = resolve)),
    open: () => open(),
    markEntered: () => entered(),
  };
  return state;
}

/** What the app's start and terminate hooks saw, in order. */
export const hookLog: string[] = [];

/** Activities of `slowEcho` running now, and the most seen at once. */
export const activityLoad = { inFlight: 0, maxInFlight: 0 };

export const names = {
  hello: "sayHello",
  slowEcho: "slowEcho",
  gated: "gated",
  gatedStep: "gatedStep",
  longSleep: "longSleep",
  alwaysFails: "alwaysFails",
  sequence: "helloSequence",
  fanOut: "fanOut",
  retrying: "retryingHello",
  parent: "parentOrchestration",
  timer: "sleepThenHello",
  approval: "approval",
  counterUser: "counterUser",
  countdown: "countdown",
  divergent: "divergent",
  failing: "failingOrchestration",
  counter: "counter",
  audit: "audit",
  starter: "starter",
} as const;

const helloSequence: OrchestrationHandler = function* (context: OrchestrationContext) {
  const cities = (context.df.getInput() as string[] | undefined) ?? ["Tokyo", "Seattle", "London"];
  const greetings: string[] = [];
  for (const city of cities) {
    greetings.push((yield context.df.callActivity(names.hello, city)) as string);
    context.df.setCustomStatus({ done: greetings.length });
  }
  return greetings;
};

export function registerSampleApp(): void {
  app.hook.appStart(() => {
    hookLog.push("start");
  });
  app.hook.appTerminate(() => {
    hookLog.push("terminate");
  });

  df.app.activity(names.hello, { handler: (name: string) => `Hello ${name}` });
  df.app.activity(names.slowEcho, {
    handler: async (input: string) => {
      activityLoad.inFlight++;
      activityLoad.maxInFlight = Math.max(activityLoad.maxInFlight, activityLoad.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      activityLoad.inFlight--;
      return input;
    },
  });
  df.app.activity(names.gatedStep, {
    handler: async () => {
      gate.markEntered();
      await gate.opened;
      return "from the gate";
    },
  });
  df.app.orchestration(names.gated, function* (context) {
    return (yield context.df.callActivity(names.gatedStep)) as string;
  });
  df.app.activity(names.alwaysFails, {
    handler: (input: string) => {
      throw new RangeError(`no luck with ${input}`);
    },
  });

  df.app.orchestration(names.sequence, helloSequence);

  df.app.orchestration(names.fanOut, function* (context) {
    const input = context.df.getInput() as number | { count: number; activity: string };
    const { count, activity } = typeof input === "number" ? { count: input, activity: names.hello } : input;
    const tasks = Array.from({ length: count }, (_, i) => context.df.callActivity(activity, `#${i}`));
    return (yield context.df.Task.all(tasks)) as string[];
  });

  df.app.orchestration(names.retrying, function* (context) {
    const { activity, attempts } = context.df.getInput() as { activity: string; attempts: number };
    const retry = new df.RetryOptions(60_000, attempts);
    return (yield context.df.callActivityWithRetry(activity, retry, "retry")) as string;
  });

  df.app.orchestration(names.parent, function* (context) {
    const first = (yield context.df.callSubOrchestrator(
      names.sequence,
      ["Paris"],
      `${context.df.instanceId}-child`,
    )) as string[];
    const second = (yield context.df.callSubOrchestratorWithRetry(names.sequence, new df.RetryOptions(1000, 2), [
      "Rome",
    ])) as string[];
    let failure = "";
    try {
      yield context.df.callSubOrchestrator(names.failing);
    } catch (error) {
      failure = (error as Error).message;
    }
    return { first, second, failure };
  });

  df.app.orchestration(names.failing, function* (context) {
    yield context.df.callActivity(names.hello, "doomed");
    throw new TypeError("orchestrator gave up");
  });

  df.app.orchestration(names.timer, function* (context) {
    const started = context.df.currentUtcDateTime.toISOString();
    const delayInMs = (context.df.getInput() as number | undefined) ?? 3 * 3600_000;
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + delayInMs));
    const greeting = (yield context.df.callActivity(names.hello, "after the timer")) as string;
    return { started, woke: context.df.currentUtcDateTime.toISOString(), greeting };
  });

  // Longer than the extension's maximum short timer (6 days): the library chains 3-day timers.
  df.app.orchestration(names.longSleep, function* (context) {
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 10 * 24 * 3600_000));
    return context.df.currentUtcDateTime.toISOString();
  });

  df.app.orchestration(names.approval, function* (context) {
    const deadline = new Date(context.df.currentUtcDateTime.getTime() + 24 * 3600_000);
    const timeout = context.df.createTimer(deadline);
    const approval = context.df.waitForExternalEvent("approve");
    const winner = yield context.df.Task.any([approval, timeout]);
    if (winner === approval) {
      timeout.cancel();
      return { approvedBy: approval.result };
    }
    return { approvedBy: null };
  });

  df.app.orchestration(names.counterUser, function* (context) {
    const counter = new df.EntityId(names.counter, context.df.instanceId);
    yield context.df.callEntity(counter, "add", 5);
    context.df.signalEntity(counter, "add", 10);
    const value = (yield context.df.callEntity(counter, "get")) as number;
    let failure = "";
    try {
      yield context.df.callEntity(counter, "explode");
    } catch (error) {
      failure = (error as Error).message;
    }
    return { value, failure };
  });

  df.app.orchestration(names.countdown, function* (context) {
    const remaining = context.df.getInput() as number;
    yield context.df.callActivity(names.hello, `round ${remaining}`);
    if (remaining > 0) {
      context.df.continueAsNew(remaining - 1);
      return undefined;
    }
    return "lift-off";
  });

  df.app.orchestration(names.divergent, function* (context) {
    yield context.df.callActivity(sampleSwitches.divergentActivity ? names.alwaysFails : names.hello, "x");
    yield context.df.waitForExternalEvent("continue");
    return "done";
  });

  df.app.entity(names.counter, (context: EntityContext<number>) => {
    const value = context.df.getState(() => 0) ?? 0;
    switch (context.df.operationName) {
      case "add": {
        const amount = context.df.getInput<number>() ?? 0;
        context.df.setState(value + amount);
        context.df.signalEntity(new df.EntityId(names.audit, context.df.entityKey), "record", amount);
        break;
      }
      case "get":
        context.df.return(value);
        break;
      case "explode":
        context.df.setState(-1);
        throw new Error("counter exploded");
    }
  });

  df.app.entity(names.audit, (context: EntityContext<number[]>) => {
    const entries = context.df.getState(() => []) ?? [];
    context.df.setState([...entries, context.df.getInput<number>() ?? 0]);
  });

  // An entity that starts an orchestration through the durable client.
  df.app.entity(names.starter, {
    extraInputs: [df.input.durableClient()],
    // durable-functions awaits entity handlers (Entity.handle: `yield Promise.resolve(this.fn(context))`) though the
    // type says void.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    handler: async (context: EntityContext<string>) => {
      const client = df.getClient(context as unknown as InvocationContext);
      const instanceId = await client.startNew(names.sequence, {
        instanceId: `started-by-${context.df.entityKey}`,
        input: ["Oslo"],
      });
      context.df.setState(instanceId);
    },
  });

  df.app.client.http("startOrchestration", {
    route: "orchestrators/{name}",
    authLevel: "function",
    methods: ["POST"],
    handler: async (request: HttpRequest, client: df.DurableClient) => {
      const text = await request.text();
      const instanceId = await client.startNew(request.params.name, {
        instanceId: request.query.get("instanceId") ?? undefined,
        input: text ? (JSON.parse(text) as unknown) : undefined,
      });
      return client.createCheckStatusResponse(request, instanceId);
    },
  });

  // Client operations over HTTP, for tests of the durable client against the host.
  df.app.client.http("manage", {
    route: "manage/{operation}/{id}",
    methods: ["POST", "GET"],
    handler: async (request: HttpRequest, client: df.DurableClient) => {
      const { operation, id } = request.params;
      switch (operation) {
        case "status": {
          const status = await client.getStatus(id, { showHistory: true, showHistoryOutput: true });
          return { jsonBody: status };
        }
        case "raise":
          await client.raiseEvent(id, "approve", await request.json());
          return { status: 202 };
        case "terminate":
          await client.terminate(id, "stopped by test");
          return { status: 202 };
        case "purge":
          return { jsonBody: await client.purgeInstanceHistory(id) };
        case "signal":
          await client.signalEntity(new df.EntityId(names.counter, id), "add", 7);
          return { status: 202 };
        case "read":
          return { jsonBody: await client.readEntityState<number>(new df.EntityId(names.counter, id)) };
        default:
          return { status: 400, body: `unknown operation ${operation}` };
      }
    },
  });

  app.http("adminOnly", { route: "admin/ping", authLevel: "admin", handler: () => ({ body: "pong" }) });

  app.http("hello", {
    route: "hello/{name?}",
    methods: ["GET"],
    handler: (request: HttpRequest) => ({ jsonBody: { greeting: `Hello ${request.params.name ?? "world"}` } }),
  });

  df.app.client.eventGrid("onBlobCreated", {
    handler: async (event, client: df.DurableClient) => {
      const subject = String((event as { subject?: string }).subject ?? "");
      await client.startNew(names.sequence, { instanceId: `blob-${event.id}`, input: [subject] });
    },
  });

  // Counts deliveries per event id on the counter entity (to observe duplicate deliveries).
  df.app.client.eventGrid("countDeliveries", {
    handler: async (event, client: df.DurableClient) => {
      await client.signalEntity(new df.EntityId(names.counter, event.id), "add", 1);
    },
  });

  df.app.client.timer("everyFiveMinutes", {
    schedule: "0 */5 * * * *",
    handler: async (timer, client: df.DurableClient, context: InvocationContext) => {
      void timer;
      await client.startNew(names.fanOut, { input: 2, instanceId: `tick-${context.invocationId}` });
    },
  });
}
